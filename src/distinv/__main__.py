"""`python -m distinv`: the command line."""

from distinv.cli import main

raise SystemExit(main())

from distinv.cli import main

raise SystemExit(main())

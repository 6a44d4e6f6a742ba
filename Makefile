# Two commands on a fresh machine: `make book` and `make test`. Both build .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test unit smoke lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Execute every chapter with its defaults (reusing each cached run whose inputs did not change),
# then build the HTML book into _build/html. FORCE=1 executes every chapter again.
book: $(STAMP)
	$(BIN)/distinv book $(if $(FORCE),--force,)

# Lint, unit tests, every chapter at smoke size, nbval over the executed notebooks, the book from them.
test: lint unit smoke

unit: $(STAMP)
	$(BIN)/python -m pytest

# nbval reruns each executed notebook in its run folder; its metrics must come out the same.
smoke: $(STAMP)
	$(BIN)/distinv book --profile smoke --out _build/smoke
	$(BIN)/python tests/determinism.py snapshot _build/smoke/book-runs
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider _build/smoke/book-runs
	$(BIN)/python tests/determinism.py check _build/smoke/book-runs

# The package, the tests, the benchmarks, and each chapter's code cells (distinv.book.lint).
lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m distinv.book.lint

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Performance targets, as ratios measured in one run (not part of `make test`).
bench: $(STAMP)
	$(BIN)/python benchmarks/hull_bench.py --out _build/bench_hull.json
	$(BIN)/python benchmarks/physics_bench.py --out _build/bench_physics.json
	$(BIN)/python benchmarks/sweep_bench.py --out _build/bench_sweep.json

clean:
	rm -rf _build

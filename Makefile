# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEV := $(VENV)/.installed-dev
STAMP_RUN := $(VENV)/.installed

.PHONY: demo test lint reference bench clean browser fuzz
SUDO ?=

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	rm -rf demo-output/project
	$(BIN)/srma demo --out demo-output

# apt-get waits up to 10 minutes for the package lock (another install, unattended upgrades).
APT_GET := apt-get -o DPkg::Lock::Timeout=600

# The report tests open HTML in headless Chromium and the terminal tests run srma in
# tmux (Debian's chromium and tmux packages).
browser:
	@{ command -v chromium && command -v tmux; } >/dev/null 2>&1 || { \
		$(SUDO) $(APT_GET) update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) $(APT_GET) install -y -qq chromium tmux; }

# The store's tests run against SQLite and a real PostgreSQL server, which
# .ci/postgres.sh starts on loopback (installing Debian's postgresql if needed)
# and .ci/with-postgres.sh stops when the tests end, passed or failed; a server
# already running, or a given SRMA_TEST_POSTGRES_URL, is left alone.
test: $(STAMP_DEV) browser
	$(BIN)/ruff check src tests benchmarks
	SUDO=$(SUDO) bash .ci/with-postgres.sh $(BIN)/python -m pytest -q

# Many more hostile inputs than `make test` draws (docs/reliability.md): the
# hypothesis fuzz tests with SRMA_FUZZ_EXAMPLES cases each, then the campaigns
# that run the real srma command on freshly mutated files in subprocesses.
FUZZ_EXAMPLES ?= 2000
FUZZ_SEED ?= $(shell date +%s)
fuzz: $(STAMP_DEV)
	SRMA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_fuzz_import.py tests/test_fuzz_analysis.py
	PYTHONPATH=src $(BIN)/python tests/fuzz/import_campaign.py --cases 2000 --seed $(FUZZ_SEED)
	PYTHONPATH=src $(BIN)/python tests/fuzz/analysis_campaign.py --cases 1600 --seed $(FUZZ_SEED)

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# Regenerates the metafor fixtures; needs R with metafor, metadat and jsonlite
# (Debian: apt-get install r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite r-cran-psych r-cran-vcd).
reference:
	for script in tests/reference/*.R; do Rscript $$script tests/reference/fixtures || exit 1; done

bench: $(STAMP_DEV)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_reml_knha.py

clean:
	rm -rf $(VENV) demo-output build src/*.egg-info

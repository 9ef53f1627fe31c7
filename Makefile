# Everything a newcomer needs: `make run` serves the bank with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint lint-schema typecheck check migrate clean demo-app bench bench-api bench-soak bench-replica bench-token bench-fapi bench-callbacks bench-lists bench-transfers storm screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12) and "Python 3.12 or newer is needed (see .python-version)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Demo Bank on http://127.0.0.1:8000, and on http://localhost:8000 for passkeys (customers alice / bob, staff admin; password demo-pass-123)"
	@echo "with a worker and the scheduler of periodic jobs (Procfile; emails print here)"
	$(BIN)/honcho start -f Procfile

# Budget Buddy, the example third-party app, in its own virtualenv with its own requirements.
EXAMPLE := examples/budget_buddy
$(EXAMPLE)/.venv/.installed: $(EXAMPLE)/requirements.txt
	test -x $(EXAMPLE)/.venv/bin/python || $(PYTHON) -m venv $(EXAMPLE)/.venv
	$(EXAMPLE)/.venv/bin/pip install --quiet -r $(EXAMPLE)/requirements.txt
	touch $@

demo-app: $(EXAMPLE)/.venv/.installed
	@echo "Budget Buddy on http://127.0.0.1:8001 (start the bank with 'make run' first)"
	cd $(EXAMPLE) && .venv/bin/flask --app app run --host 127.0.0.1 --port 8001

# Benchmarks: PostgreSQL on 127.0.0.1 (BENCH_ADMIN_DATABASE_URL), loopback only, bounded.
# The whole performance suite (needs wrk and Redis): results for docs/performance.md. Then what
# FAPI 2.0 costs and how fast callbacks arrive (each on a fresh database of its own).
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.suite
	$(BIN)/python -m bench.transfers
	$(BIN)/python -m bench.api_floor
	$(BIN)/python -m bench.fapi
	$(BIN)/python -m bench.callbacks

# The API's reads against a minimal Django + DRF (+ toolkit) app of its own (bench/minimal/).
bench-api: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.api_floor

# Memory per worker after each kind of load, and its slope over 10 minutes of mixed traffic.
bench-soak: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.soak --minutes 10

# Read throughput with and without the read replica (makes one on 5433 first: tools/replica/start).
bench-replica: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	tools/replica/start
	$(BIN)/python -m bench.replica

bench-token: $(STAMP)
	$(BIN)/python -m bench.token_endpoint

bench-fapi: $(STAMP)
	$(BIN)/python -m bench.fapi

bench-callbacks: $(STAMP)
	$(BIN)/python -m bench.callbacks

bench-lists: $(STAMP)
	$(BIN)/python -m bench.api_lists

# Transfers in three shapes of contention against a bare locked transfer, and how long each holds the locks.
bench-transfers: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.transfers

# The full money-integrity run: 10,000 transfers by 16 clients through two server processes.
storm: $(STAMP)
	$(BIN)/python -m bench.transfer_storm --transfers 10000 --clients 16

# Pictures of every page, from the browser tests (PostgreSQL in DATABASE_URL, Debian's chromium).
screenshots: $(STAMP)
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: everything but the tests that start servers or a browser, or run storms.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Style, formatting, the import contracts in pyproject.toml (dependencies run one way), and the
# OpenAPI schema through Spectral (its `oas` rules, .spectral.yaml; Node.js and npm needed).
lint: $(STAMP) lint-schema
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

OPENAPI_LINT := tools/openapi-lint
$(OPENAPI_LINT)/node_modules/.installed: $(OPENAPI_LINT)/package-lock.json
	cd $(OPENAPI_LINT) && npm ci --no-audit --no-fund --silent
	touch $@

lint-schema: $(STAMP) $(OPENAPI_LINT)/node_modules/.installed
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file $(OPENAPI_LINT)/schema.yaml
	$(OPENAPI_LINT)/node_modules/.bin/spectral lint --quiet --fail-severity=warn --ruleset .spectral.yaml $(OPENAPI_LINT)/schema.yaml

typecheck: $(STAMP)
	$(BIN)/mypy .

check: lint typecheck test

clean:
	rm -rf $(VENV) $(EXAMPLE)/.venv db.sqlite3 staticfiles .pytest_cache .mypy_cache .ruff_cache

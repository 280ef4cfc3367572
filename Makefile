# One command each for the common jobs. `make demo` and `make test` set
# everything up themselves: a virtual environment in .venv (Python packages
# from PyPI), the renderer's npm packages, and — for the browser tests —
# Debian's Chromium and CJK fonts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RENDERER := src/showfloor/renderer
NODE_STAMP := $(RENDERER)/node_modules/.installed
VALIDATOR := src/showfloor/content/validator
VALIDATOR_STAMP := $(VALIDATOR)/node_modules/.installed
PORT ?= 8700

.PHONY: demo test lint unit bench setup browser postgres peers clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(NODE_STAMP): $(RENDERER)/package.json $(RENDERER)/package-lock.json
	cd $(RENDERER) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

$(VALIDATOR_STAMP): $(VALIDATOR)/package.json $(VALIDATOR)/package-lock.json
	cd $(VALIDATOR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(VALIDATOR_STAMP)

setup: $(STAMP) $(NODE_STAMP) $(VALIDATOR_STAMP)

browser:
	@sh scripts/ensure-browser.sh

postgres:
	@sh scripts/ensure-postgres.sh

peers:
	@sh scripts/ensure-peers.sh

demo: setup
	$(BIN)/showfloor check examples/drug-prevention
	$(BIN)/showfloor hall examples/drug-prevention --port $(PORT) --data .showfloor-data/hall

lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

unit: setup browser postgres peers
	SHOWFLOOR_CHECK_TREE=1 $(BIN)/pytest -q --durations=30

test: lint unit

bench: setup browser postgres peers
	$(BIN)/python bench/engine_steps.py
	$(BIN)/python bench/check_large.py
	$(BIN)/python bench/simulate_rate.py
	$(BIN)/python bench/station_latency.py
	$(BIN)/python bench/drivers_latency.py
	$(BIN)/python bench/station_startup.py
	$(BIN)/python bench/station_memory.py
	$(BIN)/python bench/hub_fleet.py
	$(BIN)/python bench/kiosk_recovery.py
	$(BIN)/python bench/kiosk_soak.py --minutes 10
	$(BIN)/python bench/rollout.py --stations 100
	$(BIN)/python bench/rollout.py --stations 20 --backend postgresql --switches 0
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/region_year.py --halls 3 --replicate 100
	$(BIN)/python bench/ask.py

clean:
	rm -rf $(VENV) $(RENDERER)/node_modules $(VALIDATOR)/node_modules .mypy_cache .pytest_cache .ruff_cache .hypothesis

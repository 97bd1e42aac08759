# takedowns: `make run` (refresh every source, open the dashboard), `make test`.
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
TD      = $(VENV)/bin/takedowns
DB     ?= data/takedowns.duckdb
PORT   ?= 8501
MIRROR ?=
SHARED ?= ../shared

.PHONY: venv run refresh dashboard demo test test-long bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# Refresh all sources (from the network, or from MIRROR=DIR offline), then
# open the dashboard even if a source failed: the others are still loaded.
run: venv
	-$(TD) refresh --db $(DB) $(if $(MIRROR),--mirror $(MIRROR) --host-delay 0)
	$(TD) dashboard --db $(DB) --port $(PORT)

refresh: venv
	$(TD) refresh --db $(DB) $(if $(MIRROR),--mirror $(MIRROR) --host-delay 0)

dashboard: venv
	$(TD) dashboard --db $(DB) --port $(PORT)

# Everything in ../shared: the older edition, then the newest, then the
# archived files of import-only sources; then the dashboard.
demo: venv
	$(PY) -m scrapers.demo --db $(DB) --shared $(SHARED)
	$(TD) dashboard --db $(DB) --port $(PORT)

test: venv
	$(PY) -m pytest -q -p no:cacheprovider

test-long: venv
	TAKEDOWNS_LONG_FUZZ=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py

bench: venv
	$(PY) bench/run.py --shared $(SHARED)

clean:
	rm -rf $(VENV) data build *.egg-info

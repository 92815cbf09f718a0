# Two commands on a fresh machine (see README):
#   make data   - create the environment (.venv) if needed, then build every dataset (dvc repro)
#   make test   - create the environment if needed, then run the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: data test env benchmarks

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

data: env
	dvc repro

test: env
	pytest -q

benchmarks: env
	for b in benchmarks/*.py; do echo "== $$b"; python $$b || exit 1; done

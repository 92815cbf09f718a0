# Two commands on a fresh machine (see README):
#   make data   - create the environment (.venv) if needed, pull what the DVC remote has, build the rest
#   make test   - create the environment if needed, then run the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: data test env benchmarks check-python

env: check-python $(VENV)/.installed

# Stop early, with the fix, when Python 3.11 is missing or .venv was made by another Python
# (pip would fail later with a resolver error about torch or zarr).
check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "make: $(PYTHON) not found. neurodata needs Python 3.11 (its torch wheel and zarr <3.2 pin it);"; \
		echo "      install it, or run make PYTHON=/path/to/python3.11."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
		echo "make: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); neurodata needs 3.11."; exit 1; }
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		echo "make: $(VENV) was made by Python $$($(BIN)/python -c 'import platform; print(platform.python_version())'), not 3.11."; \
		echo "      Remove it (rm -rf $(VENV)) and run make again."; exit 1; fi

$(VENV)/.installed: pyproject.toml constraints.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# Pull every output the remote has (nothing happens without a remote), then build what is missing.
data: env
	@if [ -n "$$(dvc remote list)" ]; then \
		dvc pull --allow-missing || echo "make: dvc pull failed (remote unreachable?): building locally instead"; \
	fi
	dvc repro --all-pipelines

test: env
	pytest -q -n auto

benchmarks: env
	for b in benchmarks/*.py; do echo "== $$b"; python $$b || exit 1; done

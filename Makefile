# tagwise: `make serve` and `make test` are all a new user needs.
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install serve test test-fast sdk-venvs bench clean

install: $(VENV)/.installed

# torch goes first and stays pinned (constraints.txt): a newer one would pull gigabytes of CUDA.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test]'
	touch $@

sdk-venvs: .venv-sdk-runtime/.installed .venv-sdk-authoring/.installed

# The two official Azure SDKs conflict, so each gets its own environment.
.venv-sdk-%/.installed: tests/sdk/requirements-%.txt
	$(PYTHON) -m venv .venv-sdk-$*
	.venv-sdk-$*/bin/pip install -q -r $<
	touch $@

serve: install
	$(VENV)/bin/tagwise serve

test: install sdk-venvs
	$(VENV)/bin/python -m pytest --durations=15

test-fast: install
	$(VENV)/bin/python -m pytest -x -q --ignore=tests/sdk

bench: install
	$(VENV)/bin/python -m benchmarks.accuracy

clean:
	rm -rf $(VENV) .venv-sdk-runtime .venv-sdk-authoring

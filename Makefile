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

# the suite on TEST_WORKERS processes (a file stays on one, with its fixtures), then the tests that time things, alone;
# both parts run, and make test fails if either did
TEST_WORKERS ?= 2
test: install sdk-venvs
	status=0; \
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial" --durations=15 || status=$$?; \
	$(VENV)/bin/python -m pytest -m serial --durations=5 || status=$$?; \
	exit $$status

test-fast: install
	$(VENV)/bin/python -m pytest -x -q --ignore=tests/sdk

bench: install
	$(VENV)/bin/python -m benchmarks.accuracy

clean:
	rm -rf $(VENV) .venv-sdk-runtime .venv-sdk-authoring

# Everyday jobs.  Every target sets up what it needs from nothing: a virtualenv in .venv with the
# package and its test/bench extras, the compiled speedups, and the Node peers (npm ci).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-pure deps bench bench-parser bench-e2e build lint fuzz clean

demo: build node
	@echo "==> the demo: a local python-socketio server, driven by sioclient"
	$(PY) examples/demo.py

test: build node deps
	@echo "==> the test suite"
	$(PY) -m pytest -q

test-pure: $(STAMP) node deps
	SIOCLIENT_NO_EXTENSIONS=1 $(PY) -m pytest -q

bench: bench-parser bench-e2e

bench-parser: build node
	$(PY) benchmarks/parser.py

# the report as JSON and the ratios as PNG bar charts, in build/bench
bench-e2e: build node
	$(PY) benchmarks/e2e.py --json build/bench/e2e.json --png build/bench/e2e.png

lint: $(STAMP)
	$(VENV)/bin/ruff check sioclient tests benchmarks examples setup.py
	$(VENV)/bin/ruff format --check sioclient tests benchmarks examples setup.py
	$(VENV)/bin/mypy

# Each harness runs FUZZ_TIME seconds on the compiled and pure twins at once (fuzzing/README.md);
# the corpora grow under build/fuzz-corpus, crashes land in build/fuzz-artifacts.
FUZZ_TIME ?= 30
FUZZERS := sioparser jsonparser msgpackparser eio session wsframe

fuzz: build
	$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q -e ".[fuzz]"
	set -e; for f in $(FUZZERS); do \
		echo "==> fuzzing/fuzz_$$f.py ($(FUZZ_TIME) s)"; \
		$(PY) fuzzing/fuzz_$$f.py -max_total_time=$(FUZZ_TIME) -timeout=10 -print_final_stats=1; \
	done

$(STAMP): pyproject.toml setup.py
	@echo "==> creating the virtualenv $(VENV) and installing sioclient with its extras"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q "Cython>=3.0.10"
	$(PY) -m pip install -q -e ".[test,bench]"
	touch $(STAMP)

# The compiled twins are rebuilt from the current sources every time (a few seconds), so that a
# stale extension can never hide behind an edited .py.  A build failure is an error here.
build: $(STAMP)
	@echo "==> compiling the speedups (Cython)"
	SIOCLIENT_REQUIRE_EXTENSIONS=1 $(PY) setup.py -q build_ext --inplace

node: tests/node/node_modules/.package-lock.json

# Programs the tests run besides Node, from the distribution's packages when one is missing (CI is
# a clean Debian machine; run as root there): tinyproxy (the HTTP proxy of the proxy tests), nginx
# and haproxy (the reverse proxies of tests/test_interop_servers.py).  Debian's `nginx` package is
# the plain server (`nginx-light` is only a transitional name for it); the tests run each binary
# themselves, in the foreground; a service the package may have started is stopped again.
DEB_PROGRAMS := tinyproxy nginx haproxy

deps:
	@missing=; for p in $(DEB_PROGRAMS); do \
		command -v $$p >/dev/null || test -x /usr/sbin/$$p || test -x /usr/bin/$$p || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "==> installing$$missing (apt-get)"; \
		if command -v apt-get >/dev/null; then \
			SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
			$$SUDO apt-get update -q && \
			$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing && \
			for p in $$missing; do \
				$$SUDO invoke-rc.d $$p stop >/dev/null 2>&1 || true; \
			done; \
		else \
			echo "missing:$$missing, and there is no apt-get: install them by hand" >&2; exit 1; \
		fi; \
	fi

tests/node/node_modules/.package-lock.json: tests/node/package.json tests/node/package-lock.json
	@echo "==> installing the Node peers (npm ci in tests/node)"
	npm ci --prefix tests/node --no-audit --no-fund
	touch $@

clean:
	rm -rf build $(VENV) tests/node/node_modules
	find sioclient -name '*.so' -delete

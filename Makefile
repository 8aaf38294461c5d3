# losstopo: two commands do everything on a fresh Debian 12 machine.
#   make demo       - set up, train the default digits model, compute and analyse its landscape
#   make test       - set up, run the whole test suite (the import rules included)
#   make test-fast  - the fast tier: everything not marked slow (under 3 minutes here)
# Set-up is idempotent: a second run installs nothing and starts within seconds.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SYSTEM_PYTHON := /usr/bin/python3
# Run-time packages (with their recommended packages, as tested) and build-only packages (without:
# paraview-dev's recommends would pull ~280 MB, a systemd upgrade among them).
DEBIAN_PACKAGES := paraview python3-paraview xvfb xauth imagemagick
DEBIAN_BUILD_PACKAGES := paraview-dev cmake g++
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The CPU build of torch lies on local disk on this kind of machine.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
STAMP := $(VENV)/.losstopo-installed
OUT ?= demo
PYTEST_ARGS ?=
# numba's on-disk cache outside the source tree, so installed and editable copies both reuse compiled code
export NUMBA_CACHE_DIR ?= $(HOME)/.cache/losstopo/numba

# $(call apt_install,PACKAGES,OPTIONS): install the missing ones among PACKAGES.
define apt_install
missing=""; for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
  echo "installing Debian packages:$$missing"; \
  $(SUDO) apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(2) $$missing; \
fi
endef

.PHONY: setup system demo test test-fast bench gui lint statefiles clean

setup: system $(STAMP)

# Debian packages: installed only when one is missing.
system:
	@$(call apt_install,$(DEBIAN_PACKAGES),)
	@$(call apt_install,$(DEBIAN_BUILD_PACKAGES),--no-install-recommends)

$(PY):
	$(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)

# Re-runs only when pyproject.toml or constraints.txt changes. constraints.txt pins the exact versions
# tested here; pyproject.toml only states the ranges that work.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check $(FIND_LINKS) -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check $(FIND_LINKS) -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/losstopo demo --out $(OUT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run_all.py

gui: setup
	$(VENV)/bin/losstopo paraview

lint: setup
	$(PY) -m ruff check python tests bench
	$(VENV)/bin/lint-imports

# The .pvsm states for a ParaView with TTK but without losstopo, generated from pipelines.py with the TTK
# losstopo finds (`losstopo doctor`): statefiles/<state>_ttk-<tag>.pvsm, run once per TTK generation
# (ttk_names.py); tests/paraview/test_statefiles.py checks them for drift byte by byte.
statefiles: setup
	$(VENV)/bin/losstopo render --make-statefiles --out statefiles

clean:
	rm -rf $(VENV) build demo .pytest_cache

# Two commands do everything on a fresh clone:
#   make verify   -> creates .venv, installs, verifies every claim, writes figures + report
#   make test     -> creates .venv, installs, runs the whole test suite
#   make docs     -> the documentation site in docs/_build/html (warnings are errors)
#
# torch: TORCH_SPEC is installed only when the venv has no torch yet. The default is the
# CPU build (torch==2.13.0), so set-up never pulls multi-GB CUDA wheels. To use your own
# CUDA build:  make verify TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu124"
# or install torch into .venv yourself first (any torch>=2.1 is kept as it is).

PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
BUDGET      ?= standard
TEST_JOBS   ?= 2
FIG_JOBS    ?= 2
VERIFY_JOBS ?= 2
SEED        ?= 0
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed

.PHONY: verify test figures bench install clean docs browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[gpu,test,docs]"
	touch $(STAMP)

install: $(STAMP)

verify: $(STAMP)
	$(BIN)/claimcheck verify --budget $(BUDGET) --seed $(SEED) --jobs $(VERIFY_JOBS) --json reports/verify.json
	$(BIN)/claimcheck figures --out figures --jobs $(FIG_JOBS)

# pytest-xdist: TEST_JOBS worker processes (the build machines have 2 cores), tests handed
# out a whole module at a time (--dist loadfile: a module-scoped fixture, e.g. one smoke run shared
# by several tests, runs once, not once per worker), longest modules first (tests/conftest.py).
# Measured on a quiet 2-core box: 141 s wall against 155 s with --dist load. TEST_JOBS=0: one process.
#
# PYTHONDONTWRITEBYTECODE is emptied for the run (some machines, these build boxes among them, set it):
# otherwise every worker and every subprocess a test starts compiles claimcheck and pytest rewrites
# every test module again (collection 10.2 -> 5.9 CPU s a worker once the caches exist; the
# __pycache__ folders are git-ignored).
test: $(STAMP) browser
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) --dist loadfile

# The HTML report is tested in a real headless browser (tests/test_report_browser.py). Install
# Debian's chromium when it is missing and apt can be used (root, apt-get present); otherwise
# say loudly that the browser test will be skipped. Never fails the build by itself.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the HTML report test (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "WARNING: apt-get could not install chromium: the HTML report browser test will be SKIPPED"; \
	  else \
	    echo "WARNING: no chromium and no usable apt-get: the HTML report browser test will be SKIPPED"; \
	  fi; }

# Documentation site: Sphinx, warnings are errors; the catalogue embeds the figures drawn first.
docs: $(STAMP) figures
	CLAIMCHECK_DOCS_FIGURES=$(CURDIR)/figures $(BIN)/python -m sphinx -E -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

figures: $(STAMP)
	$(BIN)/claimcheck figures --out figures --jobs $(FIG_JOBS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) reports figures .pytest_cache .hypothesis docs/_build .claimcheck-cache

# The two commands of the README:
#   make        set up .venv (pinned requirements, the bubblewrap sandbox) and run the demo:
#               release every assignment, grade the sample submissions, feedback, grade table
#   make test   run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: all demo test setup sandbox bench
all: demo

setup: $(VENV)/installed
$(VENV)/installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Grading kernels run inside bubblewrap (Debian package `bubblewrap`). Without
# it the kit still grades, with rlimits only, and warns loudly for every notebook.
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } || \
	  echo "WARNING: bubblewrap is not installed and cannot be installed here (sudo apt-get install bubblewrap);" \
	       "submissions will be graded WITHOUT the sandbox"

demo: setup sandbox
	$(BIN)/python -m autograder demo

test: setup sandbox
	$(BIN)/python -m pytest

bench: setup sandbox
	$(BIN)/python benchmarks/notebook_times.py
	$(BIN)/python benchmarks/grading_overhead.py
	$(BIN)/python benchmarks/fashion_epoch.py

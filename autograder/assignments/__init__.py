"""Per-assignment instructor material: hidden tests and the bug bank.

Each assignment folder ``solutions/<id>/`` has a package here named
``a<id>`` (``01_numpy`` -> ``a01_numpy``) with two modules:

* ``hidden_tests.py``: ``TESTS = {test cell grade_id: HiddenTest(...)}``;
* ``bug_bank.py``: ``BUGS = [Bug(...), ...]``, plausible wrong answers that
  the test suite grades end to end, each of which must lose points;

and, in its ``__init__.py``, ``TIME_BUDGET``: the wall-clock seconds one graded
notebook may take (SandboxedExecute.notebook_timeout applies where it is absent).
"""

from __future__ import annotations

import importlib

from ..cases import HiddenTest


def _module(assignment_id: str, name: str):
    return importlib.import_module(f"{__name__}.a{assignment_id}.{name}")


def hidden_tests(assignment_id: str) -> dict[str, HiddenTest]:
    """The hidden tests of an assignment, keyed by test-cell grade_id."""
    return _module(assignment_id, "hidden_tests").TESTS


def references(assignment_id: str) -> dict:
    """Graded function name -> the independent reference its hidden expectations are computed with
    (``REFERENCES`` in hidden_tests.py; tests/test_visible_checks.py holds the visible checks to it)."""
    return getattr(_module(assignment_id, "hidden_tests"), "REFERENCES", {})


def time_budget(assignment_id: str) -> float | None:
    """Seconds one graded notebook of the assignment may take, or None if it sets no budget."""
    budget = getattr(importlib.import_module(f"{__name__}.a{assignment_id}"), "TIME_BUDGET", None)
    return float(budget) if budget is not None else None


def bug_bank(assignment_id: str) -> list:
    """The assignment's bug bank (a list of autograder.submissions.Bug)."""
    return _module(assignment_id, "bug_bank").BUGS

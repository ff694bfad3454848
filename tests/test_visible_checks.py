"""The visible checks and the hidden tests agree: both come from one independent reference.

Each assignment's hidden_tests.py lists in ``REFERENCES`` the reference every hidden expectation
of a function is computed with. Run the notebook's visible checks with those references standing
in for the student's answers: every check must pass, so a visible check cannot expect another
convention (mean or sum, the value at 0, a dtype) than the hidden tests, now or after an edit.
Then the other direction: a reference that gets a convention wrong makes some visible check fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder import selftest
from autograder.assignments import references
from autograder.course import Course
from conftest import NOTEBOOKS, ROOT

KIT = Course(ROOT)




@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_the_visible_checks_pass_with_the_hidden_references_as_answers(aid, notebook):
    stand_ins = references(aid)
    assert stand_ins, f"hidden_tests.py of {aid} lists no REFERENCES"
    errors = selftest.visible_checks(KIT, aid, notebook, stand_ins)
    checked = [gid for gid in errors if gid.endswith("_basic")]
    assert checked, "no visible check ran"
    assert {gid: e for gid, e in errors.items() if e} == {}


def test_a_reference_with_another_convention_fails_a_visible_check():
    """standardize with the sample std (ddof=1): the visible check on [[1, 5], [3, 5]] must notice."""
    def sample_std(X):
        X = np.asarray(X, dtype=float)
        sigma = X.std(axis=0, ddof=1)
        return (X - X.mean(axis=0)) / np.where(sigma > 0, sigma, 1.0)

    stand_ins = {**references("01_numpy"), "standardize": sample_std}
    errors = selftest.visible_checks(KIT, "01_numpy", "01_numpy", stand_ins)
    assert errors["test_standardize_basic"].startswith("AssertionError")
    assert [gid for gid, e in errors.items() if e] == ["test_standardize_basic"]

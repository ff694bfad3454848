"""Source rules cannot be dodged, and honest solutions keep them: fast unit tests, no nbgrader.

Each dodge is the solution notebook with only the rule-bound answer replaced
(and, where the dodge needs it, one extra cell), read by the real
:meth:`Answers.of` and :func:`check_rules`, as ScoreHiddenTests reads them.
tests/hostile.py grades three of them end to end.
"""

from __future__ import annotations

import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import assignments
from autograder.course import Course
from autograder.rules import Answers, check_rules
from autograder.submissions import fill_release, solution_answers
from conftest import ASSIGNMENTS, ROOT

KIT = Course(ROOT)


def answers_of(aid: str, replace: dict[str, str] | None = None, extra: str = "") -> Answers:
    """The solution of ``aid`` with some answers replaced and an extra cell after the imports."""
    (notebook,) = KIT.notebooks(aid)
    sources = {**solution_answers(KIT, aid, notebook), **{g: textwrap.dedent(s) for g, s in (replace or {}).items()}}
    nb = fill_release(KIT, aid, notebook, sources)
    if extra:
        nb.cells.insert(2, new_code_cell(textwrap.dedent(extra)))
    return Answers.of(nb, nbformat.read(KIT.release_notebook(aid, notebook), as_version=4))


def broken(aid: str, answers: Answers) -> dict[str, str]:
    """Rule-bound answer grade_id -> the reason it breaks its rule, for every rule of the assignment."""
    out = {}
    for test in assignments.hidden_tests(aid).values():
        for gid in dict.fromkeys((*test.no_loops_in, *test.banned)):
            reason = check_rules(gid, answers, gid in test.no_loops_in, test.banned.get(gid, ()))
            if reason:
                out[gid] = reason
    return out


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_the_solutions_keep_every_rule(aid):
    assert broken(aid, answers_of(aid)) == {}


def test_an_honest_extra_cell_changes_nothing():
    extra = "import numpy as np\nfrom helpers import show_images\nscratch = np.arange(3)"
    assert broken("01_numpy", answers_of("01_numpy", extra=extra)) == {}


ROTATE = "def rotate90(img, k=1):\n    img = np.asarray(img)\n    return {}\n"
PAIRWISE = "def pairwise_sq_dists(X, Y):\n    X, Y = np.asarray(X, float), np.asarray(Y, float)\n{}\n"
SIGN = "def sign(z):\n    z = np.asarray(z, dtype=np.float64)\n    return {}\n"

DODGES = {  # name: (assignment, answer grade_id, the answer, an extra cell, what the reason must say)
    "getattr": ("01_numpy", "rotate90", ROTATE.format('getattr(np, "rot" + "90")(img, k)'), "", "uses getattr"),
    "np.__dict__": ("01_numpy", "rotate90", ROTATE.format('np.__dict__["rot90"](img, k)'), "", "uses __dict__"),
    "import alias": ("01_numpy", "rotate90", "from numpy import rot90 as turn\n" + ROTATE.format("turn(img, k)"),
                     "", "uses rot90"),
    "importlib": ("01_numpy", "rotate90", "import importlib\n" + ROTATE.format(
        'importlib.import_module("numpy").rot90(img, k)'), "", "uses importlib"),
    "other module": ("01_numpy", "rotate90", "import scipy.ndimage\n" + ROTATE.format(
        "scipy.ndimage.rotate(img, 90 * k)"), "", "imports scipy.ndimage"),
    "exec": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format(
        '    scope = {"X": X, "Y": Y}\n    exec("D = [[((x - v) ** 2).sum() for v in Y] for x in X]", scope)\n'
        '    return np.array(scope["D"])'), "", "uses exec"),
    "eval": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format(
        '    return np.array(eval("[[((x - v) ** 2).sum() for v in Y] for x in X]"))'), "", "uses eval"),
    "globals": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format(
        '    return globals()["_distances"](X, Y)'), "def _distances(X, Y):\n    return 0", "uses globals"),
    "extra-cell helper": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format("    return _distances(X, Y)"),
                          "def _distances(X, Y):\n    return np.array([[((x - v) ** 2).sum() for v in Y] for x in X])",
                          "uses _distances, which is defined or changed outside its cell"),
    "helper in another answer": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format("    return _distances(X, Y)"),
                                 "", "uses _distances"),
    "a release function with a loop": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format(
        "    D = -2 * X @ Y.T\n    return D + row_norms_loop(X)[:, None] ** 2 + row_norms_loop(Y)[None, :] ** 2"),
                                       "", "found a For at line 3 in row_norms_loop, which your answer calls"),
    "recursion": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format(
        "    if len(X) == 0:\n        return np.zeros((0, len(Y)))\n"
        "    first = ((X[0] - Y) ** 2).sum(axis=1)\n    return np.vstack([first, pairwise_sq_dists(X[1:], Y)])"),
                  "", "recursion in pairwise_sq_dists"),
    "np.vectorize": ("01_numpy", "pairwise_sq_dists", PAIRWISE.format(
        "    one = np.vectorize(lambda i, j: ((X[i] - Y[j]) ** 2).sum())\n"
        "    return one(*np.indices((len(X), len(Y))))"), "", "vectorize"),
    "getattr sign": ("02_activations", "sign", SIGN.format('getattr(np, "si" + "gn")(z)'), "", "uses getattr"),
    "sign via extra cell": ("02_activations", "sign", SIGN.format("_my_sign(z)"),
                            "_my_sign = np.sign", "uses _my_sign"),
}


@pytest.mark.parametrize("name", list(DODGES))
def test_a_dodged_rule_is_still_broken(name):
    aid, gid, answer, extra, reason = DODGES[name]
    replace = {gid: answer}
    if name == "helper in another answer":  # the loop hides in an answer cell that has no rule
        replace["flip_horizontal"] = solution_answers(KIT, aid, aid)["flip_horizontal"] + (
            "\n\ndef _distances(X, Y):\n    return np.array([[((x - v) ** 2).sum() for v in Y] for x in X])\n")
    found = broken(aid, answers_of(aid, replace, extra))
    assert set(found) == {gid}, found
    assert reason in found[gid]


def test_numpy_changed_outside_the_answers_is_not_trusted_by_any_rule():
    found = broken("01_numpy", answers_of("01_numpy", extra="np.swapaxes = lambda a, i, j: np.rot90(a)"))
    assert set(found) == {"one_hot", "standardize", "pairwise_sq_dists", "rotate90"}  # every answer with a rule
    assert all("uses np, which is defined or changed outside its cell" in r for r in found.values())

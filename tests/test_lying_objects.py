"""Objects that lie about their state gain nothing (assignment 03, graded end to end).

Each submission is the solution of 03 with one lie appended to the answer cell: the class is
replaced by a subclass whose lie would fool a grader that compared inside the kernel (``==``,
``np.allclose``, ``isinstance``) or read attributes through the class's own hooks. The probe
records what the objects hold, so each lie loses exactly the cells that depend on the lied-about
behaviour, and every other cell keeps its points.
"""

from __future__ import annotations

import textwrap

import nbformat
import pytest

from autograder.cells import is_test_cell
from autograder.course import Course
from autograder.execute import SKIP_TAG
from autograder.submissions import fill_release, solution_answers, write_submission
from conftest import ROOT, Graded
from hostile import AGREEABLE
from autograder.parallel import grade_parallel

AID = NB = "03_perceptron"
CELL = "GradientDescent"
KIT = Course(ROOT)

LIES = {
    # update does nothing, and w and b are properties handing out arrays that agree with anything
    "frozen-weights-that-agree": (AGREEABLE + """
_Honest = GradientDescent
class GradientDescent(_Honest):
    w = property(lambda self: np.asarray(self._w, dtype=float).view(Agreeable),
                 lambda self, value: setattr(self, "_w", value))
    def update(self, grad_w, grad_b):
        pass
""", {"test_update_basic", "test_update_hidden", "test_optimise_basic", "test_optimise_hidden"},
     "gd.w = np.ones(3); gd.update(np.ones(3), 1.0)\n"
     "assert np.allclose(gd.w, np.ones(3) - 0.5) and (gd.w == np.ones(3) - 0.5).all()"),
    # no update of its own: __getattr__ answers for it (and for anything else missing) with a no-op
    "getattr-answers-for-update": ("""
_Honest = GradientDescent
class GradientDescent(_Honest):
    def _gone(self):
        raise AttributeError("update")  # so Python asks __getattr__ instead
    update = property(_gone)
    def __getattr__(self, name):
        return lambda *args, **kwargs: None
""", {"test_update_basic", "test_update_hidden", "test_optimise_basic", "test_optimise_hidden"},
     "assert hasattr(gd, 'update') and gd.update(np.ones(3), 1.0) is None"),
    # gradients of zeros dressed as numbers and arrays that equal anything
    "gradients-that-agree": (AGREEABLE + """
class Zero(float):
    __eq__ = lambda self, other: True
    __float__ = lambda self: 0.125
_Honest = GradientDescent
class GradientDescent(_Honest):
    def grad_cost(self, x, y):
        return np.zeros(np.shape(x)[1]).view(Agreeable), Zero(0.0)
""", {"test_grad_cost_basic", "test_grad_cost_hidden", "test_optimise_basic", "test_optimise_hidden"},
     "grad_w, grad_b = gd.grad_cost(np.ones((2, 3)), np.ones(2))\n"
     "assert np.allclose(grad_w, [1.0, -2.0, 3.0]) and grad_b == 0.75 and float(grad_b) == 0.125"),
    # labels that are an object claiming to be equal to anything, with any length asked for
    "labels-that-agree": ("""
class Labels:
    def __init__(self, n):
        self.n = n
    __eq__ = lambda self, other: True
    __ne__ = lambda self, other: False
    __len__ = lambda self: self.n
    __class__ = property(lambda self: np.ndarray)
_Honest = GradientDescent
class GradientDescent(_Honest):
    def predict(self, x):
        return Labels(len(x))
""", {"test_predict_basic", "test_predict_hidden", "test_optimise_basic", "test_optimise_hidden"},
     "labels = gd.predict(np.ones((4, 3)))\n"
     "assert isinstance(labels, np.ndarray) and labels == np.array([0, 1, 1, 0]) and len(labels) == 4"),
}


@pytest.fixture(scope="module")
def graded_lies(tmp_path_factory, dask_cluster):
    course = Course.scratch(tmp_path_factory.mktemp("lies"), [AID])
    full = solution_answers(course, AID, NB)
    for student, (lie, _, _) in LIES.items():
        answers = {**full, CELL: full[CELL] + "\n\n# the lie\n" + textwrap.dedent(lie).strip() + "\n"}
        write_submission(course, student, AID, {NB: fill_release(course, AID, NB, answers)})
    summary = grade_parallel(course, AID, scheduler=dask_cluster.address)
    assert summary.failed == []
    return Graded(course, AID, {})


@pytest.mark.parametrize("student", list(LIES))
def test_each_lie_fools_a_check_made_inside_the_kernel(student):
    """In this process, on the solution's class: the lie is real, so losing below means something."""
    source = nbformat.read(KIT.source_notebook(AID, NB), as_version=4)
    namespace: dict = {}
    for cell in source.cells:
        if cell.cell_type == "code" and not is_test_cell(cell) and SKIP_TAG not in cell.metadata.get("tags", ()):
            exec(cell.source, namespace)  # the instructor's own code, up to and with the answer cell
            if cell.metadata.get("nbgrader", {}).get("grade_id") == CELL:
                break
    lie, _, fooled = LIES[student]
    exec(textwrap.dedent(lie), namespace)
    exec("gd = GradientDescent()\n" + fooled, namespace)


@pytest.mark.parametrize("student", list(LIES))
def test_a_lie_loses_exactly_what_it_lies_about(graded_lies, student):
    scores = graded_lies.cell_scores(student, NB)
    lost = {cell for cell, score in scores.items() if score == 0}
    assert lost == LIES[student][1], graded_lies.report(student, NB)["tests"]

"""helpers.py outside the data section: checks, gradients, the grading probe."""

from __future__ import annotations

import json
import pickle
import re

import nbclient
import nbformat
import numpy as np
import pytest

import helpers
from autograder import assignments
from autograder.course import KIT_ROOT, Course
from autograder.records import RecordError, read_record
from autograder.submissions import apply_bugs, fill_release, solution_answers


# ---------------------------------------------------------------- gradients

def test_numerical_gradient_matches_closed_forms():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    x = np.array([0.7, -1.5])
    # f(x) = x^T A x / 2 with symmetric A has gradient A x
    assert helpers.rel_error(helpers.numerical_gradient(lambda v: v @ A @ v / 2, x), A @ x) < 1e-8
    # f(X) = sum(sin(X)) on a matrix: gradient cos(X), shape kept
    X = np.linspace(-2, 2, 6).reshape(2, 3)
    grad = helpers.numerical_gradient(lambda M: np.sin(M).sum(), X)
    assert grad.shape == (2, 3) and helpers.rel_error(grad, np.cos(X)) < 1e-8


def test_numerical_gradient_does_not_modify_its_input_and_detects_a_wrong_gradient():
    x = np.array([1.0, 2.0, 3.0])
    grad = helpers.numerical_gradient(lambda v: (v ** 3).sum(), x)
    assert np.array_equal(x, [1.0, 2.0, 3.0])
    assert helpers.rel_error(grad, 3 * x ** 2) < 1e-7
    assert helpers.rel_error(grad, 2 * x ** 2) > 1e-2  # the documented "wrong" threshold


def test_rel_error_is_symmetric_and_safe_at_zero():
    assert helpers.rel_error(0.0, 0.0) == 0.0
    assert helpers.rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert helpers.rel_error([1.0], [3.0]) == helpers.rel_error([3.0], [1.0]) == pytest.approx(0.5)


# ---------------------------------------------------------------- visible checks

def test_checks_print_ok_or_say_what_is_wrong(capsys):
    helpers.check_close([1.0, 2.0], [1.0, 2.0 + 1e-12], "f(x)")
    assert capsys.readouterr().out == "ok  f(x)\n"
    with pytest.raises(AssertionError, match=r"f\(x\): wrong shape: expected \(2,\), got \(3,\)"):
        helpers.check_close([1, 2, 3], [1, 2], "f(x)")
    with pytest.raises(AssertionError, match=r"^f\(x\): wrong values in 1 of 3 entries; the largest error is 5\.0e-01 "
                                             r"at index \(1,\), allowed there 2\.0e-06 \(atol \+ rtol \* \|expected\|\)\n"):
        helpers.check_close([1.0, 2.5, 3.0], [1.0, 2.0, 3.0], "f(x)")
    with pytest.raises(AssertionError, match=r"wrong values in 2 of 2 entries; got nan at index \(1,\), expected 3\.0"):
        helpers.check_close([1.5, np.nan], [1.0, 3.0], "f(x)")
    with pytest.raises(AssertionError, match="wrong dtype float64"):
        helpers.check_dtype(np.zeros(2), "u", "g(x)")
    with pytest.raises(AssertionError, match="expected 'saddle', got 'minimum'"):
        helpers.check_equal("minimum", "saddle", "classify")
    with pytest.raises(AssertionError, match="expected ValueError, but it returned normally"):
        helpers.check_raises(ValueError, lambda: 1, what="h()")
    helpers.check_raises(ValueError, int, "x", what="int('x')")
    assert "ok  int('x') raises ValueError" in capsys.readouterr().out


def test_a_stability_check_fails_on_a_warning_even_when_the_value_is_right(capsys):
    def naive(z):
        return 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))

    def stable(z):
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

    z = np.array([-1000.0, 1000.0])
    with np.errstate(over="ignore"):
        helpers.check_close(naive(z), [0.0, 1.0], "naive(z), values only")  # right values: only the warning tells
    with pytest.raises(AssertionError, match=r"^naive\(z\): emitted RuntimeWarning \(overflow encountered in exp\): "
                                             "not numerically stable"):
        helpers.check_close(lambda: naive(z), [0.0, 1.0], "naive(z)", warnings="fail")
    with np.errstate(all="ignore"):  # numpy's settings outside the check do not silence it
        with pytest.raises(AssertionError, match="emitted RuntimeWarning"):
            helpers.check_close(lambda: naive(z), [0.0, 1.0], "naive(z)", warnings="fail")
    with pytest.raises(AssertionError, match="wrong values"):  # a function is called, then its value is checked
        helpers.check_close(lambda: stable(z), [1.0, 0.0], "stable(z)", warnings="fail")
    helpers.check_close(lambda: stable(z), [0.0, 1.0], "stable(z)", warnings="fail")
    assert capsys.readouterr().out == "ok  naive(z), values only\nok  stable(z)\n"
    with np.errstate(over="ignore"), pytest.raises(TypeError, match="needs got as a function"):
        helpers.check_close(naive(z), [0.0, 1.0], "naive(z)", warnings="fail")  # its warning has gone already


def test_a_gradient_check_states_its_error_and_threshold(capsys):
    x = np.array([0.5, -1.0, 2.0])
    numerical = helpers.numerical_gradient(lambda v: (v ** 3).sum(), x)
    helpers.check_rel_error(3 * x ** 2, numerical, "d/dx x^3")
    assert re.fullmatch(r"ok  d/dx x\^3: relative error \d\.\de-\d\d \(below 1e-07\)\n", capsys.readouterr().out)
    with pytest.raises(AssertionError, match=r"^d/dx x\^3: relative error 2\.0e-01, should be below 1e-07$"):
        helpers.check_rel_error(2 * x ** 2, numerical, "d/dx x^3")
    with pytest.raises(AssertionError, match=r"relative error 1\.0e-03, should be below 1e-04$"):
        helpers.check_rel_error([1.002], [1.0], "second differences", below=1e-4)
    with pytest.raises(AssertionError, match="relative error nan, should be below"):
        helpers.check_rel_error([np.nan, 1.0], [1.0, 1.0], "f'")
    with pytest.raises(AssertionError, match=r"wrong shape: expected \(3,\), got \(1, 3\)"):
        helpers.check_rel_error(numerical[None], numerical, "f'")


def _run(cells, folder=KIT_ROOT):
    """Execute code cells (sources, or ready-made cells) in a real kernel started in ``folder``."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) if isinstance(c, str) else c for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def _shown(cell):
    """What Jupyter shows for a cell: its streams and its error's traceback, without colours."""
    text = "".join(o.get("text", "") + "\n".join(o.get("traceback", [])) for o in cell.outputs)
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_a_failing_check_shows_the_message_under_the_students_line_not_the_helpers_frames():
    nb = _run(["from helpers import check_close, check_equal, check_raises, check_rel_error\nimport numpy as np",
               "def mine(x):\n    return x + 1\ncheck_close(mine(1), 3, 'mine(1)')",
               "def checked(x):\n    check_equal(x, 'saddle', 'classify')\nchecked('minimum')",
               "def broken(x):\n    return x.shape\ncheck_raises(ValueError, broken, 3, what='broken(3)')",
               "def grows(z):\n    return np.exp(z)\ncheck_close(lambda: grows(1000.0), 0, 'grows', warnings='fail')",
               "check_rel_error(mine(1.0), 2.5, 'mine')",
               "check_close(mine(1), 2, 'mine(1)')"])
    plain, nested, other_error, unstable, gradient, passing = (_shown(c) for c in nb.cells[1:])
    assert [o.ename for c in nb.cells[1:6] for o in c.outputs if o.output_type == "error"] == \
        ["AssertionError", "AssertionError", "AttributeError", "AssertionError", "AssertionError"]  # what nbgrader reads
    assert "----> 3 check_close(mine(1), 3, 'mine(1)')" in plain and "mine(1): wrong values" in plain
    # the student's own function stays in view; the check inside it does not
    assert "----> 3 checked('minimum')" in nested and "----> 2     check_equal(x, 'saddle'" in nested
    assert "expected 'saddle', got 'minimum'" in nested
    # an unexpected error from the student's function shows that function, with the check skipped
    assert "----> 2     return x.shape" in other_error and "skipping hidden 1 frame" in other_error
    assert "----> 3 check_close(lambda: grows(1000.0)" in unstable and "grows: emitted RuntimeWarning" in unstable
    assert "----> 1 check_rel_error(mine(1.0), 2.5, 'mine')" in gradient
    assert "mine: relative error 1.1e-01, should be below 1e-07" in gradient
    for shown in (plain, nested, other_error, unstable, gradient):
        assert "helpers.py" not in shown and "raise _failed" not in shown
    assert passing == "ok  mine(1)\n"


def _graded_cell(source, grade_id, points, cell_type="code", solution=False):
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": solution, "locked": not solution,
                                 "grade_id": grade_id, "points": points, "schema_version": 3}
    return cell


def test_check_notebook_lists_the_visible_checks_and_what_hidden_tests_decide(tmp_path, capsys):
    (tmp_path / "helpers.py").symlink_to(KIT_ROOT / "helpers.py")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from helpers import check_close, check_notebook\ndef f(x):\n    return 2 * x"),
        _graded_cell("check_close(f(1), 2, 'f(1)')", "test_f_basic", 1),
        _graded_cell("# Hidden tests (3 points): they run when your notebook is graded.", "test_f_hidden", 3),
        _graded_cell("check_close(f(2), 5, 'f(2)')", "test_g_basic", 2),
        _graded_cell("Why?", "why", 4, cell_type="markdown", solution=True),
        nbformat.v4.new_code_cell("check_notebook()  # left in by the student: must not run itself again"),
    ])
    nbformat.write(nb, tmp_path / "a.ipynb")
    with pytest.raises(AssertionError, match=r"^1 of 2 cells of visible checks fail: test_g_basic$"):
        helpers.check_notebook(tmp_path / "a.ipynb")
    out = capsys.readouterr().out
    assert out.startswith("ok      test_f_basic\nFAILED  test_g_basic: AssertionError: f(2): wrong values in 1 of 1 "
                          "entries; the largest error is 1.0e+00, allowed there 5.0e-06 (atol + rtol * |expected|)\n")
    assert "1 of 2 cells of visible checks pass in a.ipynb" in out and "their 3 points are decided again" in out
    assert "hidden tests decide the other 3 points; written answers (4 points) are graded by hand" in out
    # fixed, in a notebook: the same call passes, and its own run did not recurse (it would time out)
    nb.cells[3].source = "check_close(f(2), 4, 'f(2)')"
    nbformat.write(nb, tmp_path / "a.ipynb")
    ran = _run(nb.cells[:1] + [nbformat.v4.new_code_cell("check_notebook()")], folder=tmp_path)
    assert "2 of 2 cells of visible checks pass in a.ipynb" in _shown(ran.cells[1])
    assert "error" not in [o.output_type for o in ran.cells[1].outputs]


def test_check_notebook_does_nothing_under_nbgrader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    helpers.check_notebook("no such notebook.ipynb")  # not even read
    assert "does nothing while a notebook is validated or graded" in capsys.readouterr().out


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """A scratch course of 01_numpy with the solution and a solution whose one_hot is transposed."""
    course = Course.scratch(tmp_path_factory.mktemp("validate"), ["01_numpy"])
    bug = next(b for b in assignments.bug_bank("01_numpy") if b.name == "one_hot_transposed")
    full = solution_answers(course, "01_numpy", "01_numpy")
    folder = course.release / "01_numpy"
    for name, answers in (("passing", full), ("failing", apply_bugs(full, [bug]))):
        nbformat.write(fill_release(course, "01_numpy", "01_numpy", answers), folder / f"{name}.ipynb")
    return course, folder


def test_nbgrader_validate_names_what_it_leaves_out_but_exits_0_either_way(validated):
    course, folder = validated
    passing = course.nbgrader("validate", str(folder / "passing.ipynb"), check=False)
    failing = course.nbgrader("validate", str(folder / "failing.ipynb"), check=False)
    # nbgrader 0.9.6: a fixed success line and exit status 0, failed or not (not configurable)
    assert (passing.returncode, failing.returncode) == (0, 0)
    assert "Success! Your notebook passes all the tests." in passing.stdout
    words = " ".join(failing.stdout.split())  # nbgrader wraps the warning
    assert "VALIDATION FAILED ON 1 CELL(S): a visible check fails" in words
    assert "decided when the notebook is graded, by hidden tests" in words and "check_notebook()" in words
    assert "got (4, 2)" in words and "helpers.py" not in failing.stdout  # the message, not the helper's lines


def test_check_notebook_passes_the_solution_and_fails_a_wrong_one_in_a_real_course(validated, capsys, monkeypatch):
    course, folder = validated
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    helpers.check_notebook(folder / "passing.ipynb")
    out = capsys.readouterr().out
    points = {"hidden": 0, "visible": 0}
    for cell in nbformat.read(folder / "passing.ipynb", as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            points["hidden" if meta["grade_id"].endswith("_hidden") else "visible"] += meta["points"]
    assert out.count("\nok      test_") + out.startswith("ok      test_") == 9 and "FAILED" not in out
    assert "9 of 9 cells of visible checks pass in passing.ipynb" in out
    assert f"their {points['visible']} points are decided again" in out
    assert f"hidden tests decide the other {points['hidden']} points." in out
    with pytest.raises(AssertionError, match="1 of 9 cells of visible checks fail: test_one_hot_basic"):
        helpers.check_notebook(folder / "failing.ipynb")
    assert "FAILED  test_one_hot_basic: AssertionError: one_hot([1, 1], 4): wrong shape" in capsys.readouterr().out


def test_show_images_returns_a_figure_with_one_axis_per_image():
    import matplotlib

    matplotlib.use("Agg")
    fig = helpers.show_images(np.zeros((5, 4, 4)), titles=list("abcde"), cols=3)
    assert len([ax for ax in fig.axes if ax.images]) == 5


# ---------------------------------------------------------------- the grading probe

def test_two_circles_is_seeded_balanced_and_on_its_two_radii():
    X, y = helpers.two_circles(101, noise=0.0, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64 and y.shape == (101,) and y.dtype == np.int64
    assert y.sum() == 50  # n // 2 inner points, label 1
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.where(y == 1, 0.5, 1.0), rtol=0, atol=1e-12)
    again, other = helpers.two_circles(101, noise=0.0, seed=3), helpers.two_circles(101, noise=0.0, seed=4)
    assert np.array_equal(again[0], X) and np.array_equal(again[1], y) and not np.array_equal(other[0], X)
    noisy, _ = helpers.two_circles(2000, noise=0.1, seed=0)  # noise moves points off the circles by ~0.1
    radii = np.hypot(noisy[:, 0], noisy[:, 1])
    assert 0.05 < np.std(radii - np.round(radii * 2) / 2) < 0.2


def test_plot_decision_regions_colours_the_plane_by_the_predicted_label():
    import matplotlib

    matplotlib.use("Agg")
    X, y = helpers.two_circles(40, noise=0.0, seed=0)
    calls = []

    def inside(P):  # the true rule: label 1 within radius 0.75
        calls.append(P.shape)
        return (np.hypot(P[:, 0], P[:, 1]) < 0.75).astype(int)

    ax = helpers.plot_decision_regions(inside, X, y, resolution=50, title="rule")
    assert calls == [(2500, 2)] and ax.get_title() == "rule"
    assert len(ax.collections) >= 2  # the filled regions and the points


def test_record_for_grader_does_nothing_outside_grading(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv(helpers.PROBE_DIR_ENV, raising=False)
    helpers.record_for_grader("test_x", f=lambda: 1 / 0)  # not even called
    assert "hidden tests run when the notebook is graded" in capsys.readouterr().out


def test_record_round_trips_values_errors_and_warnings(monkeypatch, tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "outputs").mkdir()
    calls = [{"call": "f", "args": (np.arange(6, dtype=np.uint8).reshape(2, 3),), "kwargs": {}},
             {"call": "f", "args": ("boom",), "kwargs": {}},
             {"call": "g", "args": (np.array([1000.0]),), "kwargs": {}},
             {"call": "h", "args": (), "kwargs": {}}]
    (tmp_path / "inputs" / "test_x.pkl").write_bytes(pickle.dumps(calls))
    monkeypatch.setenv(helpers.PROBE_DIR_ENV, str(tmp_path))

    def f(a):
        if isinstance(a, str):
            raise ValueError(a)
        a *= 2  # mutating an input must not leak into the next case
        return a.T

    helpers.record_for_grader("test_x", f=f, g=np.exp,
                              h=lambda: (0.1, 3, None, "s", [np.float32(2.5), True], (x for x in [])))
    out = read_record(tmp_path / "outputs" / "test_x.json", 4)
    assert out[0].value.dtype == np.uint8 and out[0].value.tolist() == [[0, 6], [2, 8], [4, 10]]
    assert (out[1].raised, out[1].message) == ("ValueError", "boom")
    assert out[2].warnings == ["RuntimeWarning"] and np.isinf(out[2].value).all()
    value = out[3].value
    assert value[:4] == (0.1, 3, None, "s") and value[4][1] is True
    assert value[4][0].dtype == np.float32 and np.shape(value[4][0]) == () and value[4][0] == 2.5
    assert value[5].type_name == "generator"


@pytest.mark.parametrize("payload, problem", [
    ("not json", "not valid JSON"),
    (json.dumps({"results": []}), "wrong number"),
    (json.dumps({"results": [{"value": {"t": "array", "dtype": "|O", "shape": [1], "b64": ""}}]}), "not numeric"),
    (json.dumps({"results": [{"value": {"t": "array", "dtype": "<f8", "shape": [9], "b64": "AAAA"}}]}), "size"),
    (json.dumps({"results": [{"value": {"t": "pickle", "v": "..."}}]}), "unknown value kind"),
])
def test_a_tampered_record_is_rejected(tmp_path, payload, problem):
    path = tmp_path / "r.json"
    path.write_text(payload)
    with pytest.raises(RecordError, match=problem):
        read_record(path, 1)


def test_record_for_grader_fails_loudly_under_a_misconfigured_autograder(monkeypatch):
    """nbgrader without the course config would run hidden cells unchecked: they must fail instead."""
    monkeypatch.delenv(helpers.PROBE_DIR_ENV, raising=False)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(RuntimeError, match="nbgrader_config.py"):
        helpers.record_for_grader("test_x", f=len)


def test_two_unit_network_runs_the_named_activation_on_the_parts():
    X = np.array([[1.0, 2.0], [-0.5, 0.25], [0.0, 3.0]])
    W1, b1, w2, b2 = np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([0.0, 0.5]), np.array([0.25, -0.25]), -1.0
    Z = np.column_stack([X[:, 0] + X[:, 1], X[:, 0] - X[:, 1] + 0.5])  # written out from the definition
    for g, G in (("square", Z ** 2), ("abs", np.abs(Z)), ("relu", np.where(Z > 0, Z, 0.0)), ("identity", Z),
                 ("tanh", np.tanh(Z)), ("sigmoid", 1 / (1 + np.exp(-Z)))):
        out = helpers.two_unit_network((g, W1, b1, w2, b2), X)
        assert out.shape == (3,) and np.allclose(out, 1 / (1 + np.exp(-(G @ w2 + b2)))), g
    assert helpers.two_unit_network(("identity", W1, b1, w2, 1e4), X) == pytest.approx(1.0)  # no overflow
    for g in (np.square, "Square", None):
        with pytest.raises(ValueError, match="g must be one of"):
            helpers.two_unit_network((g, W1, b1, w2, b2), X)


def test_the_graders_hidden_activations_are_the_notebooks():
    """Assignment 06's grader runs capacity_net's network with its own decimal activations: the same names, the
    same values as helpers.HIDDEN_ACTIVATIONS, which the notebook runs."""
    from decimal import Decimal

    from autograder.assignments.a06_deep_networks.hidden_tests import ACTIVATIONS as graders

    assert list(graders) == list(helpers.HIDDEN_ACTIVATIONS)
    z = np.array([-30.0, -2.5, -0.3, 0.0, 0.7, 4.0, 30.0])
    for name, g in helpers.HIDDEN_ACTIVATIONS.items():
        exact = np.array([float(graders[name](Decimal(v))) for v in z])
        assert np.allclose(g(z), exact, rtol=1e-14, atol=1e-15), name

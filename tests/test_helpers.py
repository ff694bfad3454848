"""helpers.py outside the data section: checks, gradients, the grading probe."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import helpers
from autograder.records import RecordError, read_record


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
    with pytest.raises(AssertionError, match="wrong values"):
        helpers.check_close([1.0, 2.5], [1.0, 2.0], "f(x)")
    with pytest.raises(AssertionError, match="wrong dtype float64"):
        helpers.check_dtype(np.zeros(2), "u", "g(x)")
    with pytest.raises(AssertionError, match="expected 'saddle', got 'minimum'"):
        helpers.check_equal("minimum", "saddle", "classify")
    with pytest.raises(AssertionError, match="expected ValueError, but it returned normally"):
        helpers.check_raises(ValueError, lambda: 1, what="h()")
    helpers.check_raises(ValueError, int, "x", what="int('x')")
    assert "ok  int('x') raises ValueError" in capsys.readouterr().out


def test_show_images_returns_a_figure_with_one_axis_per_image():
    import matplotlib

    matplotlib.use("Agg")
    fig = helpers.show_images(np.zeros((5, 4, 4)), titles=list("abcde"), cols=3)
    assert len([ax for ax in fig.axes if ax.images]) == 5


# ---------------------------------------------------------------- the grading probe

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

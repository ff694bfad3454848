"""Judging is total and reasons reveal no hidden answer: fast unit tests, no nbgrader.

Records are written as the grading kernel writes them (``helpers._encode``)
or as a hostile kernel could (raw JSON, symlinks, FIFOs); the verdicts come
from the real :func:`autograder.scoring.judge`.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Callable

import numpy as np
import pytest

import helpers
from autograder import assignments
from autograder.cases import AllOf, Case, Close, Equal, HiddenTest, New, Scenario, Set, is_structure, one_number
from autograder.records import MAX_RECORD_BYTES, Outcome, RecordError, Unsupported, read_record
from autograder.rules import Answers
from autograder.scoring import case_problem, judge, scenario_problems
from conftest import ASSIGNMENTS

ONE_HOT = HiddenTest([Case("one_hot", (np.array([0, 2]), 3), expect=Close(np.eye(3)[[0, 2]]), about="2 labels, k=3")])
NO_ANSWERS = Answers({})


def write_record(path, *values):
    path.write_text(json.dumps({"results": [{"value": helpers._encode(v), "warnings": []} for v in values]}))
    return path


def raw_record(path, value_json: str):
    path.write_text('{"results": [{"value": %s, "warnings": []}]}' % value_json)
    return path


@pytest.fixture
def no_hang():
    """Fail instead of hanging if reading a record blocks."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("reading the record blocked"))
    signal.alarm(5)
    yield
    signal.alarm(0)


def test_a_right_answer_passes_and_a_wrong_one_fails(tmp_path):
    assert judge(ONE_HOT, write_record(tmp_path / "r.json", np.eye(3)[[0, 2]]), NO_ANSWERS).passed
    verdict = judge(ONE_HOT, write_record(tmp_path / "r.json", np.eye(3)[[2, 0]]), NO_ANSWERS)
    assert (verdict.passed, verdict.reason) == (False, "one_hot (2 labels, k=3): wrong values in 4 of 6 entries "
                                                       "(e.g. at index (0, 0))")


def test_a_ragged_value_is_that_case_failing_with_a_reason(tmp_path):
    ragged = (np.eye(3)[[0, 2]], np.zeros(3))  # np.asarray raises ValueError on it
    with pytest.raises(ValueError):
        np.asarray(ragged, dtype=float)
    verdict = judge(ONE_HOT, write_record(tmp_path / "r.json", ragged), NO_ANSWERS)
    assert not verdict.passed
    assert verdict.reason == ("one_hot (2 labels, k=3): returned a tuple of 2 items whose parts do not form "
                              "one array, expected an array of shape (2, 3)")


@pytest.mark.parametrize("value, right", [
    (0.25, True), (np.float32(0.25), True), (np.array(0.25), True), (np.array([[0.25]]), True),
    (0.25 + 1e-12, True), (0.2500001, False), (np.array([0.25, 0.25]), False), ([], False),
    (0.25 + 0j, False), (0.25 + 1j, False), ("0.25", False), (np.array([0.25], dtype=object), False),
    (None, False), ({"loss": 0.25}, False), (float("nan"), False),
])
def test_one_number_takes_one_real_number_in_any_container_and_nothing_else(value, right):
    problem = one_number(0.25, "the loss").check(Outcome(value=value))
    assert (problem is None) == right
    assert right or "the loss" in problem or "returned" in problem


@pytest.mark.parametrize("value_json, reason", [
    ('{"t": "int", "v": %s}' % ("9" * 5000), "not valid JSON"),  # beyond Python's int digit limit
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),  # nesting beyond the parser's recursion
    ('{"t": "array", "dtype": "<f8", "shape": %s, "b64": "AAAAAAAAAAA="}' % ([1] * 65), "more than 64 dimensions"),
    ('{"t": "array", "dtype": "<f8", "shape": [1e400], "b64": ""}', "malformed array"),  # int(inf)
    ('{"t": "array", "dtype": "(2,)<f8", "shape": [1], "b64": "AAAAAAAAAAAAAAAAAAAAAA=="}', "not numeric"),
    ('{"t": "float", "v": "0x1p99999"}', "malformed float"),  # fromhex overflows
])
def test_a_malformed_record_is_a_record_error_never_an_exception(tmp_path, value_json, reason):
    path = raw_record(tmp_path / "r.json", value_json)
    with pytest.raises(RecordError, match=reason):
        read_record(path, 1)
    verdict = judge(ONE_HOT, path, NO_ANSWERS)
    assert not verdict.passed and reason in verdict.reason


def test_the_record_is_never_read_through_a_symlink(tmp_path):
    target = write_record(tmp_path / "elsewhere.json", np.eye(3)[[0, 2]])  # a passing record
    (tmp_path / "r.json").symlink_to(target)
    verdict = judge(ONE_HOT, tmp_path / "r.json", NO_ANSWERS)
    assert not verdict.passed and "symlink" in verdict.reason


def test_a_fifo_in_place_of_the_record_does_not_block(tmp_path, no_hang):
    os.mkfifo(tmp_path / "r.json")
    verdict = judge(ONE_HOT, tmp_path / "r.json", NO_ANSWERS)
    assert not verdict.passed and "not a regular file" in verdict.reason


def test_an_oversized_record_is_refused_without_reading_it_all(tmp_path):
    with open(tmp_path / "r.json", "wb") as f:
        f.truncate(MAX_RECORD_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(RecordError, match="too large"):
        read_record(tmp_path / "r.json", 1)


def test_a_missing_record_says_so(tmp_path):
    verdict = judge(ONE_HOT, tmp_path / "r.json", NO_ANSWERS)
    assert not verdict.passed and "recorded nothing" in verdict.reason


# ---------------------------------------------------------------- reasons reveal no hidden answer

WRONG_FORMS = [Outcome(value="definitely wrong"), Outcome(value=(np.zeros((2, 2)), np.zeros(3))),
               Outcome(value=None), Outcome(value=Unsupported("generator")), Outcome(value=np.zeros(3)),
               Outcome(raised="RuntimeError", message="boom")]


def _expected_values(expect) -> list:
    if isinstance(expect, AllOf):
        return [v for part in expect.parts for v in _expected_values(part)]
    return [expect.expected] if isinstance(expect, (Close, Equal)) else []


def _wrong_value(expected):
    """A value of the expected's type and shape (dicts, tuples and lists item by item) that differs everywhere."""
    if isinstance(expected, str):
        return "definitely wrong"
    if isinstance(expected, dict):
        return {k: _wrong_value(v) for k, v in expected.items()}
    if is_structure(expected):
        return type(expected)(_wrong_value(v) for v in expected)
    return np.asarray(expected, dtype=np.float64) + 7.25


def _secrets(expects, inputs) -> set[str]:
    """What a reason must never show: the expected values, and the hidden inputs in full."""
    texts = set()
    for value in (v for expect in expects for v in _expected_values(expect)):
        for leaf in _leaves(value):
            texts |= {repr(leaf), str(leaf)}
            if not isinstance(leaf, str):
                texts |= {repr(np.asarray(leaf)), str(np.asarray(leaf)), repr(np.asarray(leaf).tolist())}
    for arg in inputs:
        for leaf in _leaves(arg):
            if isinstance(leaf, np.ndarray) and leaf.ndim:
                texts |= {repr(leaf), str(leaf), _spelled(leaf)}
        if isinstance(arg, (list, tuple)):
            texts |= {repr(arg), str(arg), _spelled(arg)}
    return {t for t in texts if len(t) > 4}  # a shape or a single digit is not an answer


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if is_structure(value):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _spelled(value) -> str:
    """An array as a person would type it: [[1, 5], [3, 5]]."""
    if isinstance(value, (list, tuple)) or isinstance(value, np.ndarray) and value.ndim:  # lists may be ragged
        return "[" + ", ".join(_spelled(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else repr(value)


def _wrong_outcomes(expect) -> list[Outcome]:
    return [Outcome(value=_wrong_value(v)) for v in _expected_values(expect)
            if isinstance(v, str) or any(np.size(leaf) for leaf in _leaves(v))]  # an empty array has no wrong value


def _reasons(case, per_step: Callable[[object], Outcome]) -> str | None:
    """The reasons a case gets when each of its checks (each step of a scenario) records ``per_step(expect)``."""
    if isinstance(case, Scenario):
        steps = [per_step(step.expect) for step in case.steps]
        return "\n".join(scenario_problems(case, Outcome(steps=steps))) or None
    return case_problem(case, per_step(case.expect))


def _architecture(step, arg) -> bool:
    """A constructor's layer sizes (05's MLP(d, d_h, m), 06's SigmoidNet(sizes)): the network's shape, which
    reasons name as they name an array's shape; every other input is hidden."""
    return isinstance(step, New) and isinstance(arg, (tuple, list)) and all(type(v) is int for v in arg)


def _inputs(case) -> list:
    if isinstance(case, Scenario):
        return [a for step in case.steps for a in (*getattr(step, "args", ()), *getattr(step, "kwargs", {}).values(),
                                                   *([step.value] if isinstance(step, Set) else []))
                if not _architecture(step, a)]
    return [*case.args, *case.kwargs.values()]


CASES = [(aid, test_id, i) for aid in ASSIGNMENTS for test_id, test in assignments.hidden_tests(aid).items()
         for i in range(len(test.cases))]


@pytest.mark.parametrize("aid, test_id, index", CASES)
def test_no_reason_shows_an_expected_value_or_a_hidden_input(aid, test_id, index):
    case = assignments.hidden_tests(aid)[test_id].cases[index]
    expects = [s.expect for s in case.steps] if isinstance(case, Scenario) else [case.expect]
    secrets = _secrets(expects, _inputs(case))
    def wrong(pick):
        return lambda expect: (_wrong_outcomes(expect) or [Outcome(value=None)])[pick]
    if any(_wrong_outcomes(e) for e in expects):
        assert _reasons(case, wrong(0)), f"a wrong value passed {case.call} ({case.about})"
    forms = [lambda expect, o=o: o for o in WRONG_FORMS]
    wrongs = [wrong(0), wrong(-1)]  # every expected value of an AllOf: its first and its last
    for per_step in wrongs + forms:
        reason = _reasons(case, per_step) or ""
        leaked = {secret for secret in secrets if secret in reason}
        assert leaked == set(), reason


def test_a_wrong_label_is_reported_without_the_right_one():
    case = Case("classify", ((0.0, 0.0),), {"H": np.array([[1.0, 3.0], [3.0, 1.0]])}, expect=Equal("saddle"),
                about="a 2x2 Hessian")
    reason = case_problem(case, Outcome(value="minimum"))
    assert reason == "classify (a 2x2 Hessian): wrong answer (got 'minimum')"

"""The grading API end to end, in-process and fast: probe -> record -> decode -> judge.

The probe (helpers.record_for_grader) runs here as it does in the grading kernel: the
hidden test's calls are pickled to <probe>/inputs/<id>.pkl as SandboxedExecute writes
them, the record is decoded by autograder.records and judged by autograder.scoring.judge.
The student code is small numpy code as a student would write it, right and wrong, and
hostile objects that try to lie about their state.
"""

from __future__ import annotations

import io
import json
import pickle
import random
import re
import signal
from collections import namedtuple
from pathlib import Path

import nbformat
import numpy as np
import pytest

import guide_examples
import helpers
from autograder import records
from autograder.cases import (Call, CallFunction, Case, Close, Equal, HiddenTest, New, Observe, Raises, Result,
                              Scenario, Student)
from autograder.score import _replace_outputs
from autograder.records import RecordError, Unsupported, read_record
from autograder.relations import Holds, NonIncreasing, Same
from autograder.rules import Answers
from autograder.scoring import Verdict, judge

ROOT = Path(__file__).resolve().parent.parent
NO_ANSWERS = Answers({})


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """probe(test, **functions) -> Verdict: the hidden cell run in this process, then judged."""
    (tmp_path / "inputs").mkdir()
    (tmp_path / "outputs").mkdir()
    monkeypatch.setenv(helpers.PROBE_DIR_ENV, str(tmp_path))

    def run(test: HiddenTest, error: str = "", **functions) -> Verdict:
        with open(tmp_path / "inputs" / "t.pkl", "wb") as f:
            pickle.dump(test.calls, f)  # as SandboxedExecute._jail writes them
        helpers.record_for_grader("t", **functions)
        return judge(test, tmp_path / "outputs" / "t.json", NO_ANSWERS, error)

    run.dir = tmp_path
    return run


def recorded(probe, value):
    """What the grader decodes of ``value`` returned by a student function."""
    probe(HiddenTest([Case("f", expect=Close(0))]), f=lambda: value)
    return read_record(probe.dir / "outputs" / "t.json", 1)[0].value


# ---------------------------------------------------------------- structured values

def test_structured_values_round_trip_as_plain_data(probe):
    Pair = namedtuple("Pair", "w b")
    sent = {"W1": np.arange(6.0).reshape(2, 3), "n": np.int16(7), "nested": [(1, 2.5, None), {"s": "x", "t": True}],
            "pair": Pair(np.ones(2, np.float32), 0.5), "masked": np.ma.masked_array([1.0, 2.0], [False, True])}
    got = recorded(probe, sent)
    assert list(got) == ["W1", "n", "nested", "pair", "masked"]
    assert got["W1"].dtype == np.float64 and got["W1"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert type(got["n"]) is np.int16 and np.shape(got["n"]) == ()  # numpy scalars stay 0-d
    assert got["nested"] == [(1, 2.5, None), {"s": "x", "t": True}]
    assert type(got["pair"]) is tuple and got["pair"][0].dtype == np.float32  # a namedtuple is its tuple
    assert type(got["masked"]) is np.ndarray and got["masked"].tolist() == [1.0, 2.0]  # subclasses: plain arrays


@pytest.mark.parametrize("value, type_name", [
    (np.array([1, "a"], dtype=object), "ndarray of dtype object"),
    ({1: np.zeros(2)}, "dict with keys that are not short strings"),
    ((x for x in []), "generator"),
    (np.array([("a", 1)], dtype=[("n", "U1"), ("v", "i4")]), "ndarray of dtype"),
    (10 ** 5000, "huge int"),  # JSON readers refuse it: it would spoil the whole record
], ids=["object", "int keys", "generator", "structured", "huge int"])
def test_what_cannot_be_recorded_is_unsupported_with_its_type(probe, value, type_name):
    got = recorded(probe, value)
    assert isinstance(got, Unsupported) and got.type_name.startswith(type_name)


def test_an_unsupported_value_is_reported_against_what_the_stub_promises(probe):
    class Foo:
        pass

    test = HiddenTest([Case("bprop", expect=Close({"W1": np.zeros((2, 3)), "b1": np.zeros(3)}), about="a net")])
    assert probe(test, bprop=Foo).reason == "bprop (a net): returned a Foo, expected a dict of arrays"
    pair = HiddenTest([Case("grads", expect=Close((np.zeros(3), np.zeros(1))))])
    assert probe(pair, grads=lambda: {"a": 1}).reason == "grads: returned a dict, expected a tuple of 2 arrays"
    array = HiddenTest([Case("f", expect=Close(np.zeros(3)))])
    assert probe(array, f=Foo).reason == "f: returned a Foo, expected numbers or an array"


# ---------------------------------------------------------------- element-by-element comparison

GRADS = {"W1": np.arange(20.0).reshape(5, 4), "b1": np.ones(4)}
DICT_TEST = HiddenTest([Case("bprop", expect=Close(GRADS), about="a net")])


def test_a_structure_passes_when_every_element_is_right(probe):
    assert probe(DICT_TEST, bprop=lambda: {"b1": np.ones(4), "W1": np.arange(20.0).reshape(5, 4)}).passed
    tup = HiddenTest([Case("g", expect=Close((np.ones(2), [np.zeros(1), 3.0])))])
    assert probe(tup, g=lambda: [np.ones(2), (np.zeros(1), 3.0)]).passed  # lists and tuples alike


@pytest.mark.parametrize("returned, reason", [
    ({"W1": np.zeros((4, 5)), "b1": np.ones(4)}, "['W1']: wrong shape: expected (5, 4), got (4, 5)"),
    ({"W1": GRADS["W1"]}, "missing ['b1']"),
    ({**GRADS, "W3": np.ones(1)}, "unexpected ['W3']"),
    ({"W1": GRADS["W1"].T, "b1": np.ones(4) * 2}, "['W1']: wrong shape: expected (5, 4), got (4, 5); "
                                                  "['b1']: wrong values in 4 of 4 entries (e.g. at index (0,))"),
    ({"W1": GRADS["W1"], "b1": (x for x in [])}, "['b1']: returned a generator, expected numbers or an array"),
])
def test_a_wrong_structure_names_every_wrong_element(probe, returned, reason):
    verdict = probe(DICT_TEST, bprop=lambda: returned)
    assert (verdict.passed, verdict.reason) == (False, f"bprop (a net): {reason}")


def test_elements_can_be_described_and_reasons_show_no_expected_value(probe):
    expected = (np.full((2, 5), 0.125), np.linspace(0.5, 1.5, 10))
    test = HiddenTest([Case("grads", expect=Close(expected, names={1: "the bias gradient"}))])
    wrong_bias = expected[1].copy()
    wrong_bias[[0, 4, 9]] += 1
    reason = probe(test, grads=lambda: (expected[0], wrong_bias)).reason
    assert reason == "grads: [1] (the bias gradient): wrong values in 3 of 10 entries (e.g. at index (0,))"
    assert "0.125" not in reason and "1.5" not in reason


def test_equal_compares_structures_exactly(probe):
    test = HiddenTest([Case("labels", expect=Equal({"kind": "saddle", "count": np.array([1, 2])}))])
    assert probe(test, labels=lambda: {"kind": "saddle", "count": [1, 2]}).passed
    assert probe(test, labels=lambda: {"kind": "minimum", "count": [1, 2]}).reason == \
        "labels: ['kind']: wrong answer (got 'minimum')"
    assert probe(test, labels=lambda: {"kind": 3, "count": [1, 2.0000001]}).reason == \
        "labels: ['kind']: wrong answer (got 3); ['count']: wrong values in 1 of 2 entries (e.g. at index (1,))"


# ---------------------------------------------------------------- the toy student code of the guide


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class GradientDescent:
    def __init__(self, n_features, alpha=0.1):
        self.alpha = alpha
        self.w = np.zeros(n_features)
        self.b = 0.0

    def predict(self, X):
        return sigmoid(X @ self.w + self.b)

    def update(self, grad_w, grad_b):
        self.w = self.w - self.alpha * grad_w
        self.b = self.b - self.alpha * grad_b


class GradientDescentAdding(GradientDescent):
    def update(self, grad_w, grad_b):  # bug: climbs the gradient
        self.w = self.w + self.alpha * grad_w
        self.b = self.b + self.alpha * grad_b


class MLP:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1 = np.random.randn(n_in, n_hidden) * 0.1
        self.b1 = np.zeros(n_hidden)
        self.W2 = np.random.randn(n_hidden, n_out) * 0.1
        self.b2 = np.zeros(n_out)

    def fprop(self, X):
        h = sigmoid(X @ self.W1 + self.b1)
        return {"h": h, "out": h @ self.W2 + self.b2}

    def loss(self, X, Y):
        return float(np.sum((self.fprop(X)["out"] - Y) ** 2) / (2 * len(X)))

    def bprop(self, X, Y, cache):
        d_out = (cache["out"] - Y) / len(X)
        d_h = d_out @ self.W2.T * cache["h"] * (1 - cache["h"])
        return {"W1": X.T @ d_h, "b1": d_h.sum(axis=0), "W2": cache["h"].T @ d_out, "b2": self.sum_b2(d_out)}

    def sum_b2(self, d_out):
        return d_out.sum(axis=0)


class MLPTransposedW1(MLP):
    def bprop(self, X, Y, cache):
        grads = super().bprop(X, Y, cache)
        return {**grads, "W1": grads["W1"].T}  # bug: d_h.T @ X


class MLPUnsummedB2(MLP):
    def sum_b2(self, d_out):
        return d_out  # bug: one bias gradient per example


class MLPWrongLossAndGrad(MLP):
    """Consistent with itself (bprop is the gradient of its loss), but the loss is wrong: half of it."""

    def loss(self, X, Y):
        return super().loss(X, Y) / 2

    def bprop(self, X, Y, cache):
        return {k: v / 2 for k, v in super().bprop(X, Y, cache).items()}


def test_the_guides_gradient_descent_test_passes_the_right_class_and_fails_the_bug(probe):
    (test,) = guide_examples.GD_TESTS.values()
    assert probe(test, GradientDescent=GradientDescent).passed
    verdict = probe(test, GradientDescent=GradientDescentAdding)
    assert not verdict.passed
    assert verdict.failures == (
        "GradientDescent (one update, alpha = 0.1): w: wrong values in 3 of 3 entries (e.g. at index (2,))",
        "GradientDescent (one update, alpha = 0.1): b: wrong values in 1 of 1 entries (e.g. at index ())",
        "GradientDescent (two updates, alpha = 0.5): w: wrong values in 2 of 2 entries (e.g. at index (1,))",
        "GradientDescent (two updates, alpha = 0.5): b: wrong values in 1 of 1 entries (e.g. at index ())")
    assert verdict.reason.startswith("4 checks failed: GradientDescent (one update, alpha = 0.1): w: wrong values")


def test_the_guides_mlp_test_passes_the_right_net_and_names_the_wrong_gradient(probe):
    (test,) = guide_examples.MLP_TESTS.values()
    assert probe(test, MLP=MLP).passed
    about = "bprop agrees with finite differences of your loss"
    assert probe(test, MLP=MLPTransposedW1).failures == (f"{about}: grads['W1']: wrong shape: expected (2, 3), got (3, 2)",)
    assert probe(test, MLP=MLPUnsummedB2).failures == (f"{about}: grads['b2']: wrong shape: expected (2,), got (4, 2)",)
    # a gradient consistent with a wrong loss: the loss's own check catches it
    assert probe(test, MLP=MLPWrongLossAndGrad).failures == (
        "MLP (2 inputs, 3 hidden units, 2 outputs, 4 examples): loss(...): wrong values in 1 of 1 entries "
        "(e.g. at index ())",)


def test_the_guide_quotes_the_hidden_tests_verbatim():
    guide = (ROOT / "docs" / "writing-hidden-tests.md").read_text()
    source = (ROOT / "tests" / "guide_examples.py").read_text()
    blocks = re.findall(r"# --- guide: [^\n]*\n(.*?)# --- end\n", source, re.S)
    assert len(blocks) == 2
    for block in blocks:
        assert block in guide


# ---------------------------------------------------------------- scenarios and markers

def test_a_scenario_records_each_step_on_one_object(probe):
    test = HiddenTest([Scenario((
        New("GradientDescent", (2,), {"alpha": 0.5}, name="gd"),
        Observe("w", expect=Close(np.zeros(2)), name="w0"),
        Call("update", (np.array([1.0, 2.0]), 1.0), expect=Equal(None)),
        Observe("w", expect=Close([-0.5, -1.0]), name="w1"),
        Call("predict", (np.array([[0.0, 0.0]]),), expect=Close([1 / (1 + np.exp(0.5))])),
    ), about="two observations")])
    assert probe(test, GradientDescent=GradientDescent).passed
    verdict = probe(test, GradientDescent=GradientDescentAdding)
    assert verdict.failures == ("GradientDescent (two observations): w1: wrong values in 2 of 2 entries "
                                "(e.g. at index (1,))",
                                "GradientDescent (two observations): predict(...): wrong values in 1 of 1 entries "
                                "(e.g. at index (0,))")


def test_a_scenario_stops_at_the_first_step_that_raises(probe):
    class Broken(GradientDescent):
        def update(self, grad_w, grad_b):
            raise ValueError("no")

    test = HiddenTest([Scenario((New("GD", (2,)), Call("update", (np.ones(2), 1.0)), Observe("w", expect=Close([0, 0]))),
                                about="x")])
    assert probe(test, GD=Broken).failures == ("GD (x): update(...): raised ValueError: no",)
    expecting = HiddenTest([Scenario((New("GD", (2,)), Call("update", (np.ones(2), 1.0), expect=Raises("ValueError"))))])
    assert probe(expecting, GD=Broken).passed
    with pytest.raises(ValueError, match="only the last step"):
        Scenario((New("GD", (2,)), Call("update", expect=Raises("ValueError")), Observe("w")))


def test_markers_stand_for_the_students_own_functions_and_live_results(probe):
    class Opaque:  # not recordable: only the live object can be passed on
        def __init__(self, v):
            self.v = v

    def make(v):
        return Opaque(v)

    def use(box, fn):
        return fn(box.v) if isinstance(box, Opaque) else -1.0

    test = HiddenTest([Scenario((
        CallFunction("make", (np.array([0.0, 2.0]),), name="box"),
        CallFunction("use", (Result("box"),), {"fn": Student("sigmoid")}, expect=Close(sigmoid(np.array([0.0, 2.0])))),
    ))])
    assert probe(test, make=make, use=use, sigmoid=sigmoid).passed
    with pytest.raises(ValueError, match="no earlier step"):
        Scenario((CallFunction("use", (Result("later"),)), CallFunction("make", name="later")))
    with pytest.raises(ValueError, match="no earlier step"):
        Case("use", (Result("box"),), expect=Close(0))  # a single call has no earlier step


class _PlainOnly(pickle.Unpickler):
    """An unpickler that builds only numpy arrays and builtins: what the jail's probe may need."""

    def find_class(self, module, name):
        if module.split(".")[0] not in ("numpy", "builtins") or (module, name) == ("builtins", "eval"):
            raise pickle.UnpicklingError(f"{module}.{name}")
        return super().find_class(module, name)


@pytest.mark.parametrize("test", [*guide_examples.GD_TESTS.values(), *guide_examples.MLP_TESTS.values(),
                                  HiddenTest([Case("f", (Student("g"), [Student("h")]), expect=Close(0))])])
def test_the_kernels_inputs_are_plain_data_without_expectations(test):
    calls = _PlainOnly(io.BytesIO(pickle.dumps(test.calls))).load()
    assert "expect" not in repr(calls) and "autograder" not in repr(calls)


# ---------------------------------------------------------------- objects that lie

class LyingArray(np.ndarray):
    """Says it equals anything, and hands out other data through every door numpy offers."""

    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        return np.full(self.shape, 0.125)

    def tobytes(self, *args, **kwargs):
        return np.full(self.shape, 0.125).tobytes()

    @property
    def dtype(self):
        return np.dtype("f8")


class Anything:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    @property
    def __class__(self):  # isinstance(Anything(), np.ndarray) is True
        return np.ndarray


class LyingDict(dict):
    def items(self):
        return {"W1": np.full((5, 4), 0.125)}.items()

    def __iter__(self):
        return iter(["W1"])

    def __getitem__(self, key):
        return np.full((5, 4), 0.125)


class GetattrNet(GradientDescent):
    def __getattr__(self, name):  # every attribute that is not there is "the right one"
        return Anything()

    def __setattr__(self, name, value):  # and nothing set is kept
        pass

    def update(self, grad_w, grad_b):
        pass


class PropertyNet(GradientDescent):
    """Keeps its weights in _w; w, the attribute the grader reads, is a property handing out a fake."""

    w = property(lambda self: Anything(), lambda self, v: setattr(self, "_w", v))

    def update(self, grad_w, grad_b):
        self._w = self._w - self.alpha * grad_w
        self.b = self.b - self.alpha * grad_b


class LongKey(str):
    def __len__(self):
        return 1


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no")


def test_a_key_or_an_exception_that_lies_cannot_spoil_the_record(probe):
    assert isinstance(recorded(probe, {LongKey("k" * 1001): 1}), Unsupported)

    def f():
        raise Unprintable()

    verdict = probe(HiddenTest([Case("f", expect=Close(0))]), f=f)
    assert verdict.reason == "f: raised Unprintable: (its message cannot be shown)"


def test_a_value_that_lies_gains_nothing(probe):
    assert isinstance(Anything(), np.ndarray)
    fake = np.zeros((2, 2)).view(LyingArray)
    expected = np.full((2, 2), 0.125)
    test = HiddenTest([Case("f", expect=Close(expected), about="lying")])
    assert probe(test, f=lambda: fake).reason == "f (lying): wrong values in 4 of 4 entries (e.g. at index (0, 0))"
    assert probe(test, f=Anything).reason == "f (lying): returned a Anything, expected numbers or an array"
    d = LyingDict(W1=np.zeros((5, 4)), b1=np.ones(4))
    assert recorded(probe, d).keys() == {"W1", "b1"}  # what the dict holds, not what it says
    assert probe(DICT_TEST, bprop=lambda: d).reason == "bprop (a net): ['W1']: wrong values in 19 of 20 entries " \
                                                       "(e.g. at index (4, 3))"


class GetattributeNet(GradientDescent):
    """Answers every attribute lookup itself: w is always 'the right one'."""

    def __getattribute__(self, name):
        return Anything() if name == "w" else object.__getattribute__(self, name)

    def update(self, grad_w, grad_b):
        pass


@pytest.mark.parametrize("cls, reason", [
    (GetattrNet, "w: raised AttributeError: 'GetattrNet' object has no attribute 'w'"),  # __getattr__ is not asked
    (GetattributeNet, "w: wrong values in 3 of 3 entries"),  # nor __getattribute__: w is what update left
    (PropertyNet, "w: returned a Anything, expected numbers or an array"),  # a property runs, its value is checked
])
def test_an_object_that_lies_about_its_state_gains_nothing(probe, cls, reason):
    (test,) = guide_examples.GD_TESTS.values()
    verdict = probe(test, GradientDescent=cls)
    assert not verdict.passed
    assert reason in verdict.reason


# ---------------------------------------------------------------- relations

def test_relations_relate_named_values_and_fail_when_broken(probe):
    def init(seed):
        return np.random.default_rng(seed).normal(size=3)

    costs = iter([3.0, 2.0, 2.0, 1.0])
    test = HiddenTest([Case("init", (1,), expect=Close(np.zeros(3), atol=10), name="a"),
                       Case("init", (1,), expect=Close(np.zeros(3), atol=10), name="b"),
                       Scenario(tuple(CallFunction("epoch", name=f"cost {i}") for i in range(4)))],
                      relations=(Same(("a", "b"), "the same seed gives the same weights"),
                                 NonIncreasing(tuple(f"cost {i}" for i in range(4)), "the cost never rises")))
    assert probe(test, init=init, epoch=lambda: next(costs)).passed
    rising = iter([3.0, 2.0, 2.5, 2.6])
    stream = np.random.default_rng(99)  # ignores the seed, and the probe's seeding cannot reach it
    verdict = probe(test, init=lambda seed: stream.normal(size=3), epoch=lambda: next(rising))
    assert verdict.failures == ("the same seed gives the same weights: b differs from a: wrong values in 3 of 3 "
                                "entries (e.g. at index (2,))",
                                "the cost never rises: cost 2 is larger than cost 1; cost 3 is larger than cost 2")
    # the global RNG is seeded before every case: even a seed-ignoring np.random.normal repeats
    assert probe(test, init=lambda seed: np.random.normal(size=3), epoch=iter([2.0] * 4).__next__).passed


def test_a_relation_on_a_value_that_is_missing_fails_without_crashing(probe):
    test = HiddenTest([Case("f", expect=Close(1.0), name="a"), Case("f", expect=Close(1.0), name="b")],
                      relations=(Holds(("a", "b"), "a plus b is 2", predicate=lambda a, b: a + b == 2,
                                       message="they do not add up"),))
    assert probe(test, f=lambda: 1.0).passed
    verdict = probe(test, f=lambda: (x for x in []))
    assert verdict.failures[-1] == "a plus b is 2: not checked, a recorded no value"
    assert not probe(test, f=lambda: "1").passed  # the predicate raising on a string is a failure
    with pytest.raises(ValueError, match="refer to no case"):
        HiddenTest([Case("f", expect=Close(1.0), name="a")], relations=(Same(("a", "z"), "x"),))
    with pytest.raises(ValueError, match="names used twice"):
        HiddenTest([Case("f", expect=Close(1.0), name="a"), Case("f", expect=Close(1.0), name="a")])


# ---------------------------------------------------------------- seeding, time limits, partial records

def test_every_case_starts_from_its_own_seed_whatever_the_notebook_did(probe):
    def draw():
        np.random.rand(int(np.random.rand() * 5))  # the notebook's use of the RNG, different every time
        return None

    legacy = np.random.RandomState(7)  # the stream np.random.seed(7) starts, by another route
    want_np = legacy.rand(2)
    want_py = random.Random(7).random()
    test = HiddenTest([Case("draw", expect=Equal(None)),
                       *[Case("sample", expect=Close(np.append(want_np, want_py), rtol=0, atol=0), seed=7)
                         for _ in range(2)]])
    np.random.seed(123)
    random.seed(123)
    assert probe(test, draw=draw, sample=lambda: np.append(np.random.rand(2), random.random())).passed


def test_a_case_over_its_time_limit_fails_alone(probe):
    def spin(swallow):
        swallowed = 0
        while True:
            try:
                while True:
                    pass
            except BaseException:  # a student's bare except swallows an alarm, the probe sends another
                if swallowed == swallow:
                    raise
                swallowed += 1

    test = HiddenTest([Case("spin", (0,), expect=Close(0), timeout=0.2, about="a"),
                       Case("spin", (3,), expect=Close(0), timeout=0.2, about="b"),
                       Case("one", expect=Close(1.0), about="c")])
    verdict = probe(test, spin=spin, one=lambda: 1.0)
    assert verdict.failures == ("spin (a): raised Timeout: took longer than its 0.2 s time limit",
                                "spin (b): raised Timeout: took longer than its 0.2 s time limit")
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left for the notebook's next cell


def test_a_cell_stopped_half_way_keeps_the_cases_it_finished(probe):
    def f(x):
        if x == 2:
            raise KeyboardInterrupt  # what the cell's timeout does to the kernel
        return float(x)

    test = HiddenTest([Case("f", (x,), expect=Close(float(x)), about=f"x={x}") for x in (1, 2, 3)])
    with pytest.raises(KeyboardInterrupt):
        probe(test, f=f)
    outcomes = read_record(probe.dir / "outputs" / "t.json", 3, partial=True)
    assert len(outcomes) == 1 and outcomes[0].value == 1.0
    verdict = judge(test, probe.dir / "outputs" / "t.json", NO_ANSWERS, "KeyboardInterrupt: ")
    assert verdict.failures == ("2 of 3 cases did not run: the cell stopped at KeyboardInterrupt: ",)
    with pytest.raises(RecordError, match="wrong number"):
        read_record(probe.dir / "outputs" / "t.json", 3)  # a full record is still required by default


def test_every_failing_case_is_listed_bounded_and_shown_in_the_cell(probe):
    test = HiddenTest([Case("f", (i,), expect=Close(float(i)), about=f"case {i}") for i in range(8)])
    verdict = probe(test, f=lambda i: -1.0 if i else 0.0)
    assert len(verdict.failures) == 7 and verdict.failures[0].startswith("f (case 1): wrong values")
    assert verdict.reason.startswith("7 checks failed: f (case 1)") and verdict.reason.endswith("; and 2 more")
    cell = nbformat.v4.new_code_cell("record_for_grader('t', f=f)")
    _replace_outputs(cell, verdict, "t")
    (error,) = cell.outputs
    assert error.evalue == verdict.reason and error.traceback[1:] == [f"  - {p}" for p in verdict.failures]


# ---------------------------------------------------------------- bounds, both sides

def test_the_probe_and_the_reader_agree_on_the_bounds():
    assert (helpers.PROBE_MAX_DEPTH, helpers.PROBE_MAX_ITEMS, helpers.PROBE_MAX_NODES, helpers.PROBE_MAX_STR) == \
        (records.MAX_DEPTH, records.MAX_ITEMS, records.MAX_NODES, records.MAX_STR)


@pytest.mark.parametrize("value, type_name", [
    ([[[[[[[[[[1]]]]]]]]]], None),  # the list at depth 8 would hold items at depth 9: unsupported
    (list(range(10_001)), "list of more than 10000 items"),
    ({str(i): i for i in range(10_001)}, "dict of more than 10000 items"),
    ([[0] * 9_000, [0] * 9_000, [0] * 9_000], "value too large to record"),
    ([np.zeros(2**20)] * 3, "value too large to record"),
    ({"k" * 1001: 1}, "dict with keys that are not short strings"),
], ids=["depth", "list items", "dict items", "nodes", "bytes", "key length"])
def test_the_probe_bounds_what_it_records(probe, value, type_name):
    got = recorded(probe, value)
    if type_name is None:
        inner = got
        for _ in range(7):
            inner = inner[0]
        assert isinstance(inner[0], Unsupported) and inner[0].type_name == "deeply nested value"
    else:
        assert isinstance(got, Unsupported) and got.type_name == type_name
    assert recorded(probe, "x" * 5000) == "x" * helpers.PROBE_MAX_STR


def _value(v: dict) -> str:
    return json.dumps({"results": [{"value": v}]})


@pytest.mark.parametrize("payload, problem", [
    (_value({"t": "dict", "items": [["a", {"t": "none"}], ["a", {"t": "none"}]]}), "malformed dict"),
    (_value({"t": "dict", "items": [[1, {"t": "none"}]]}), "malformed dict"),
    (_value({"t": "dict", "items": [["k" * 1001, {"t": "none"}]]}), "malformed dict"),
    (_value({"t": "dict", "items": {"a": 1}}), "malformed dict"),
    (_value({"t": "list", "items": [{"t": "none"}] * 10_001}), "malformed list"),
    (_value({"t": "list", "items": [{"t": "list", "items": [{"t": "none"}] * 10_000}] * 3}), "too many parts"),
    (json.dumps({"results": [{"steps": {"a": 1}}]}), "malformed scenario"),
    (json.dumps({"results": [{"steps": [{"value": {"t": "none"}}] * 10_001}]}), "malformed scenario"),
    (json.dumps({"results": [{"steps": ["x"]}]}), "malformed result"),
    (json.dumps({"results": [{"value": {"t": "none"}}] * 2}), "wrong number"),
])
def test_the_reader_refuses_what_the_probe_never_writes(tmp_path, payload, problem):
    path = tmp_path / "r.json"
    path.write_text(payload)
    with pytest.raises(RecordError, match=problem):
        read_record(path, 1, partial=True)


def test_a_forged_record_that_does_not_match_the_test_fails_with_a_reason(tmp_path):
    path = tmp_path / "r.json"
    scenario = HiddenTest([Scenario((New("A"), Observe("w", expect=Close(0.0))), about="s")])
    for forged, reason in [({"value": {"t": "none"}}, "does not match the scenario"),
                           ({"steps": [{"value": {"t": "none"}}]}, "stopped before w without a reason")]:
        path.write_text(json.dumps({"results": [forged]}))
        verdict = judge(scenario, path, NO_ANSWERS)
        assert not verdict.passed and reason in verdict.reason
    path.write_text(json.dumps({"results": [{"steps": []}]}))
    assert "holds steps for a single call" in judge(DICT_TEST, path, NO_ANSWERS).reason

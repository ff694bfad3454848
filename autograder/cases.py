"""The vocabulary hidden tests are written in.

A hidden test is data: a list of :class:`Case` objects, each naming a
function from the student's notebook, the arguments to call it with, and an
expectation, or of :class:`Scenario` objects, steps run in order on one object
of a class the student wrote (construct it, set attributes, call methods,
observe attributes). The grading kernel only *runs* the calls (see
``helpers.record_for_grader``) and records plain values; the expectations are
checked afterwards in the grader's own process (:mod:`autograder.scoring`),
where nothing the student wrote can rebind ``np.allclose`` or ``assert``.
Relations between the recorded values of several cases or steps (the same seed
gives the same weights, a gradient agrees with finite differences of the
student's own loss) are in :mod:`autograder.relations`.

Expected values must come from an independent route (a closed form, an
identity, a finite difference, a hand-worked example), never from running
the solution notebook's code.

Every expectation returns ``None`` when satisfied, or one sentence for the
student saying what is wrong and where, e.g. ``"wrong shape: expected (50, 10),
got (10, 50)"`` or ``"grads['W1']: wrong values in 3 of 6 entries"``, but never
the right value: feedback must not turn a hidden input into a known answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .records import Outcome, Unsupported


MAX_LISTED = 5  # wrong elements named in one reason; the rest are counted


class Expectation:
    """Base class: ``check(outcome) -> None | str``."""

    def check(self, outcome: Outcome) -> str | None:
        raise NotImplementedError

    def check_at(self, outcome: Outcome, root: str) -> str | None:
        """``check``, with the problem said of ``root`` (a step's name, e.g. ``"grads"``) when it is given."""
        return _at(root, self.check(outcome))

    def __and__(self, other: "Expectation") -> "Expectation":
        return AllOf((self, other))


@dataclass(frozen=True)
class AllOf(Expectation):
    parts: tuple[Expectation, ...]

    def check(self, outcome: Outcome) -> str | None:
        return self.check_at(outcome, "")

    def check_at(self, outcome: Outcome, root: str) -> str | None:
        for part in self.parts:
            problem = part.check_at(outcome, root)
            if problem:
                return problem
        return None

    def __and__(self, other: Expectation) -> Expectation:
        return AllOf(self.parts + (other,))


def _at(where: str, problem: str | None) -> str | None:
    return f"{where}: {problem}" if problem and where else problem


def _returned(outcome: Outcome, promise: str = "numbers or an array") -> str | None:
    """The problem when there is no value to compare: the call raised or returned something unrecordable."""
    if outcome.raised:
        return f"raised {outcome.raised}: {outcome.message}"
    if isinstance(outcome.value, Unsupported):
        return f"returned a {outcome.value.type_name}, expected {promise}"
    return None


def is_structure(value: Any) -> bool:
    """Whether an expected value is compared element by element: a dict, or a list or tuple holding
    an array, a dict or such a structure. A list of numbers (or of lists of numbers) is one array."""
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and any(
        isinstance(v, np.ndarray) or is_structure(v) for v in value)


def promise(expected: Any) -> str:
    """What a value like ``expected`` is, as a reason says it: "a dict of arrays", "a tuple of 2 values"."""
    if isinstance(expected, str):
        return "a string"
    if expected is None:
        return "None"
    if isinstance(expected, dict):
        numeric = all(not isinstance(v, (str, dict)) and v is not None for v in expected.values())
        return "a dict of arrays" if numeric else "a dict"
    if is_structure(expected):
        items = "arrays" if all(isinstance(v, np.ndarray) for v in expected) else "values"
        return f"a {type(expected).__name__} of {len(expected)} {items}"
    return "numbers or an array"


def _what(value: Any) -> str:
    """What a decoded value is, for a reason."""
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (dict, list, tuple)):
        return f"a {type(value).__name__}" + (f" of {len(value)} items" if not isinstance(value, dict) else "")
    if isinstance(value, str):
        return "a string"
    return "None" if value is None else "a number"


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    dtype_kind: str | None
    exact: bool  # strings compared with ==, as Equal does


def mismatches(got: Any, want: Any, where: str, tol: Tolerance, names: dict | None = None) -> list[str]:
    """Every element of ``got`` that differs from ``want``, as ``"<where>[key]: problem"``.

    got: a decoded value (see records.Outcome). want: the expected value; dicts, and lists or
    tuples of arrays (see is_structure), are compared element by element, recursively, with
    missing and unexpected keys named; anything else is one array (or string, or None).
    names: top-level key or index -> what the element is, shown after it ("[1] (the bias gradient)").
    """
    names = names or {}
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [_at(where, f"returned {_what(got)}, expected {promise(want)}")]
        problems = []
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        if missing:
            problems.append(_at(where, "missing " + ", ".join(f"[{k!r:.40}]" for k in missing[:MAX_LISTED])))
        if extra:
            problems.append(_at(where, "unexpected " + ", ".join(f"[{k!r:.40}]" for k in extra[:MAX_LISTED])))
        pairs = [(k, got[k], v) for k, v in want.items() if k in got]
    elif is_structure(want):
        if not isinstance(got, (list, tuple)):
            return [_at(where, f"returned {_what(got)}, expected {promise(want)}")]
        if len(got) != len(want):
            return [_at(where, f"returned {len(got)} items, expected {len(want)}")]
        problems, pairs = [], list(zip(range(len(want)), got, want))
    else:
        problem = _leaf_problem(got, want, tol)
        return [_at(where, problem)] if problem else []
    for key, got_item, want_item in pairs:
        label = f" ({names[key]})" if key in names else ""
        problems += mismatches(got_item, want_item, f"{where}[{key!r}]{label}", tol)
    return problems


def _leaf_problem(got: Any, want: Any, tol: Tolerance) -> str | None:
    """One array (or number, string, None) against its expected value."""
    if isinstance(got, Unsupported):
        return f"returned a {got.type_name}, expected {promise(want)}"
    if tol.exact and (isinstance(want, str) or isinstance(got, str)):
        same = isinstance(got, str) and isinstance(want, str) and got == want
        return None if same else f"wrong answer (got {got!r:.80})"
    if want is None:
        return None if got is None else f"returned {_what(got)}, expected None"
    want_a = np.asarray(want)
    try:
        got_a = np.asarray(got)
    except Exception:  # parts of different shapes, (Y, np.zeros(3)) say: no array at all
        return f"returned {_what(got)} whose parts do not form one array, expected an array of shape {want_a.shape}"
    if got_a.dtype.kind not in "biufc":
        return f"returned {type(got).__name__}, expected numbers"
    if got_a.shape != want_a.shape:
        return f"wrong shape: expected {want_a.shape}, got {got_a.shape}"
    if tol.dtype_kind and got_a.dtype.kind not in tol.dtype_kind:
        return f"wrong dtype: got {got_a.dtype}, expected {_kind_name(tol.dtype_kind)}"
    if not np.allclose(got_a, want_a, rtol=tol.rtol, atol=tol.atol, equal_nan=True):
        bad = ~np.isclose(got_a, want_a, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
        worst = np.unravel_index(np.argmax(np.where(bad, np.abs(got_a - want_a), -1)), got_a.shape) \
            if got_a.ndim else ()
        return (f"wrong values in {int(bad.sum())} of {got_a.size} entries "
                f"(e.g. at index {tuple(int(i) for i in worst)})")
    return None


def joined(problems: list[str]) -> str | None:
    """Problems as one reason: the first MAX_LISTED, then how many more; None if there are none."""
    if not problems:
        return None
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return "; ".join(problems[:MAX_LISTED]) + more


@dataclass(frozen=True)
class Close(Expectation):
    """Same shape as ``expected`` and values within ``rtol``/``atol`` (NaN == NaN).

    expected: an array (or numbers, or lists of numbers), or a structure of them:
        a dict with string keys, or a list or tuple holding arrays (see is_structure),
        nested; a structure is compared element by element and the reason names
        every wrong element (``['W1']: wrong shape: ...``), missing and unexpected keys.
    dtype_kind: if given, the returned dtype's kind must be one of these
        characters ("f" float, "iu" integer, "b" bool, "u" unsigned), e.g. to
        require that an image stays ``uint8``; in a structure, for every array.
    names: top-level key or index -> what that element is, for the reason, e.g.
        ``{1: "the bias gradient"}`` gives ``[1] (the bias gradient): wrong values ...``.
    """

    expected: Any
    rtol: float = 1e-6
    atol: float = 1e-9
    dtype_kind: str | None = None
    names: dict = field(default_factory=dict)

    def check(self, outcome: Outcome) -> str | None:
        return self.check_at(outcome, "")

    def check_at(self, outcome: Outcome, root: str) -> str | None:
        problem = _returned(outcome, promise(self.expected))
        if problem:
            return _at(root, problem)
        return joined(mismatches(outcome.value, self.expected, root, self._tolerance(), self.names))

    def _tolerance(self) -> Tolerance:
        return Tolerance(self.rtol, self.atol, self.dtype_kind, exact=False)


def _kind_name(kinds: str) -> str:
    names = {"f": "a float array", "i": "an integer array", "u": "an unsigned integer array",
             "b": "a boolean array", "c": "a complex array"}
    return " or ".join(names[k] for k in kinds)


@dataclass(frozen=True)
class Equal(Close):
    """Exactly equal (``==``), for strings, labels and small integer results, or structures of them
    (compared element by element, as Close does)."""

    rtol: float = field(default=0.0, init=False)
    atol: float = field(default=0.0, init=False)

    def _tolerance(self) -> Tolerance:
        return Tolerance(0.0, 0.0, self.dtype_kind, exact=True)


@dataclass(frozen=True)
class Raises(Expectation):
    """The call must raise ``exception`` (a class name, e.g. ``"ValueError"``)."""

    exception: str
    why: str = ""

    def check(self, outcome: Outcome) -> str | None:
        if outcome.raised == self.exception:
            return None
        if outcome.raised:
            return f"raised {outcome.raised}, expected {self.exception} ({self.why})"
        return f"returned normally, expected it to raise {self.exception} ({self.why})"


@dataclass(frozen=True)
class NoWarnings(Expectation):
    """No warning (e.g. a numpy overflow RuntimeWarning) during the call."""

    def check(self, outcome: Outcome) -> str | None:
        if outcome.warnings:
            return f"emitted {outcome.warnings[0]} (the computation is not numerically stable)"
        return None


@dataclass(frozen=True)
class Satisfies(Expectation):
    """A property of the returned value: ``predicate(value) -> bool``, with the failure message."""

    predicate: Callable[[Any], bool]
    message: str

    def check(self, outcome: Outcome) -> str | None:
        problem = _returned(outcome)
        if problem:
            return problem
        try:
            return None if self.predicate(outcome.value) else self.message
        except Exception:  # a malformed value (wrong type, ragged) is simply wrong
            return self.message


def real(value: Any) -> np.ndarray:
    """``value`` as a float64 array; TypeError unless it holds real numbers (a complex number, a
    string or an object is not cast silently)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError("not real numbers")
    return array.astype(np.float64)


def one_number(expected: float, what: str, rtol: float = 1e-9, atol: float = 1e-12) -> Satisfies:
    """One real number close to ``expected``: a float, a numpy scalar, a 0-d or one-element array.

    what: what the number is, for the message ("the loss").
    """
    def ok(value):
        got = np.ravel(real(value))
        return got.shape == (1,) and bool(np.isclose(got[0], expected, rtol=rtol, atol=atol))

    return Satisfies(ok, f"wrong value (expected one number: {what})")


DEFAULT_TIMEOUT = 60.0  # seconds per case or scenario: generous, a wrong loop is what it stops


@dataclass(frozen=True)
class Student:
    """An argument standing for the notebook's own function or class ``name`` (one the hidden
    cell passes to record_for_grader), e.g. ``Case("apply", (Student("sigmoid"), z), ...)``."""

    name: str


@dataclass(frozen=True)
class Result:
    """An argument standing for what the step named ``step``, earlier in the same scenario,
    returned: the live object in the kernel, not its record (e.g. the cache ``fprop`` returned)."""

    step: str


def _wire(arg: Any, steps: dict[str, int]) -> Any:
    """``arg`` as the kernel receives it: markers become plain data the probe resolves
    (``{"__probe__": ("student", name)}``, ``{"__probe__": ("result", step index)}``)."""
    if isinstance(arg, Student):
        return {"__probe__": ("student", arg.name)}
    if isinstance(arg, Result):
        if arg.step not in steps:
            raise ValueError(f"Result({arg.step!r}): no earlier step of this scenario has that name")
        return {"__probe__": ("result", steps[arg.step])}
    if type(arg) in (list, tuple):
        return type(arg)(_wire(a, steps) for a in arg)
    if type(arg) is dict:
        return {k: _wire(v, steps) for k, v in arg.items()}
    return arg


@dataclass(frozen=True)
class Case:
    """One call of a student function and what it must do.

    call: the function's name in the notebook (e.g. ``"one_hot"``).
    args, kwargs: the inputs; copied fresh for every call; may hold Student markers.
    expect: the expectation checked in the grader's process.
    about: what the case exercises, shown to the student on failure
        (e.g. ``"50 labels, k=10"``, ``"a 2x2 saddle"``): a description,
        never the expected answer and never the input spelled out in full.
    name: how relations refer to this case's value (optional).
    seed: numpy's global RNG and ``random`` are seeded with it just before the call.
    timeout: seconds the call may take; past it the case fails ("raised Timeout").
    """

    call: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expect: Expectation = field(kw_only=True)
    about: str = field(default="", kw_only=True)
    name: str = field(default="", kw_only=True)
    seed: int = field(default=0, kw_only=True)
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)

    def __post_init__(self):
        self.wire()  # a Result marker outside a scenario is the instructor's mistake: fail when defined

    def wire(self) -> dict:
        """What the kernel receives for this case (no expectation)."""
        return {"call": self.call, "args": _wire(self.args, {}), "kwargs": _wire(self.kwargs, {}),
                "seed": self.seed, "timeout": self.timeout}


# ---------------------------------------------------------------- scenario steps
# Each step may carry an expectation (checked on what it returned or observed) and a
# name (for Result markers, relations, and as what the reason names: "grads['W1']: ...").


@dataclass(frozen=True)
class _Step:
    expect: Expectation | None = field(default=None, kw_only=True)
    name: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class _Invocation(_Step):
    """A step that calls something: ``target(*args, **kwargs)``."""

    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    DO = ""  # how the probe calls target (see helpers.py)

    def wire(self, steps: dict[str, int]) -> dict:
        return {"do": self.DO, "name": self.target, "args": _wire(self.args, steps),
                "kwargs": _wire(self.kwargs, steps)}

    @property
    def title(self) -> str:
        return self.name or f"{self.target}(...)"


class New(_Invocation):
    """Construct the scenario's object: ``target(*args, **kwargs)``, target a class the notebook defines."""

    DO = "new"


class Call(_Invocation):
    """Call a method of the object; what it returns is recorded (and checked by ``expect``)."""

    DO = "call"


class CallFunction(_Invocation):
    """Call a function the notebook defines (not a method), within the scenario."""

    DO = "function"


@dataclass(frozen=True)
class Set(_Step):
    """Set an attribute of the object (``obj.w = value``), e.g. to start from given weights."""

    attr: str
    value: Any

    def wire(self, steps: dict[str, int]) -> dict:
        return {"do": "set", "name": self.attr, "value": _wire(self.value, steps)}

    @property
    def title(self) -> str:
        return self.name or f"setting {self.attr}"


@dataclass(frozen=True)
class Observe(_Step):
    """Record an attribute of the object as it is now (after the steps before), e.g. the weights."""

    attr: str

    def wire(self, steps: dict[str, int]) -> dict:
        return {"do": "observe", "name": self.attr}

    @property
    def title(self) -> str:
        return self.name or self.attr


def expects_raise(expect: Expectation | None) -> bool:
    """Whether the expectation is (or includes) Raises."""
    if isinstance(expect, AllOf):
        return any(expects_raise(part) for part in expect.parts)
    return isinstance(expect, Raises)


@dataclass(frozen=True)
class Scenario:
    """Steps run in order in the kernel on one object (and the notebook's functions).

    steps: New, Set, Call, CallFunction and Observe steps. The kernel stops at the
        first step that raises, so a step expecting Raises must be the last one.
    about: what the scenario exercises, shown on failure (as Case.about).
    seed, timeout: as for Case, for the whole scenario.
    """

    steps: tuple
    about: str = ""
    seed: int = 0
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self):
        self.wire()  # an unknown Result marker is the instructor's mistake: fail when the test is defined
        if any(expects_raise(step.expect) for step in self.steps[:-1]):
            raise ValueError("only the last step of a scenario may expect Raises: the kernel stops there")

    @property
    def call(self) -> str:
        """The scenario's title in reasons: the class it constructs, or the first function it calls."""
        first = next((s for s in self.steps if isinstance(s, (New, CallFunction))), None)
        return first.target if first else "scenario"

    def wire(self) -> dict:
        """What the kernel receives (no expectation); Result markers become step indices."""
        names: dict[str, int] = {}
        steps = []
        for index, step in enumerate(self.steps):
            steps.append(step.wire(names))
            if step.name:
                names[step.name] = index
        return {"steps": steps, "seed": self.seed, "timeout": self.timeout}


@dataclass(frozen=True)
class HiddenTest:
    """The hidden test of one autograded test cell (keyed by its grade_id).

    cases: the calls (Case) and scenarios (Scenario), with their expectations.
    no_loops_in: grade_ids of answer cells whose code must not use Python
        ``for``/``while`` loops or comprehensions (checked on the source).
    banned: answer-cell grade_id -> names the answer must not use
        (e.g. ``{"rotate90": ("rot90",)}`` when the exercise is to build it).
    relations: autograder.relations.Relation objects, judged after every case
        on the recorded values of named cases and steps.
    """

    cases: list
    no_loops_in: tuple[str, ...] = ()
    banned: dict[str, tuple[str, ...]] = field(default_factory=dict)
    relations: tuple = ()

    def __post_init__(self):
        names = [n for n in self.named() if n]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"names used twice in one hidden test: {sorted(duplicates)}")
        unknown = {ref for relation in self.relations for ref in relation.refs} - set(names)
        if unknown:
            raise ValueError(f"relations refer to no case or step: {sorted(unknown)}")

    def named(self) -> list[str]:
        """The names of every case and scenario step ('' for the unnamed), in order."""
        return [n for case in self.cases
                for n in ([s.name for s in case.steps] if isinstance(case, Scenario) else [case.name])]

    @property
    def calls(self) -> list[dict]:
        """The inputs shipped to the grading kernel (no expectations)."""
        return [case.wire() for case in self.cases]

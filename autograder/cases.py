"""The vocabulary hidden tests are written in.

A hidden test is data: a list of :class:`Case` objects, each naming a
function from the student's notebook, the arguments to call it with, and an
expectation. The grading kernel only *runs* the calls (see
``helpers.record_for_grader``); the expectations are checked afterwards in the
grader's own process (:mod:`autograder.scoring`), where nothing the student
wrote can rebind ``np.allclose`` or ``assert``.

Expected values must come from an independent route (a closed form, an
identity, a finite difference, a hand-worked example), never from running
the solution notebook's code.

Every expectation returns ``None`` when satisfied, or one sentence for the
student saying what is wrong and where, e.g. ``"wrong shape: expected (50, 10),
got (10, 50)"``, but never the right value: feedback must not turn a hidden
input into a known answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .records import Outcome, Unsupported


class Expectation:
    """Base class: ``check(outcome) -> None | str``."""

    def check(self, outcome: Outcome) -> str | None:
        raise NotImplementedError

    def __and__(self, other: "Expectation") -> "Expectation":
        return AllOf((self, other))


@dataclass(frozen=True)
class AllOf(Expectation):
    parts: tuple[Expectation, ...]

    def check(self, outcome: Outcome) -> str | None:
        for part in self.parts:
            problem = part.check(outcome)
            if problem:
                return problem
        return None

    def __and__(self, other: Expectation) -> Expectation:
        return AllOf(self.parts + (other,))


def _returned(outcome: Outcome) -> str | None:
    if outcome.raised:
        return f"raised {outcome.raised}: {outcome.message}"
    if isinstance(outcome.value, Unsupported):
        return f"returned a {outcome.value.type_name}, expected numbers or an array"
    return None


@dataclass(frozen=True)
class Close(Expectation):
    """Same shape as ``expected`` and values within ``rtol``/``atol`` (NaN == NaN).

    dtype_kind: if given, the returned dtype's kind must be one of these
        characters ("f" float, "iu" integer, "b" bool, "u" unsigned), e.g. to
        require that an image stays ``uint8``.
    """

    expected: Any
    rtol: float = 1e-6
    atol: float = 1e-9
    dtype_kind: str | None = None

    def check(self, outcome: Outcome) -> str | None:
        problem = _returned(outcome)
        if problem:
            return problem
        got, want = np.asarray(outcome.value), np.asarray(self.expected)
        if got.dtype.kind not in "biufc":
            return f"returned {type(outcome.value).__name__}, expected numbers"
        if got.shape != want.shape:
            return f"wrong shape: expected {want.shape}, got {got.shape}"
        if self.dtype_kind and got.dtype.kind not in self.dtype_kind:
            return f"wrong dtype: got {got.dtype}, expected {_kind_name(self.dtype_kind)}"
        if not np.allclose(got, want, rtol=self.rtol, atol=self.atol, equal_nan=True):
            bad = ~np.isclose(got, want, rtol=self.rtol, atol=self.atol, equal_nan=True)
            worst = np.unravel_index(np.argmax(np.where(bad, np.abs(got - want), -1)), got.shape) if got.ndim else ()
            return (f"wrong values in {int(bad.sum())} of {got.size} entries "
                    f"(e.g. at index {tuple(int(i) for i in worst)})")
        return None


def _kind_name(kinds: str) -> str:
    names = {"f": "a float array", "i": "an integer array", "u": "an unsigned integer array",
             "b": "a boolean array", "c": "a complex array"}
    return " or ".join(names[k] for k in kinds)


@dataclass(frozen=True)
class Equal(Expectation):
    """Exactly equal (``==``), for strings, labels and small integer results."""

    expected: Any

    def check(self, outcome: Outcome) -> str | None:
        problem = _returned(outcome)
        if problem:
            return problem
        got = outcome.value
        if isinstance(self.expected, str) or isinstance(got, str):
            return None if got == self.expected else f"wrong answer (got {got!r:.80})"
        return Close(self.expected, rtol=0, atol=0).check(outcome)


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


@dataclass(frozen=True)
class Case:
    """One call of a student function and what it must do.

    call: the function's name in the notebook (e.g. ``"one_hot"``).
    args, kwargs: the inputs; copied fresh for every call.
    expect: the expectation checked in the grader's process.
    about: what the case exercises, shown to the student on failure
        (e.g. ``"50 labels, k=10"``, ``"a 2x2 saddle"``): a description,
        never the expected answer and never the input spelled out in full.
    """

    call: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expect: Expectation = field(kw_only=True)
    about: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class HiddenTest:
    """The hidden test of one autograded test cell (keyed by its grade_id).

    cases: the calls and their expectations.
    no_loops_in: grade_ids of answer cells whose code must not use Python
        ``for``/``while`` loops or comprehensions (checked on the source).
    banned: answer-cell grade_id -> names the answer must not use
        (e.g. ``{"rotate90": ("rot90",)}`` when the exercise is to build it).
    """

    cases: list[Case]
    no_loops_in: tuple[str, ...] = ()
    banned: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def calls(self) -> list[dict]:
        """The inputs shipped to the grading kernel (no expectations)."""
        return [{"call": c.call, "args": c.args, "kwargs": c.kwargs} for c in self.cases]

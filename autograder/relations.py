"""Relations between recorded values, judged after every case of a hidden test.

A relation names cases and scenario steps (their ``name``) and checks what they
recorded, together, in the grader's process: e.g. two runs with the same seed
gave the same weights (:class:`Same`), a cost never rose over the epochs
(:class:`NonIncreasing`), a gradient agrees with finite differences of the
student's own loss (:func:`finite_differences` builds the steps that record the
loss at grader-chosen perturbations, and the :class:`GradientCheck` that
compares). As for every expectation, a reason says what is wrong and where,
never an expected value; the values related here are the student's own.

``check(values)`` gets the decoded values of ``refs``, in order, and returns
None or a problem; the scoring (autograder.scoring) makes sure every value is
there (recorded, not raised, not unsupported) before calling it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .cases import Call, Set, Tolerance, joined, mismatches


@dataclass(frozen=True)
class Relation:
    """refs: names of the cases and steps related; about: what the relation means, shown on failure."""

    refs: tuple[str, ...]
    about: str

    def check(self, values: list[Any]) -> str | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Same(Relation):
    """Every value equals the first exactly (element by element), e.g. the same seed, the same weights."""

    def check(self, values: list[Any]) -> str | None:
        exact = Tolerance(0.0, 0.0, None, exact=True)
        return joined([f"{ref} differs from {self.refs[0]}: {problem}"
                       for ref, value in zip(self.refs[1:], values[1:])
                       for problem in mismatches(value, values[0], "", exact)])


def _number(value: Any) -> float | None:
    """One number (a float, a numpy scalar, a one-element array), or None."""
    array = np.asarray(value)
    return float(array.reshape(-1)[0]) if array.size == 1 and array.dtype.kind in "biuf" else None


@dataclass(frozen=True)
class NonIncreasing(Relation):
    """Each value is one number, none larger than the one before (plus ``slack``), e.g. a cost per epoch."""

    slack: float = 1e-12

    def check(self, values: list[Any]) -> str | None:
        numbers = [_number(v) for v in values]
        if None in numbers:
            return f"{self.refs[numbers.index(None)]} is not one number"
        rises = [f"{b} is larger than {a}" for a, b, x, y in
                 zip(self.refs, self.refs[1:], numbers, numbers[1:]) if not y <= x + self.slack]
        return joined(rises)


@dataclass(frozen=True)
class Holds(Relation):
    """``predicate(*values) -> bool``; ``message`` when it is False (or cannot be evaluated)."""

    predicate: Callable[..., bool] = field(kw_only=True)
    message: str = field(kw_only=True)

    def check(self, values: list[Any]) -> str | None:
        try:
            return None if self.predicate(*values) else self.message
        except Exception:  # a malformed value (wrong type, ragged) is simply not related as required
            return self.message


@dataclass(frozen=True)
class GradientCheck(Relation):
    """refs[0] (a dict of gradients, param name -> array) equals the centered differences
    (L(p + h e_i) - L(p - h e_i)) / 2h of the recorded losses refs[1:], taken in pairs for
    each entry of each parameter, in the order of ``shapes``. Made by finite_differences."""

    shapes: tuple[tuple[str, tuple[int, ...]], ...] = field(kw_only=True)
    h: float = field(kw_only=True)
    rtol: float = field(kw_only=True)
    atol: float = field(kw_only=True)

    def check(self, values: list[Any]) -> str | None:
        losses = [_number(v) for v in values[1:]]
        if None in losses:
            return f"{self.refs[1 + losses.index(None)]} is not one number"
        slopes = iter((plus - minus) / (2 * self.h) for plus, minus in zip(losses[::2], losses[1::2]))
        expected = {key: np.array([next(slopes) for _ in range(int(np.prod(shape)))]).reshape(shape)
                    for key, shape in self.shapes}
        return joined(mismatches(values[0], expected, self.refs[0], Tolerance(self.rtol, self.atol, None, False)))


def set_attributes_then(method: str, args: tuple = (), kwargs: dict | None = None):
    """How to evaluate the loss at given parameters when they are attributes of the scenario's object:
    set each one (``obj.W1 = ...``), then call ``method(*args, **kwargs)``. For finite_differences."""
    def evaluate(params: dict[str, np.ndarray], name: str) -> list:
        return [*(Set(key, value) for key, value in params.items()),
                Call(method, args, kwargs or {}, name=name)]

    return evaluate


def finite_differences(params: dict[str, np.ndarray], evaluate: Callable[[dict, str], list], grads: str,
                       about: str, h: float = 1e-5, rtol: float = 1e-5, atol: float = 1e-7):
    """The scenario steps that record the loss at every ``p +- h e_i``, and the GradientCheck of ``grads``.

    params: parameter name -> its value (float arrays) at the point where the gradient is checked.
    evaluate(params, name) -> steps that record the loss at ``params`` under the step name ``name``
        (e.g. set_attributes_then("loss", (X, Y))).
    grads: the name of the step that recorded the gradient dict (keys: those of params).
    about: what the relation checks, shown on failure.
    Returns (steps, relation): add the steps to the scenario after ``grads``, the relation to the HiddenTest.
    Centered differences in float64 with h = 1e-5 are good to about 1e-10 for a smooth loss, far
    inside rtol = 1e-5. The last steps set every parameter back to ``params``.
    """
    params = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    steps, names = [], []
    for key, value in params.items():
        for index in np.ndindex(value.shape):
            for sign, mark in ((1, "+"), (-1, "-")):
                moved = value.copy()
                moved[index] += sign * h
                names.append(f"loss at {key}{list(index)} {mark} h")
                steps += evaluate({**params, key: moved}, names[-1])
    steps += [Set(key, value) for key, value in params.items()]  # leave the object where it was
    relation = GradientCheck((grads, *names), about, shapes=tuple((k, v.shape) for k, v in params.items()),
                             h=h, rtol=rtol, atol=atol)
    return steps, relation

"""Reference numerics for hidden tests: expected values by a route independent of numpy's floats.

Hidden tests need expected values that do not come from the solution notebook
and do not share its float64 round-off, overflow or cancellation. This module
has the two routes every assignment uses:

* 400-digit decimals (``decimal``): a function written with ``Decimal``
  arithmetic straight from its textbook definition (``sigmoid``,
  ``softplus``, ...) and evaluated entry by entry (``in_decimals``), where
  e^10000 is just a large number; derivatives are centered differences
  (``derivative``, ``second_derivative``) with h = 1e-40, so no derivative
  formula is typed twice;
* exact rationals (``fractions``): a float converted without rounding
  (``exact``) and finite differences that are exact for low-degree
  polynomials (``gradient``, ``hessian``).

Everything here runs in the grader's process when hidden tests are built; none
of it enters the student's kernel.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Callable

import numpy as np

# 400 significant digits and an exponent range wide enough for e^(+-1e4) and far beyond.
CONTEXT = decimal.Context(prec=400, Emin=-10**8, Emax=10**8)
# Step of the decimal differences: truncation error ~ STEP^2 = 1e-80, round-off ~ 1e-400 / STEP = 1e-360.
STEP = Decimal("1e-40")


# ------------------------------------------------------------------ textbook definitions, in Decimal

def sigmoid(t: Decimal) -> Decimal:
    """1 / (1 + e^-t) for one Decimal, to the working precision (400 digits under CONTEXT)."""
    return 1 / (1 + (-t).exp())


def softplus(t: Decimal) -> Decimal:
    """ln(1 + e^t) for one Decimal, to the working precision (relative, also where it is ~e^t)."""
    return (1 + t.exp()).ln()


# ------------------------------------------------------------------ finite differences

def derivative(g: Callable, h=STEP) -> Callable:
    """The centered difference t -> (g(t + h) - g(t - h)) / 2h of a function of one number.

    g and t: Decimal (under CONTEXT) or Fraction; h of the same kind.
    Precision: error h^2 |g'''| / 6 (1e-80 relative for the default STEP) plus round-off
    ~1e-360 times |g| near t in decimals; exact in fractions when g is a polynomial of degree <= 2.
    """
    return lambda t: (g(t + h) - g(t - h)) / (2 * h)


def second_derivative(g: Callable, h=STEP) -> Callable:
    """The second centered difference t -> (g(t + h) - 2 g(t) + g(t - h)) / h^2.

    Kinds as for ``derivative``. Precision: error h^2 |g''''| / 12 (1e-80 relative for STEP) plus
    round-off ~1e-320 times |g| near t in decimals; exact in fractions for degree <= 3.
    """
    return lambda t: (g(t + h) - 2 * g(t) + g(t - h)) / (h * h)


def extrapolated_derivative(g: Callable, h) -> Callable:
    """Richardson's extrapolation (4 D(h) - D(2h)) / 3 of the centered difference D: error O(h^4).

    Kinds as for ``derivative``; exact in fractions when g is a polynomial of degree <= 4.
    """
    return lambda t: (4 * derivative(g, h)(t) - derivative(g, 2 * h)(t)) / 3


def _along(f: Callable, point: list, i: int) -> Callable:
    """f as a function of its i-th coordinate alone, the others fixed at ``point``."""
    return lambda t: f(*point[:i], t, *point[i + 1:])


def gradient(f: Callable, point, h=Fraction(1, 8)) -> np.ndarray:
    """The gradient of f(x_1, ..., x_n) at ``point``, in exact fractions, as float64 (n,).

    f: takes n Fractions and returns a Fraction (a polynomial written with + - * and powers).
    point: n floats or ints, converted exactly.
    Exact (then correctly rounded to float64) when f has degree <= 4 in each coordinate;
    for any other f it is only an O(h^4) finite difference with h = 1/8: use decimals instead.
    """
    p = [exact(v) for v in point]
    return np.array([float(extrapolated_derivative(_along(f, p, i), h)(p[i])) for i in range(len(p))])


def hessian(f: Callable, point, h=Fraction(1, 8)) -> np.ndarray:
    """The Hessian of f(x_1, ..., x_n) at ``point``, in exact fractions, as float64 (n, n), symmetric.

    f and point as for ``gradient``. Diagonal: second differences; off-diagonal: the centered
    difference in x_j of the centered difference in x_i. Exact (then correctly rounded) when f is
    a polynomial of total degree <= 3; for any other f only an O(h^2) finite difference.
    """
    p = [exact(v) for v in point]

    def entry(i, j):
        if i == j:
            return second_derivative(_along(f, p, i), h)(p[i])
        return derivative(lambda u: derivative(_along(f, [*p[:j], u, *p[j + 1:]], i), h)(p[i]), h)(p[j])

    return np.array([[float(entry(i, j)) for j in range(len(p))] for i in range(len(p))])


# ------------------------------------------------------------------ conversions and entrywise evaluation

def exact(v) -> Fraction:
    """The exact rational value of a float (or int, or numpy number): Fraction(0.1) is not 1/10."""
    return Fraction(float(v))


def entrywise(g: Callable, *arrays, convert: Callable = float) -> np.ndarray:
    """g applied entry by entry, with numpy broadcasting, as a float64 array.

    g: takes one number per array (each entry as ``convert(float(entry))``) and returns a number.
    arrays: anything np.asarray turns into floats (numbers, lists, arrays), broadcast together.
    Returns: float64 of the broadcast shape (shape () for numbers); each value is float(g(...)),
    so a Decimal or Fraction result is rounded to float64 once, correctly.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    out = [float(g(*(convert(float(v)) for v in entry))) for entry in zip(*(a.ravel() for a in arrays))]
    return np.array(out, dtype=np.float64).reshape(arrays[0].shape)


def in_decimals(g: Callable, *arrays) -> np.ndarray:
    """``entrywise`` with each entry an exact Decimal and g evaluated at 400 digits (CONTEXT).

    For g built from the definitions above (and ``derivative`` of them), the float64 result is
    the correctly rounded true value wherever that is a normal float64.
    """
    with decimal.localcontext(CONTEXT):
        return entrywise(g, *arrays, convert=Decimal)


# ------------------------------------------------------------------ bisection

def supremum(holds: Callable[[float], bool]) -> float:
    """sup {x > 0 : holds(x)} for a condition that holds exactly on an interval (0, s), s > 0.

    holds: float -> bool, true on (0, s) and false from s on.
    Doubles an upper bound from 1 until the condition fails, then bisects 200 times (enough to
    reach float64 resolution for any s); returns the smallest bound found where it fails,
    s itself when s is a float reached by halving (1/2, 2, 0.75, ...), else within an ulp of s.
    """
    lo, hi = 0.0, 1.0
    while holds(hi):
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return hi

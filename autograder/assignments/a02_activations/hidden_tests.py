"""Hidden tests of assignment 02, one entry per test cell (grade_id).

``test_<name>_basic`` checks the rule of the notebook's visible examples on
inputs of the same kind that the notebook never shows: a visible check runs in
the student's kernel and hands it the expected value, so the visible inputs
themselves prove nothing (the visible points are decided here, out of the
student's reach);
where the notebook's visible check is about stability (sigmoid and softplus at
+-1000, c2 at saturated logits), its ``_basic`` cases include a far-tail input
with no RuntimeWarning allowed, so that the visible check and its basic cases
decide the same rule;
``test_<name>_hidden`` checks the same rule on inputs the student never saw:
the far tails with no RuntimeWarning (and, for the sigmoid, a tail value the
naive formula gets wrong even with its warnings silenced), the conventions at
the kinks (sign(0) = 0, relu'(0) = 0 inside the ReLU unit), other shapes and
dtypes, broadcasting, degenerate Hessians and divergent step sizes.

Expected values come from an independent route, never from the solution notebook:

* the activations and losses from their textbook definitions (1 / (1 + e^-z),
  ln(1 + e^z), the two-logarithm cross-entropy), evaluated with the ``decimal``
  module at 400 digits, where e^10000 is just a large number and nothing
  overflows or cancels;
* every derivative from centered differences of those definitions (h = 1e-40,
  still in 400-digit decimals), so no derivative formula is typed twice;
* sign from its definition, entry by entry; the ReLU unit's gradient from
  difference quotients in exact fractions, with a step that stays on one side of
  the kink (and, at the kink itself, the notebook's convention relu'(0) = 0);
* Part B in exact rational arithmetic (``fractions``): the gradient and
  Hessian of the cubic f by finite differences (exact for a cubic), gradient
  descent by its closed form rho^t w0, the stable step size by bisection on the
  convergence condition, step counts by scanning the closed form;
* the classifications worked by hand (their reference in ``REFERENCES``, for
  the visible checks, takes the signs of the Hessian's eigenvalues instead: det H
  is their product and the trace their sum, in exact fractions).

``REFERENCES`` maps every graded function to the reference its hidden tests
use, as a function of the same signature, so that a test can run the
notebook's visible checks against them: visible checks and hidden
expectations cannot drift apart.

The general routines (the decimal definitions and differences, exact fractions, bisection)
live in :mod:`autograder.reference`; what is particular to this assignment stays here.

Where an answer reuses an earlier function (sigmoid inside c1 and c2_prime_w,
softplus inside c2, ...), the tails tested stay where a merely *naive* earlier
function is still exact and silent (z > -709 for sigmoid, |z| < 709 for
softplus), so that one mistake is not charged twice; each function's own
stability is tested where its own naive formula breaks.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

import numpy as np

from autograder.cases import Case, Close, Equal, HiddenTest, NoWarnings, Raises, Satisfies
from autograder.reference import (derivative, entrywise, exact, gradient, hessian, in_decimals, second_derivative,
                                  sigmoid, softplus, supremum)

rng = np.random.default_rng(2025)

# ------------------------------------------------------------------ the losses, in 400-digit decimals


def _c1(t):
    return (sigmoid(t) - 1) ** 2


def _c2(w, x, y):
    p = sigmoid(w * x)
    return -(y * p.ln() + (1 - y) * (1 - p).ln())


def _c2_dw(w, x, y):
    return derivative(lambda v: _c2(v, x, y))(w)


def _c2_dww(w, x, y):
    return second_derivative(lambda v: _c2(v, x, y))(w)


STABLE = NoWarnings()
BASE = {"rtol": 1e-9, "atol": 1e-15}   # sigmoid
TAIL = {"rtol": 1e-9, "atol": 1e-300}  # softplus: relative accuracy down to 1e-300
DERIV = {"rtol": 1e-7, "atol": 1e-12}  # derivatives and losses
RELATIVE = {"rtol": 1e-9, "atol": 0.0}  # tiny tail values, where an absolute tolerance would accept 0


def _numbers(expected, rtol=1e-9, atol=1e-12, what="number"):
    """The returned number(s), in order, close to ``expected``, whatever container holds them.

    For results that are numbers rather than arrays (a float, an int, a pair of floats): a
    Python float, a numpy scalar, a 0-d or a one-element array are all accepted, since the
    exercise asks for a number, not for a container; only the values are compared.
    """
    want = np.asarray(expected, dtype=np.float64).ravel()

    def ok(value):
        got = np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in
                              (value if isinstance(value, (tuple, list)) else [value])])
        return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))

    count = f"{want.size} {what}s" if want.size > 1 else f"one {what}"
    return Satisfies(ok, f"wrong value (expected {count})")


def _values(fn_name, g, z, about, tol=DERIV, stable=True, kind=None):
    """A case: fn_name(z) must equal g entry by entry (and stay silent)."""
    if np.ndim(z) == 0:
        expect = _numbers(in_decimals(g, z), **tol)
    else:
        expect = Close(in_decimals(g, z), dtype_kind=kind, **tol)
    return Case(fn_name, (z,), expect=expect & STABLE if stable else expect, about=about)


# ------------------------------------------------------------------ Part A inputs

SIGMOID_Z = np.array([-1e4, -1000.0, -745.0, -50.0, -5.0, -0.5, 0.0, 0.5, 5.0, 50.0, 1000.0, 1e4])
SOFTPLUS_Z = np.array([-1e4, -1000.0, -745.0, -200.0, -40.0, -1.0, 0.0, 1.0, 40.0, 200.0, 1000.0, 1e4])
# sigma'(z): its own naive quotient e^-z / (1 + e^-z)^2 overflows below -355 (or above +355 for e^z)
SIGMOID_PRIME_Z = np.array([-500.0, -30.0, -2.0, -0.1, 0.0, 0.1, 2.0, 30.0, 500.0, 1e4])
# the left tail, where sigma'(z) ~ e^z is tiny but a normal float64: the naive quotient gives e^-z / inf = 0
SIGMOID_PRIME_TAIL_Z = np.array([-700.0, -400.0, -360.0])
# sigma(z) ~ e^z is a subnormal float64 here (e^-722 ~ 2.6e-314, still 10 digits): the naive 1 / (1 + e^-z)
# overflows to 1 / inf = 0, wrong by value even with its RuntimeWarning silenced
SIGMOID_SUBNORMAL_Z = np.array([-722.0, -716.0, -711.0])
C1_X = np.array([-700.0, -30.0, -3.0, -0.70, -0.68, 0.0, 0.7, 3.0, 30.0, 1e4])  # c1'' changes sign at -ln 2

wide = rng.normal(0, 10, size=(3, 4))
far = rng.uniform(-800, 800, size=(2, 1, 3))
grid = rng.normal(0, 4, size=(2, 3))
small_ints = np.array([[-3], [0], [2]])


def _sign(v):
    return 1.0 if v > 0 else -1.0 if v < 0 else 0.0


signs_3d = rng.integers(-2, 3, size=(2, 3, 2)).astype(np.float64)  # about a third are 0

# ------------------------------------------------------------------ c2 inputs

LOGITS = np.array([-100.0, -50.0, -40.0, -1.0, 0.0, 1.0, 40.0, 50.0, 100.0])
data_x = rng.normal(0, 3, size=8)
data_y = rng.integers(0, 2, size=8).astype(np.float64)
w_col = np.linspace(-2, 2, 5).reshape(5, 1)
x_row = np.array([-3.0, -0.5, 1.0, 2.5])
y_col = np.array([[0.0], [1.0]])


def _c2_cases(fn_name, g):
    """The hidden cases shared by c2 and its derivatives (logits up to 100, soft labels, broadcasting)."""
    return [
        Case(fn_name, (LOGITS, 1.0, 0.0), expect=Close(in_decimals(g, LOGITS, 1.0, 0.0), **DERIV) & STABLE,
             about="logits w x from -100 to 100, y = 0"),
        Case(fn_name, (LOGITS, 1.0, 1.0), expect=Close(in_decimals(g, LOGITS, 1.0, 1.0), **DERIV) & STABLE,
             about="logits w x from -100 to 100, y = 1"),
        Case(fn_name, (LOGITS / 4, -4.0, 1.0), expect=Close(in_decimals(g, LOGITS / 4, -4.0, 1.0), **DERIV) & STABLE,
             about="a negative input x = -4, y = 1"),
        Case(fn_name, (0.7, data_x, data_y), expect=Close(in_decimals(g, 0.7, data_x, data_y), **DERIV),
             about="one weight, 8 examples"),
        Case(fn_name, (w_col, x_row, 0.3), expect=Close(in_decimals(g, w_col, x_row, 0.3), **DERIV),
             about="weights of shape (5, 1), inputs of shape (4,), soft label 0.3"),
        Case(fn_name, (0.5, x_row, y_col), expect=Close(in_decimals(g, 0.5, x_row, y_col), **DERIV),
             about="inputs of shape (4,) and labels of shape (2, 1): result (2, 4)"),
    ]


# ------------------------------------------------------------------ relu_unit_grad


def _unit_grad(b, w, x):
    """(df/db, df/dw) of f(b, w) = relu(b + x . w): symmetric difference quotients in exact fractions.

    b: number; w, x: sequences of d numbers. Returns (float, float64 (d,)).
    The step h is small enough that b +- h and w_i +- h stay on one side of the kink, where f is
    linear, so each quotient is the exact slope; at the kink (b + x . w = 0 exactly) the
    notebook's convention relu'(0) = 0 makes both 0.
    """
    b, w, x = exact(b), [exact(v) for v in w], [exact(v) for v in x]

    def unit(b_, w_):
        return max(b_ + sum(xi * wi for xi, wi in zip(x, w_)), Fraction(0))

    z = b + sum(xi * wi for xi, wi in zip(x, w))
    if z == 0:
        return 0.0, np.zeros(len(w))
    h = abs(z) / (2 * (1 + sum(abs(v) for v in x)))
    db = (unit(b + h, w) - unit(b - h, w)) / (2 * h)
    dw = [(unit(b, [*w[:i], w[i] + h, *w[i + 1:]]) - unit(b, [*w[:i], w[i] - h, *w[i + 1:]])) / (2 * h)
          for i in range(len(w))]
    return float(db), np.array([float(v) for v in dw])


def _unit_case(b, w, x, about):
    db, dw = _unit_grad(b, list(w), list(x))

    def db_ok(v):  # one number, in whatever container (see _numbers)
        return isinstance(v, (tuple, list)) and len(v) == 2 and np.size(v[0]) == 1 \
            and abs(float(np.ravel(v[0])[0]) - db) <= 1e-6

    def dw_ok(v):
        got = np.asarray(v[1], dtype=np.float64)
        return got.shape == dw.shape and np.allclose(got, dw, rtol=1e-6, atol=1e-8)

    expect = (Satisfies(db_ok, "df/db is wrong (it must be one number, the first of the pair)")
              & Satisfies(dw_ok, f"df/dw is wrong (it must be an array of w's shape {dw.shape})"))
    return Case("relu_unit_grad", (b, np.array(w, dtype=np.float64), np.array(x, dtype=np.float64)),
                expect=expect, about=about)


# ------------------------------------------------------------------ Part B: f(x, y) = x^2 y + x y^2 - 6 x y


def _f(x, y):
    return x * x * y + x * y * y - 6 * x * y


def _grad_f(p):
    """Richardson-extrapolated centered differences in fractions: exact for a cubic."""
    return gradient(_f, p)


def _hessian_f(p):
    """Second differences in fractions: exact for a cubic (the error terms need 4th derivatives)."""
    return hessian(_f, p)


CRITICAL = [(0.0, 0.0), (6.0, 0.0), (0.0, 6.0), (2.0, 2.0)]  # worked by hand: y(2x+y-6) = x(x+2y-6) = 0


def _classified(point, H=None):
    """The second-derivative test by the signs of H's eigenvalues, in exact fractions.

    For a symmetric 2x2 H the eigenvalues multiply to det H and add up to the trace, so both are
    positive (a minimum) when det H > 0 and the trace is > 0, both negative (a maximum) when det H > 0
    and the trace is < 0, and of opposite signs (a saddle) when det H < 0; det H = 0 is inconclusive.
    """
    H = _hessian_f(point) if H is None else np.asarray(H, dtype=np.float64)
    (a, b), (c, d) = [[exact(v) for v in row] for row in H.tolist()]
    det, trace = a * d - b * c, a + d
    if det == 0:
        raise ValueError("det H = 0: the second-derivative test is inconclusive")
    return "saddle" if det < 0 else "minimum" if trace > 0 else "maximum"


POINTS = [(-1.5, 3.25), (10.0, -7.0), (0.1, 0.2), *rng.uniform(-5, 5, size=(2, 2)).round(6).tolist()]

# ------------------------------------------------------------------ Part B: gradient descent on 0.5 (a w1^2 + b w2^2)


def _trajectory(a, b, w0, eta, steps):
    """Closed form w_t = (rho1^t w0_1, rho2^t w0_2), in exact fractions."""
    r1, r2 = 1 - exact(eta) * exact(a), 1 - exact(eta) * exact(b)
    w1, w2 = exact(w0[0]), exact(w0[1])
    return np.array([[float(r1 ** t * w1), float(r2 ** t * w2)] for t in range(steps + 1)])


def _one_step_ratio(a, b, eta):
    """One GD step from (1, 1), in fractions: the factor each coordinate is multiplied by."""
    return tuple(float(1 - exact(eta) * exact(c) * 1) for c in (a, b))


def _sup_stable_eta(a, b):
    """Bisection on the convergence condition |1 - eta c| < 1 for both curvatures c."""
    # it holds on (0, sup) and fails from sup on, as supremum needs
    return supremum(lambda eta: all(abs(1 - eta * c) < 1 for c in (a, b)))


def _steps(a, b, eta, w0, tol, max_steps=100_000):
    """Scan the closed form ||(rho1^t w1, rho2^t w2)|| <= tol for the first t, up to max_steps.

    ValueError, as the notebook asks, when a rate has |rho| >= 1 (decided in exact fractions) or
    when more than max_steps steps are needed.
    """
    if any(abs(1 - exact(eta) * exact(c)) >= 1 for c in (a, b)):
        raise ValueError(f"eta = {eta} does not converge")
    r1, r2 = 1 - eta * a, 1 - eta * b
    for t in range(max_steps + 1):
        if math.sqrt((w0[0] * r1 ** t) ** 2 + (w0[1] * r2 ** t) ** 2) <= tol:
            return t
    raise ValueError(f"more than max_steps = {max_steps} steps")


def _steps_case(a, b, eta, w0, tol, about):
    return Case("steps_to_tolerance", (a, b, eta, np.array(w0, dtype=np.float64), tol),
                expect=_numbers(_steps(a, b, eta, w0, tol), rtol=0, atol=0, what="whole number"), about=about)


def _no_steps_case(a, b, eta, w0, tol, about, **kwargs):
    return Case("steps_to_tolerance", (a, b, eta, np.array(w0, dtype=np.float64), tol), kwargs,
                expect=Raises("ValueError", "gradient descent does not reach tol") & STABLE, about=about)


SIGN_RULE = {"sign": ("sign", "copysign", "heaviside", "abs", "absolute", "fabs")}

TESTS = {
    # ---------------------------------------------------------------- sigmoid
    "test_sigmoid_basic": HiddenTest([
        _values("sigmoid", sigmoid, 1.5, "a number", tol=BASE, stable=False),
        _values("sigmoid", sigmoid, np.array([-3.0, -0.5, 1.0, 4.0]), "4 moderate values", tol=BASE, stable=False),
        _values("sigmoid", sigmoid, np.array([-800.0, 600.0]), "one value far in each tail, no RuntimeWarning",
                tol=BASE),
        _values("sigmoid", sigmoid, np.linspace(-2, 3, 6).reshape(3, 2), "a 3x2 array", tol=BASE, stable=False),
    ]),
    "test_sigmoid_hidden": HiddenTest([
        _values("sigmoid", sigmoid, SIGMOID_Z, "z from -1e4 to 1e4", tol=BASE),
        _values("sigmoid", sigmoid, SIGMOID_SUBNORMAL_Z, "z just below -709, where sigmoid(z) is tiny but not 0",
                tol=RELATIVE),
        _values("sigmoid", sigmoid, wide, "a 3x4 array", tol=BASE),
        _values("sigmoid", sigmoid, far, "a 2x1x3 array with |z| up to 800", tol=BASE),
        _values("sigmoid", sigmoid, small_ints, "an integer array", tol=BASE, kind="f"),
        _values("sigmoid", sigmoid, -3.0, "a Python float", tol=BASE),
    ]),
    # ---------------------------------------------------------------- sigmoid_prime
    "test_sigmoid_prime_basic": HiddenTest([
        _values("sigmoid_prime", derivative(sigmoid), np.array([-1.0, 0.5, 3.0]), "3 values", stable=False),
        _values("sigmoid_prime", derivative(sigmoid), np.linspace(-5, 5, 11), "11 points in [-5, 5]", stable=False),
    ]),
    "test_sigmoid_prime_hidden": HiddenTest([
        _values("sigmoid_prime", derivative(sigmoid), SIGMOID_PRIME_Z, "z from -500 to 1e4"),
        _values("sigmoid_prime", derivative(sigmoid), SIGMOID_PRIME_TAIL_Z,
                "z far in the left tail, where sigmoid_prime(z) is tiny but not 0", tol=RELATIVE),
        _values("sigmoid_prime", derivative(sigmoid), grid, "a 2x3 array"),
        _values("sigmoid_prime", derivative(sigmoid), small_ints, "an integer array", kind="f"),
        _values("sigmoid_prime", derivative(sigmoid), 1.5, "a Python float"),
    ]),
    # ---------------------------------------------------------------- softplus
    "test_softplus_basic": HiddenTest([
        _values("softplus", softplus, np.array([-2.0, 0.5, 4.0]), "3 values", stable=False),
        _values("softplus", softplus, 1.5, "a number", stable=False),
        _values("softplus", softplus, np.linspace(-3, 3, 6).reshape(2, 3), "a 2x3 array", stable=False),
        _values("softplus", softplus, np.array([-900.0, 800.0]), "one value far in each tail, no RuntimeWarning"),
    ]),
    "test_softplus_hidden": HiddenTest([
        _values("softplus", softplus, SOFTPLUS_Z, "z from -1e4 to 1e4 (relative accuracy in the tails)", tol=TAIL),
        _values("softplus", softplus, wide * 2, "a 3x4 array", tol=TAIL),
        _values("softplus", softplus, small_ints, "an integer array", tol=TAIL, kind="f"),
        _values("softplus", softplus, 2.5, "a Python float", tol=TAIL),
    ]),
    # ---------------------------------------------------------------- sign
    "test_sign_basic": HiddenTest([
        Case("sign", (np.array([2.5, -1.0, 0.3, -6.0]),), expect=Close(entrywise(_sign, [2.5, -1.0, 0.3, -6.0])),
             about="4 values of both signs"),
        Case("sign", (np.array([[-2.0], [5.0], [-0.1]]),), expect=Close(entrywise(_sign, [[-2.0], [5.0], [-0.1]])),
             about="a 3x1 array"),
    ], banned=SIGN_RULE),
    "test_sign_hidden": HiddenTest([
        Case("sign", (np.array([-2.0, -1e-300, -0.0, 0.0, 1e-300, 3.0]),),
             expect=Close([-1.0, -1.0, 0.0, 0.0, 1.0, 1.0], dtype_kind="f"), about="around 0: sign(0) must be 0"),
        Case("sign", (signs_3d,), expect=Close(entrywise(_sign, signs_3d), dtype_kind="f"),
             about="a 2x3x2 array with zeros"),
        Case("sign", (0.0,), expect=_numbers(0.0), about="the number 0"),
    ], banned=SIGN_RULE),
    # ---------------------------------------------------------------- c1 = (sigmoid(x) - 1)^2
    "test_c1_basic": HiddenTest([
        _values("c1", _c1, np.array([-1.5, 0.5, 3.0]), "3 values", stable=False),
    ]),
    "test_c1_hidden": HiddenTest([
        _values("c1", _c1, C1_X, "x from -700 to 1e4"),
        _values("c1", _c1, grid, "a 2x3 array"),
        _values("c1", _c1, -1.0, "a Python float"),
    ]),
    "test_c1_prime_basic": HiddenTest([
        _values("c1_prime", derivative(_c1), np.array([-1.5, 0.5, 3.0]), "3 values", stable=False),
        _values("c1_prime", derivative(_c1), np.linspace(-2.5, 2.5, 6), "6 points in [-2.5, 2.5]", stable=False),
    ]),
    "test_c1_prime_hidden": HiddenTest([
        _values("c1_prime", derivative(_c1), C1_X, "x from -700 to 1e4"),
        _values("c1_prime", derivative(_c1), grid, "a 2x3 array"),
    ]),
    "test_c1_second_basic": HiddenTest([
        _values("c1_second", second_derivative(_c1), np.array([-1.0, 0.25, 1.5]), "3 values", stable=False),
        _values("c1_second", second_derivative(_c1), np.linspace(-5, 5, 11), "11 points in [-5, 5]", stable=False),
    ]),
    "test_c1_second_hidden": HiddenTest([
        _values("c1_second", second_derivative(_c1), C1_X, "x from -700 to 1e4, and on both sides of -ln 2"),
        _values("c1_second", second_derivative(_c1), grid, "a 2x3 array"),
    ]),
    # ---------------------------------------------------------------- c2 = cross-entropy of sigmoid(w x)
    "test_c2_basic": HiddenTest([
        Case("c2", (0.5, 2.0, 1.0), expect=_numbers(in_decimals(_c2, 0.5, 2.0, 1.0), rtol=1e-6),
             about="one example, y = 1"),
        Case("c2", (1.0, -1.5, 0.0), expect=_numbers(in_decimals(_c2, 1.0, -1.5, 0.0), rtol=1e-6),
             about="one example, y = 0"),
        Case("c2", (np.array([-2.0, 0.5, 1.5]), 1.0, 0.0), expect=Close(in_decimals(_c2, [-2.0, 0.5, 1.5], 1.0, 0.0)),
             about="3 weights, one example"),
        Case("c2", (np.full((2, 1), 0.5), np.array([1.0, -1.0, 2.0]), np.array([1.0, 0.0, 1.0])),
             expect=Close(in_decimals(_c2, np.full((2, 1), 0.5), [1.0, -1.0, 2.0], [1.0, 0.0, 1.0])),
             about="w of shape (2, 1), x and y of shape (3,)"),
        Case("c2", (-30.0, -2.0, np.array([0.0, 1.0])),
             expect=Close(in_decimals(_c2, -30.0, -2.0, [0.0, 1.0]), **DERIV) & STABLE,
             about="a saturated logit w x = 60 with both labels, no RuntimeWarning"),
    ]),
    "test_c2_hidden": HiddenTest(_c2_cases("c2", _c2)),
    "test_c2_prime_w_basic": HiddenTest([
        Case("c2_prime_w", (0.5, 1.5, 1.0), expect=_numbers(in_decimals(_c2_dw, 0.5, 1.5, 1.0), rtol=1e-6),
             about="one weight, one example"),
        *[Case("c2_prime_w", (np.linspace(-2, 2, 5), x, y),
               expect=Close(in_decimals(_c2_dw, np.linspace(-2, 2, 5), x, y), **DERIV),
               about=f"5 weights in [-2, 2], one example with y = {y:g}")
          for x, y in [(2.5, 0.0), (-1.0, 1.0)]],
    ]),
    "test_c2_prime_w_hidden": HiddenTest(_c2_cases("c2_prime_w", _c2_dw)),
    "test_c2_second_w_basic": HiddenTest([  # x = 1 throughout: the x-independent part of the rule
        Case("c2_second_w", (0.5, 1.0, 1.0), expect=_numbers(in_decimals(_c2_dww, 0.5, 1.0, 1.0), rtol=1e-6),
             about="one weight, x = 1"),
        Case("c2_second_w", (np.array([-2.0, 0.5, 1.5]), 1.0, 0.0),
             expect=Close(in_decimals(_c2_dww, [-2.0, 0.5, 1.5], 1.0, 0.0), **DERIV), about="3 weights, x = 1, y = 0"),
        Case("c2_second_w", (np.linspace(-2, 2, 5), 1.0, 0.7),
             expect=Close(in_decimals(_c2_dww, np.linspace(-2, 2, 5), 1.0, 0.7), **DERIV),
             about="5 weights, x = 1, a soft label"),
    ]),
    "test_c2_second_w_hidden": HiddenTest(_c2_cases("c2_second_w", _c2_dww)),
    # ---------------------------------------------------------------- relu_unit_grad
    "test_relu_unit_grad_basic": HiddenTest([
        _unit_case(-0.5, [2.0, 0.5, -1.0], [1.0, 2.0, 0.5], "an active unit with b < 0, d = 3"),
    ]),
    "test_relu_unit_grad_hidden": HiddenTest([
        _unit_case(0.2, [0.5, -1.0, 2.0], [1.0, 0.5, 1.5], "an active unit, d = 3"),
        _unit_case(-1.0, [0.5, -1.0, 2.0], [-1.0, 1.0, 0.2], "an inactive unit (b + x . w < 0), d = 3"),
        _unit_case(0.5, [1.0, 1.0], [-1.0, -1.0], "an inactive unit with b > 0"),
        _unit_case(0.0, [-2.0], [-1.5], "d = 1"),
        _unit_case(-1.0, [0.5, 0.25], [1.0, 2.0], "at the kink, b + x . w = 0 exactly: relu'(0) = 0"),
        _unit_case(10.0, rng.normal(size=5).tolist(), [0.0, 1.0, -2.0, 0.0, 0.5], "an active unit, d = 5, some x = 0"),
    ]),
    # ---------------------------------------------------------------- f, its gradient and Hessian
    "test_grad_f_basic": HiddenTest([
        Case("grad_f", (np.array([2.0, -1.0]),), expect=Close(_grad_f((2.0, -1.0))),
             about="a point with integer coordinates"),
        Case("grad_f", (np.array([-0.4, 1.1]),), expect=Close(_grad_f((-0.4, 1.1)), rtol=1e-7),
             about="a point near the origin"),
    ]),
    "test_grad_f_hidden": HiddenTest([
        *[Case("grad_f", (np.array(p),), expect=Close(_grad_f(p), rtol=1e-9, atol=1e-9),
               about=f"test point {i} of {len(POINTS)}") for i, p in enumerate(POINTS, 1)],
        Case("grad_f", ([3, -1],), expect=Close(_grad_f((3, -1))), about="a list of two integers"),
    ]),
    "test_hessian_f_basic": HiddenTest([
        Case("hessian_f", (np.array([3.0, 1.0]),), expect=Close(_hessian_f((3.0, 1.0))),
             about="a point with integer coordinates"),
        Case("hessian_f", (np.array([-1.5, 0.5]),), expect=Close(_hessian_f((-1.5, 0.5))), about="a point with x < 0"),
    ]),
    "test_hessian_f_hidden": HiddenTest([
        *[Case("hessian_f", (np.array(p),), expect=Close(_hessian_f(p), rtol=1e-9, atol=1e-9),
               about=f"critical point {i} of f") for i, p in enumerate(CRITICAL, 1)],
        *[Case("hessian_f", (np.array(p),), expect=Close(_hessian_f(p), rtol=1e-9, atol=1e-9),
               about=f"test point {i} of {len(POINTS)}") for i, p in enumerate(POINTS, 1)],
    ]),
    # ---------------------------------------------------------------- classify
    "test_classify_basic": HiddenTest([
        Case("classify", ((1.0, 1.0),), {"H": np.array([[0.0, 4.0], [4.0, 0.0]])}, expect=Equal("saddle"),
             about="a Hessian with a zero diagonal"),
        Case("classify", ((1.0, 1.0),), {"H": np.array([[3.0, 1.0], [1.0, 2.0]])}, expect=Equal("minimum"),
             about="a Hessian with a positive diagonal"),
        Case("classify", ((1.0, 1.0),), {"H": np.array([[-5.0, 2.0], [2.0, -1.0]])}, expect=Equal("maximum"),
             about="a Hessian with a negative diagonal"),
    ]),
    "test_classify_hidden": HiddenTest([
        *[Case("classify", ((0.0, 0.0),), {"H": np.array(H, dtype=np.float64)}, expect=Equal(kind), about=about)
          for H, kind, about in [
              ([[-3, 1], [1, -2]], "maximum", "a negative diagonal, a small off-diagonal"),
              ([[1, 3], [3, 1]], "saddle", "a positive diagonal, a larger off-diagonal"),
              ([[-1, 0], [0, 4]], "saddle", "a diagonal Hessian with entries of both signs"),
              ([[2, -1], [-1, 3]], "minimum", "a positive diagonal, a small negative off-diagonal"),
              ([[-4, -3], [-3, -4]], "maximum", "a negative diagonal, a negative off-diagonal"),
              ([[0.5, 0.4], [0.4, 0.5]], "minimum", "a positive diagonal, an off-diagonal nearly as large")]],
        # the Hessians of f at its critical points, worked by hand
        *[Case("classify", (p,), {"H": H}, expect=Equal(kind), about=f"critical point {i} of f, with its Hessian")
          for i, (p, H, kind) in enumerate([((0.0, 0.0), [[0.0, -6.0], [-6.0, 0.0]], "saddle"),
                                            ((6.0, 0.0), [[0.0, 6.0], [6.0, 12.0]], "saddle"),
                                            ((0.0, 6.0), [[12.0, 6.0], [6.0, 0.0]], "saddle"),
                                            ((2.0, 2.0), [[4.0, 2.0], [2.0, 4.0]], "minimum")], 1)],
        Case("classify", ((0.0, 0.0),), {"H": np.array([[1.0, 1.0], [1.0, 1.0]])},
             expect=Raises("ValueError", "det H = 0: the test is inconclusive"),
             about="a singular Hessian, all entries equal"),
        Case("classify", ((0.0, 0.0),), {"H": np.array([[0.0, 0.0], [0.0, 5.0]])},
             expect=Raises("ValueError", "det H = 0: the test is inconclusive"), about="a singular diagonal Hessian"),
    ]),
    # ---------------------------------------------------------------- gradient descent
    "test_gd_quadratic_basic": HiddenTest([
        Case("gd_quadratic", (2.0, 0.5, np.array([1.0, -2.0]), 0.2, 3),
             expect=Close(_trajectory(2, 0.5, (1, -2), 0.2, 3)), about="3 steps"),
        Case("gd_quadratic", (3.0, 1.0, np.array([0.5, 0.5]), 0.1, 8),
             expect=Close(_trajectory(3, 1, (0.5, 0.5), 0.1, 8)), about="8 steps"),
    ]),
    "test_gd_quadratic_hidden": HiddenTest([
        Case("gd_quadratic", (2.0, 10.0, np.array([1.0, -1.0]), 0.3, 6),
             expect=Close(_trajectory(2, 10, (1, -1), 0.3, 6), rtol=1e-9, atol=1e-12),
             about="one coordinate diverges"),
        Case("gd_quadratic", (1.0, 3.0, np.array([3, -1]), 0.1, 40),
             expect=Close(_trajectory(1, 3, (3, -1), 0.1, 40), rtol=1e-9, atol=1e-12),
             about="integer w0, 40 steps"),
        Case("gd_quadratic", (5.0, 0.5, [0.2, 2.0], 0.05, 0), expect=Close([[0.2, 2.0]]), about="0 steps"),
        Case("gd_quadratic", (4.0, 4.0, np.array([4.0, -4.0]), 0.25, 3),
             expect=Close(_trajectory(4, 4, (4, -4), 0.25, 3), atol=1e-12), about="eta = 1/a: one step to 0"),
    ]),
    "test_contraction_factors_basic": HiddenTest([
        Case("contraction_factors", (2.0, 5.0, 0.1),
             expect=_numbers(_one_step_ratio(2.0, 5.0, 0.1), rtol=1e-6, what="factor"),
             about="a small step size: both factors positive"),
    ]),
    "test_contraction_factors_hidden": HiddenTest([
        *[Case("contraction_factors", (a, b, eta),
               expect=_numbers(_one_step_ratio(a, b, eta), rtol=1e-12, what="factor"), about=about)
          for a, b, eta, about in [(2.0, 10.0, 0.3, "a step too large for the stiff coordinate"),
                                   (1.0, 100.0, 0.015, "a badly conditioned quadratic"),
                                   (3.0, 3.0, 0.5, "equal curvatures"), (0.5, 8.0, 0.0, "eta = 0"),
                                   (7.0, 2.0, 1.0, "a > b and eta > 1/a")]],
    ]),
    "test_max_stable_eta_basic": HiddenTest([
        Case("max_stable_eta", (5.0, 2.0), expect=_numbers(_sup_stable_eta(5.0, 2.0), rtol=1e-9), about="a > b"),
    ]),
    "test_max_stable_eta_hidden": HiddenTest([
        *[Case("max_stable_eta", (a, b), expect=_numbers(_sup_stable_eta(a, b), rtol=1e-9), about=about)
          for a, b, about in [(1.0, 4.0, "a < b"), (3.0, 3.0, "a = b"), (0.5, 100.0, "b much larger than a"),
                              (10.0, 0.1, "a much larger than b"), (2.5, 2.0, "a a little larger than b")]],
    ]),
    "test_steps_to_tolerance_basic": HiddenTest([
        _steps_case(2.0, 1.0, 0.25, (1.0, 0.0), 1e-2, "a start on the first axis"),
        _steps_case(1.0, 3.0, 0.2, (2.0, 1.0), 0.05, "both coordinates shrink, the first one slower"),
        _steps_case(1.0, 1.0, 0.5, (0.0, 0.02), 0.05, "w0 already within tol"),
    ]),
    "test_steps_to_tolerance_hidden": HiddenTest([
        _steps_case(10.0, 1.0, 0.1, (1.0, 1.0), 1e-6, "the second coordinate is the slow one"),
        _steps_case(1.0, 1.0, 1.5, (1.0, 0.0), 1e-3, "eta=1.5: a zig-zag that converges"),
        _steps_case(4.0, 1.0, 0.2, (1.0, 1.0), 1e-8, "a tight tolerance"),
        _steps_case(2.0, 1.0, 0.9, (-3.0, 2.0), 1e-5, "a zig-zag in the first coordinate, w0 with both signs"),
        _steps_case(1.0, 100.0, 0.015, (0.5, 0.5), 1e-4, "a badly conditioned quadratic"),
        _steps_case(1.0, 1.0, 0.5, (1e-9, -1e-9), 1e-6, "w0 already within tol"),
        _no_steps_case(1.0, 1.0, 2.5, (1.0, 1.0), 1e-3, "eta=2.5 > 2/a: diverges"),
        _no_steps_case(4.0, 1.0, 0.5, (1.0, 1.0), 1e-3, "eta = 2/max(a, b) exactly: oscillates forever"),
        _no_steps_case(1.0, 1.0, 0.0, (1.0, 1.0), 1e-3, "eta = 0: never moves"),
        _no_steps_case(1.0, 1.0, 3.0, (0.0, 0.0), 1e-3, "a divergent eta, even from w0 = 0"),
        _no_steps_case(1.0, 1.0, 1e-6, (1.0, 0.0), 1e-3, "needs about 7 million steps, max_steps=1000",
                       max_steps=1000),
    ]),
}


# ------------------------------------------------------------------ the references, one per graded function
# Each is the route the hidden tests above take to their expected values, as a function of the graded
# function's signature, so that the notebook's visible checks can be run against it (they must pass).
# Every graded function of the notebook has one: no expectation is only a property.

REFERENCES: dict[str, Callable] = {
    "sigmoid": lambda z: in_decimals(sigmoid, z),
    "sigmoid_prime": lambda z: in_decimals(derivative(sigmoid), z),
    "softplus": lambda z: in_decimals(softplus, z),
    "sign": lambda z: entrywise(_sign, z),
    "c1": lambda x: in_decimals(_c1, x),
    "c1_prime": lambda x: in_decimals(derivative(_c1), x),
    "c1_second": lambda x: in_decimals(second_derivative(_c1), x),
    "c2": lambda w, x, y: in_decimals(_c2, w, x, y),
    "c2_prime_w": lambda w, x, y: in_decimals(_c2_dw, w, x, y),
    "c2_second_w": lambda w, x, y: in_decimals(_c2_dww, w, x, y),
    "relu_unit_grad": lambda b, w, x: _unit_grad(b, list(np.ravel(w)), list(np.ravel(x))),
    "grad_f": lambda p: _grad_f(p),
    "hessian_f": lambda p: _hessian_f(p),
    "classify": _classified,
    "gd_quadratic": _trajectory,
    "contraction_factors": _one_step_ratio,
    "max_stable_eta": _sup_stable_eta,
    "steps_to_tolerance": _steps,
}

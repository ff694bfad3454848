"""autograder/reference.py against closed forms: each routine delivers the precision it states."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from autograder import reference as ref


def _dec(x):
    return Decimal(x)


# ---------------------------------------------------------------- the decimal definitions

def test_sigmoid_and_softplus_match_closed_forms_to_hundreds_of_digits():
    with decimal.localcontext(ref.CONTEXT):
        assert ref.sigmoid(_dec(0)) == Decimal("0.5")
        # sigmoid(ln 3) = 3 / 4; softplus(0) = ln 2; softplus(ln 3) = ln 4
        assert abs(ref.sigmoid(_dec(3).ln()) - Decimal("0.75")) < Decimal("1e-395")
        assert abs(ref.softplus(_dec(0)) - _dec(2).ln()) < Decimal("1e-395")
        assert abs(ref.softplus(_dec(3).ln()) - _dec(4).ln()) < Decimal("1e-395")
        for t in (_dec("-12.5"), _dec("0.3"), _dec(40)):
            assert abs(ref.sigmoid(t) + ref.sigmoid(-t) - 1) < Decimal("1e-395")  # symmetry
            assert abs(ref.softplus(t) - ref.softplus(-t) - t) < Decimal("1e-390")  # softplus(t) - softplus(-t) = t


def test_in_decimals_is_exact_where_float64_overflows_or_cancels():
    z = np.array([-1e4, -745.0, -40.0, 0.0, 40.0, 1e4])  # float64 e^1e4 overflows, 1 + e^-40 == 1
    softplus = ref.in_decimals(ref.softplus, z)
    assert softplus.dtype == np.float64 and softplus.shape == (6,)
    # softplus(t) = t + ln(1 + e^-t): t itself for t = 1e4; e^t to the last bit for t = -40
    assert softplus[-1] == 1e4 and softplus[2] == math.exp(-40.0)
    assert softplus[3] == math.log(2) and softplus[1] == math.exp(-745.0) > 0  # the smallest subnormal
    assert softplus[0] == 0.0  # e^-1e4 is below every float64
    sigmoid = ref.in_decimals(ref.sigmoid, z)
    assert sigmoid[[0, 1, 3, 4, 5]].tolist() == [0.0, math.exp(-745.0), 0.5, 1.0, 1.0]
    assert sigmoid[2] == pytest.approx(1 / (1 + math.exp(40.0)), rel=1e-15)  # no cancellation in 1 - sigma


def test_in_decimals_broadcasts_and_keeps_shapes():
    out = ref.in_decimals(lambda w, x: w * x, np.array([[1.0], [2.0]]), [1.0, 2.0, 3.0])
    assert out.shape == (2, 3) and out.tolist() == [[1, 2, 3], [2, 4, 6]]
    assert ref.in_decimals(ref.sigmoid, 0).shape == ()  # a number gives a 0-d array
    # each entry is the float exactly: 0.1 is not 1/10, and the decimal sees the difference
    assert ref.in_decimals(lambda t: (t - Decimal("0.1")) * 10 ** 18, 0.1) == pytest.approx(5.55, abs=0.01)


# ---------------------------------------------------------------- finite differences

def test_decimal_derivatives_match_closed_forms_to_about_80_digits():
    with decimal.localcontext(ref.CONTEXT):
        for t in (_dec("-3.5"), _dec(0), _dec("2.25")):
            s = ref.sigmoid(t)
            # sigma' = sigma (1 - sigma), sigma'' = sigma (1 - sigma) (1 - 2 sigma), softplus' = sigma
            assert abs(ref.derivative(ref.sigmoid)(t) - s * (1 - s)) < Decimal("1e-78")
            assert abs(ref.second_derivative(ref.sigmoid)(t) - s * (1 - s) * (1 - 2 * s)) < Decimal("1e-78")
            assert abs(ref.derivative(ref.softplus)(t) - s) < Decimal("1e-78")
            assert abs(ref.derivative(Decimal.exp)(t) - t.exp()) < Decimal("1e-78") * t.exp()
        # and no better than stated: the truncation term h^2 g'''/6 is there for exp (g''' = e^0 = 1)
        assert abs(ref.derivative(Decimal.exp)(_dec(0)) - 1) > Decimal("1e-82")


def test_fraction_differences_are_exact_for_the_degrees_they_state():
    h, v = Fraction(1, 3), Fraction(7, 5)
    assert ref.derivative(lambda t: t * t, h)(v) == 2 * v  # degree 2
    assert ref.derivative(lambda t: t ** 3, h)(v) != 3 * v ** 2  # degree 3: off by h^2
    assert ref.second_derivative(lambda t: t ** 3, h)(v) == 6 * v  # degree 3
    assert ref.second_derivative(lambda t: t ** 4, h)(v) != 12 * v ** 2
    assert ref.extrapolated_derivative(lambda t: t ** 4, h)(v) == 4 * v ** 3  # degree 4
    assert ref.extrapolated_derivative(lambda t: t ** 5, h)(v) != 5 * v ** 4
    assert ref.derivative(abs, Fraction(1))(Fraction(0)) == 0  # the symmetric quotient is 0 at the kink


def _cubic(x, y, z):
    return x * x * y - 3 * y * z * z + 2 * x * y * z + x - 7


def test_gradient_and_hessian_are_exact_for_a_cubic_in_three_variables():
    x, y, z = 0.1, -2.5, 3.0  # 0.1 is converted exactly: the closed form must use the same number
    X, Y, Z = (Fraction(v) for v in (x, y, z))
    grad = [2 * X * Y + 2 * Y * Z + 1, X * X - 3 * Z * Z + 2 * X * Z, -6 * Y * Z + 2 * X * Y]
    hess = [[2 * Y, 2 * X + 2 * Z, 2 * Y], [2 * X + 2 * Z, 0, -6 * Z + 2 * X], [2 * Y, -6 * Z + 2 * X, -6 * Y]]
    g, H = ref.gradient(_cubic, (x, y, z)), ref.hessian(_cubic, (x, y, z))
    assert g.shape == (3,) and g.tolist() == [float(v) for v in grad]
    assert H.shape == (3, 3) and H.tolist() == [[float(v) for v in row] for row in hess]
    # a quartic: the gradient is still exact, the Hessian is not (its error needs 4th derivatives)
    assert ref.gradient(lambda a, b: a ** 4 * b, (1.5, 2)).tolist() == [4 * 1.5 ** 3 * 2, 1.5 ** 4]
    assert ref.hessian(lambda a, b: a ** 4, (1.5, 0))[0, 0] != 12 * 1.5 ** 2


# ---------------------------------------------------------------- conversions, entrywise, bisection

def test_exact_keeps_the_binary_value_and_entrywise_maps_floats():
    assert ref.exact(0.1) == Fraction(3602879701896397, 2 ** 55) != Fraction(1, 10)
    assert ref.exact(np.float32(0.5)) == Fraction(1, 2) and ref.exact(3) == 3
    out = ref.entrywise(lambda v: max(v, 0.0), [[-1, 2], [3, -4]])
    assert out.dtype == np.float64 and out.tolist() == [[0, 2], [3, 0]]
    assert ref.entrywise(lambda v: type(v).__name__ == "float", np.arange(3, dtype=np.int8)).tolist() == [1, 1, 1]


@pytest.mark.parametrize("s", [0.5, 2 / 3, 40.0, 1e-3, 0.75])
def test_supremum_finds_the_end_of_the_interval(s):
    found = ref.supremum(lambda x: x < s)
    assert found == s if s in (0.5, 40.0, 0.75) else abs(found - s) <= math.ulp(s)
    assert found >= s  # the condition fails at the value returned


def test_supremum_of_the_stable_step_size_is_two_over_the_curvature():
    # gradient descent on c x^2 / 2 contracts iff |1 - eta c| < 1, i.e. eta < 2 / c
    for c in (4.0, 3.0, 0.01):
        assert ref.supremum(lambda eta: abs(1 - eta * c) < 1) == pytest.approx(2 / c, rel=1e-15)

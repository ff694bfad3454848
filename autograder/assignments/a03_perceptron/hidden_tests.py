"""Hidden tests of assignment 03, one entry per test cell (grade_id).

Every test drives the student's ``GradientDescent`` through scenarios: construct it, set ``w``
and ``b`` to known values, call a method, and observe ``w`` and ``b`` afterwards (read from the
object's storage: a property or ``__getattr__`` gains nothing). ``test_<name>_basic`` checks the
rule of the notebook's visible checks on inputs of the same kind that the notebook never shows;
``test_<name>_hidden`` checks it where the visible checks do not look: saturated sigmoids
(logits of +-800, where the two logarithms of cross-entropy are -inf and nan in float64), both
costs, pixels constant on the training set, the tie y_hat = 0.5, several steps, other sizes.

Expected values come from an independent route, never from the solution notebook:

* the costs from their textbook definitions, (y_hat - y)^2 and the two-logarithm
  cross-entropy, written entry by entry with ``decimal`` (400 digits where the logits reach
  +-800, where e^-800 is just a small number; 60 digits elsewhere, where that is far more
  than float64 needs);
* every gradient by centered differences of those costs, in the same decimals (h = 1e-40 and
  1e-25: error ~h^2), so no derivative formula is typed here;
* normalisation from exact fractions (means and variances), the square root in decimals;
* labels from the sign of the logit in exact fractions (sigmoid(z) >= 1/2 iff z >= 0);
* update from the closed form w0 - alpha (g_1 + ... + g_t) in fractions;
* optimise by running the definition of gradient descent on those decimal costs and their
  centered differences; every logit the error rates depend on is checked to be far from 0, so
  float64 round-off cannot flip a label.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

import numpy as np

from autograder.cases import Call, Close, Equal, HiddenTest, New, NoWarnings, Observe, Scenario, Set, one_number
from autograder.reference import CONTEXT, STEP, derivative, exact, sigmoid

rng = np.random.default_rng(2027)
STABLE = NoWarnings()
HISTORY = ("cost_train", "cost_test", "error_train", "error_test", "speed")
MODERATE = decimal.Context(prec=60, Emin=-10**8, Emax=10**8)  # logits up to ~100: 1 - sigma(z) keeps 15+ digits
MODERATE_STEP = Decimal("1e-25")
MARGIN = 1e-6  # a logit this far from 0 has the same sign in float64 as in exact arithmetic

# ------------------------------------------------------------------ the costs, entry by entry, in decimals


def _logits(w, b, X):
    """z_i = x_i . w + b, each x_i . w summed exactly (Decimal sums of float64 products round at 60+ digits)."""
    return [sum((Decimal(float(v)) * wj for v, wj in zip(row, w)), Decimal(0)) + b for row in X.tolist()]


def _cost(w, b, X, y, kind):
    """The mean cost of sigmoid(X w + b) against y, from its definition, for Decimal w (list) and b."""
    total = Decimal(0)
    for z, label in zip(_logits(w, b, X), y.tolist()):
        p = sigmoid(z)
        if kind == "MSE":
            total += (p - label) ** 2
        else:
            total -= (label * p.ln() if label else 0) + ((1 - label) * (1 - p).ln() if label != 1 else 0)
    return total / len(y)


def _context(w, b, X):
    """400 digits if some logit is saturated (|z| > 100), else 60: 1 - sigma(800) = e^-800 needs 348+ digits."""
    with decimal.localcontext(MODERATE):
        big = max(abs(z) for z in _logits([Decimal(float(v)) for v in w], Decimal(float(b)), X)) > 100
    return (CONTEXT, STEP) if big else (MODERATE, MODERATE_STEP)


def _gradient(w, b, X, y, kind, h):
    """Centered differences of _cost in every coordinate of w, then in b (Decimal w list, Decimal b)."""
    grad_w = [derivative(lambda t, j=j: _cost([*w[:j], t, *w[j + 1:]], b, X, y, kind), h)(w[j])
              for j in range(len(w))]
    return grad_w, derivative(lambda t: _cost(w, t, X, y, kind), h)(b)


def cost_value(w, b, X, y, kind):
    """The cost at float64 weights w (d,), bias b, as a float."""
    context, _ = _context(w, b, X)
    with decimal.localcontext(context):
        return float(_cost([Decimal(float(v)) for v in w], Decimal(float(b)), X, y, kind))


def gradient_value(w, b, X, y, kind):
    """(grad_w (d,), grad_b) at float64 weights, by centered differences of the decimal cost."""
    context, h = _context(w, b, X)
    with decimal.localcontext(context):
        grad_w, grad_b = _gradient([Decimal(float(v)) for v in w], Decimal(float(b)), X, y, kind, h)
        return np.array([float(g) for g in grad_w]), float(grad_b)


def _labels(w, b, X):
    """1 where x . w + b >= 0 (that is, sigmoid >= 1/2), in exact fractions."""
    return np.array([int(sum((exact(v) * exact(wj) for v, wj in zip(row, w)), Fraction(0)) + exact(b) >= 0)
                     for row in X.tolist()])


def _margin_ok(w, b, X):
    """Every logit is 0 exactly or farther than MARGIN from it, so float64 gives the exact labels."""
    z = [float(sum((exact(v) * exact(wj) for v, wj in zip(row, w)), Fraction(0)) + exact(b)) for row in X.tolist()]
    return all(v == 0 or abs(v) > MARGIN for v in z)


# ------------------------------------------------------------------ expectations


def _model(kind="CE", alpha=0.5, epochs=100, w=None, b=None):
    """The first steps of a scenario: construct the object, then set w and b if given."""
    steps = [New("GradientDescent", (), {"alpha": alpha, "cost": kind, "epochs": epochs})]
    if w is not None:
        steps += [Set("w", np.array(w, dtype=np.float64)), Set("b", float(b))]
    return steps


def _kept(w, b):
    """Observing w and b unchanged: computing a cost, a gradient or labels must not move them."""
    return (Observe("w", expect=Close(np.array(w, dtype=np.float64), rtol=0, atol=0)),
            Observe("b", expect=Close(float(b), rtol=0, atol=0)))


def _problem(n, d, scale=1.0):
    """Random X (n, d), labels y (n,) in {0, 1}, weights w (d,) of size ~scale and a bias b, rounded to 6 digits."""
    return (rng.normal(size=(n, d)).round(6), rng.integers(0, 2, size=n), (scale * rng.normal(size=d)).round(6),
            round(float(rng.normal()), 6))


def _saturated(kind_of_labels):
    """Logits of exactly (800, -800, 799, -799, 0.5): w = (400, 0, -1), b = 0 on integer pixels."""
    X = np.array([[2.0, 7.0, 0.0], [-2.0, 1.0, 0.0], [2.0, -3.0, 1.0], [-2.0, 0.0, -1.0], [0.0, 5.0, -0.5]])
    y = {"right": np.array([1, 0, 1, 0, 1]), "wrong": np.array([0, 1, 0, 1, 1]),
         "mixed": np.array([1, 1, 0, 0, 0])}[kind_of_labels]
    return X, y, np.array([400.0, 0.0, -1.0]), 0.0


# ------------------------------------------------------------------ normalise_data


def _standardised(train, test):
    """(x - mean) / std per column with the training set's exact mean and (population) variance, in decimals."""
    train_q = [[exact(v) for v in row] for row in train.tolist()]
    n = len(train_q)
    out = ([], [])
    with decimal.localcontext(MODERATE):
        for j in range(train.shape[1]):
            column = [row[j] for row in train_q]
            mean = sum(column) / n
            variance = sum((v - mean) ** 2 for v in column) / n
            std = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt() if variance else Decimal(1)
            for k, data in enumerate((train, test)):
                out[k].append([float(Decimal((exact(v) - mean).numerator) / Decimal((exact(v) - mean).denominator)
                                     / std) for v in data[:, j].tolist()])
    return np.array(out[0]).T, np.array(out[1]).T


def _normalise(train, test, about, stable=False):
    expect = Close(_standardised(train, test), rtol=1e-9, atol=1e-12, dtype_kind="f",
                   names={0: "x_train_n", 1: "x_test_n"})
    return Scenario((*_model(), Call("normalise_data", (train, test), expect=expect & STABLE if stable else expect)),
                    about=about)


def _pixels(n, d, constant=()):
    """uint8 images (n, d) in 0..255, with the columns in ``constant`` (index -> value) constant."""
    x = rng.integers(0, 256, size=(n, d)).astype(np.uint8)
    for j, value in constant:
        x[:, j] = value
    return x


# ------------------------------------------------------------------ cost, gradient, labels


def _cost_case(X, y, w, b, kind, about, stable=False):
    expect = one_number(cost_value(w, b, X, y, kind), "the mean cost")
    return Scenario((*_model(kind, w=w, b=b), Call("cost_funct", (X, y), expect=expect & STABLE if stable else expect)),
                    about=about)


def _grad_case(X, y, w, b, kind, about, stable=False):
    expect = Close(gradient_value(w, b, X, y, kind), rtol=1e-7, atol=1e-10, names={0: "grad_w", 1: "grad_b"})
    return Scenario((*_model(kind, w=w, b=b), Call("grad_cost", (X, y), expect=expect & STABLE if stable else expect),
                     *_kept(w, b)), about=about)


def _predict_case(X, w, b, about, stable=False):
    if not _margin_ok(w, b, X):
        raise ValueError(f"predict case {about!r}: a logit is too close to 0 to have a reliable float64 sign")
    expect = Equal(_labels(w, b, X))
    return Scenario((*_model(w=w, b=b), Call("predict", (X,), expect=expect & STABLE if stable else expect),
                     *_kept(w, b)), about=about)


# ------------------------------------------------------------------ update: the closed form in fractions


def _stepped(start, grads, alpha):
    """start - alpha * (g_1 + ... + g_t), in exact fractions, entry by entry."""
    total = [sum((exact(g[i]) for g in grads), Fraction(0)) for i in range(len(start))]
    return np.array([float(exact(s) - exact(alpha) * t) for s, t in zip(start, total)])


def _update_case(alpha, w0, b0, steps, about):
    return Scenario((
        *_model(alpha=alpha, w=w0, b=b0),
        *[Call("update", (np.array(gw, dtype=np.float64), float(gb))) for gw, gb in steps],
        Observe("w", expect=Close(_stepped(w0, [gw for gw, _ in steps], alpha), dtype_kind="f")),
        Observe("b", expect=one_number(float(_stepped([b0], [[gb] for _, gb in steps], alpha)[0]), "the bias")),
    ), about=about)


# ------------------------------------------------------------------ optimise: gradient descent on the decimal costs


def _descent(w0, b0, alpha, kind, epochs, data):
    """The history and the final (w, b) of ``epochs`` steps of gradient descent, by the definitions.

    data: (x_train, y_train, x_test, y_test). Each epoch: centered differences of the decimal
    training cost at the current weights, one step, then the costs, the error rates (from the
    sign of the logits) and the step's length. Logits must stay below 100 in size (60 digits).
    """
    x_train, y_train, x_test, y_test = data
    history = {key: [] for key in HISTORY}
    with decimal.localcontext(MODERATE):
        w, b, a = [Decimal(float(v)) for v in w0], Decimal(float(b0)), Decimal(float(alpha))
        for _ in range(epochs):
            grad_w, grad_b = _gradient(w, b, x_train, y_train, kind, MODERATE_STEP)
            w, b = [wj - a * g for wj, g in zip(w, grad_w)], b - a * grad_b
            history["speed"].append(float(a * (sum(g * g for g in grad_w) + grad_b * grad_b).sqrt()))
            for part, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
                z = _logits(w, b, x)
                if any(abs(v) < MARGIN or abs(v) > 100 for v in z):
                    raise ValueError("an optimise case has a logit too close to 0 or too large: choose other data")
                history[f"cost_{part}"].append(float(_cost(w, b, x, y, kind)))
                wrong = [int(v >= 0) != label for v, label in zip(z, y.tolist())]
                history[f"error_{part}"].append(float(np.mean(wrong)))
        return {k: np.array(v, dtype=np.float64) for k, v in history.items()}, np.array([float(v) for v in w]), float(b)


def _optimise_case(kind, alpha, epochs, w0, b0, data, about):
    history, w, b = _descent(w0, b0, alpha, kind, epochs, data)
    return Scenario((
        *_model(kind, alpha=alpha, epochs=epochs, w=w0, b=b0),
        Call("optimise", data, expect=Close(history, rtol=1e-7, atol=1e-10, dtype_kind="f")),
        Observe("w", expect=Close(w, rtol=1e-7, atol=1e-10)),
        Observe("b", expect=one_number(b, "the bias", rtol=1e-7, atol=1e-10)),
    ), about=about)


def _split(n_train, n_test, d, seed, flip_test=False):
    """Train and test sets of a noisy linear rule; flip_test: the test set has the opposite rule."""
    r = np.random.default_rng(seed)
    teacher = r.normal(size=d)
    x_train, x_test = r.normal(size=(n_train, d)).round(4), r.normal(size=(n_test, d)).round(4)
    y_train = (x_train @ teacher + 0.5 * r.normal(size=n_train) > 0).astype(np.int64)
    y_test = (x_test @ teacher > 0).astype(np.int64)
    return x_train, y_train, x_test, (1 - y_test) if flip_test else y_test


# ------------------------------------------------------------------ the inputs

basic_cost = _problem(5, 3)
big = _problem(40, 6)
single = _problem(1, 4)
wide_problem = _problem(12, 5, scale=3.0)
basic_grad = _problem(7, 4)
grad_big = _problem(30, 5)
tie_X = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.0], [-2.0, 4.0]])
tie_w, tie_b = np.array([1.0, 0.5]), -2.0  # z = x1 + 0.5 x2 - 2 = (0, 0.5, -2, -2), exactly: a tie first
near_X = np.array([[0.1, 0.05], [0.3, -0.2], [-0.3, 0.0], [0.2, -0.25], [-0.3, 0.1]])
near_w, near_b = np.array([1.0, 1.0]), 0.1  # z = (0.25, 0.2, -0.2, 0.05, -0.1)
sat_X, _, sat_w, sat_b = _saturated("mixed")
predict_big = _problem(50, 10)

TESTS = {
    # ---------------------------------------------------------------- normalise_data
    "test_normalise_data_basic": HiddenTest([
        _normalise(_pixels(4, 3, [(0, 0)]), _pixels(2, 3), "uint8 pixels, 4 training images, one pixel constant"),
        _normalise(_pixels(6, 2, [(1, 255)]), _pixels(3, 2), "uint8 pixels, a pixel constant at 255"),
    ]),
    "test_normalise_data_hidden": HiddenTest([
        _normalise(_pixels(30, 8, [(0, 0), (3, 255), (6, 17)]), _pixels(7, 8), "30 images, 3 constant pixels",
                   stable=True),
        _normalise(_pixels(5, 4, [(0, 0), (1, 0), (2, 0), (3, 0)]), _pixels(2, 4),
                   "every pixel constant on the training set", stable=True),
        _normalise(rng.normal(100, 30, size=(9, 3)).round(3), rng.normal(0, 1, size=(1, 3)).round(3),
                   "float pixels, a test set of one image far from the training set's mean"),
        _normalise(_pixels(12, 5), _pixels(12, 5), "test set as large as the training set"),
    ]),
    # ---------------------------------------------------------------- cost_funct
    "test_cost_funct_basic": HiddenTest([
        _cost_case(*basic_cost, "CE", "cross-entropy, 5 examples, moderate logits"),
        _cost_case(*basic_cost, "MSE", "squared error, 5 examples, moderate logits"),
    ]),
    "test_cost_funct_hidden": HiddenTest([
        _cost_case(*_saturated("wrong"), "CE", "cross-entropy, logits +-800, confidently wrong", stable=True),
        _cost_case(*_saturated("right"), "CE", "cross-entropy, logits +-800, confidently right", stable=True),
        _cost_case(*_saturated("mixed"), "CE", "cross-entropy, logits +-800, some right, some wrong", stable=True),
        _cost_case(*_saturated("wrong"), "MSE", "squared error, logits +-800", stable=True),
        _cost_case(*wide_problem, "CE", "cross-entropy, 12 examples, logits up to about 20"),
        _cost_case(*big, "CE", "cross-entropy, 40 examples, 6 features"),
        _cost_case(*big, "MSE", "squared error, 40 examples, 6 features"),
        _cost_case(*single, "MSE", "squared error, one example"),
    ]),
    # ---------------------------------------------------------------- grad_cost
    "test_grad_cost_basic": HiddenTest([
        _grad_case(*basic_grad, "CE", "cross-entropy, 7 examples, 4 features"),
        _grad_case(*basic_grad, "MSE", "squared error, 7 examples, 4 features"),
    ]),
    "test_grad_cost_hidden": HiddenTest([
        _grad_case(*_saturated("mixed"), "CE", "cross-entropy, logits +-800", stable=True),
        _grad_case(*_saturated("wrong"), "MSE", "squared error, logits +-800: a vanishing gradient", stable=True),
        _grad_case(*grad_big, "CE", "cross-entropy, 30 examples, 5 features"),
        _grad_case(*grad_big, "MSE", "squared error, 30 examples, 5 features"),
        _grad_case(*wide_problem, "MSE", "squared error, logits up to about 20: sigma' small but not 0"),
        _grad_case(*single, "CE", "cross-entropy, one example"),
    ]),
    # ---------------------------------------------------------------- predict
    "test_predict_basic": HiddenTest([
        _predict_case(np.array([[2.0, 1.0], [-1.0, 0.5], [0.5, 0.5], [1.0, -3.0], [0.2, 0.1]]),
                      np.array([1.0, -1.0]), -0.2, "5 examples, logits of both signs, some below 0.5"),
    ]),
    "test_predict_hidden": HiddenTest([
        _predict_case(tie_X, tie_w, tie_b, "logits of exactly 0, where y_hat = 0.5 is labelled 1"),
        _predict_case(near_X, near_w, near_b, "logits between -0.5 and 0.5"),
        _predict_case(sat_X, sat_w, sat_b, "logits +-800", stable=True),
        _predict_case(predict_big[0], *predict_big[2:], "50 examples, 10 features"),
        _predict_case(np.array([[3.0, -1.0]]), np.array([0.1, 0.2]), 0.05, "one example"),
    ]),
    # ---------------------------------------------------------------- update
    "test_update_basic": HiddenTest([
        _update_case(0.2, [0.5, -1.0, 2.0, 0.0], 0.25, [([0.2, 0.4, -0.6, 1.0], -0.5)], "one update, alpha = 0.2"),
    ]),
    "test_update_hidden": HiddenTest([
        _update_case(0.5, [1.0, 1.0], -2.0, [([1.0, -2.0], 0.5), ([0.25, 0.5], 1.5)], "two updates, alpha = 0.5"),
        _update_case(3.0, [0.1, -0.2, 0.3], 1.0, [([0.5, 0.5, -0.5], 2.0)] * 3, "three updates, alpha = 3"),
        _update_case(0.3, [0.0] * 4, 0.0, [([0.0] * 4, 0.0)], "a zero gradient: nothing moves"),
        _update_case(0.05, rng.normal(size=784).round(6).tolist(), 0.5,
                     [(rng.normal(size=784).round(6).tolist(), -1.0)], "784 weights, as for MNIST"),
    ]),
    # ---------------------------------------------------------------- optimise
    "test_optimise_basic": HiddenTest([
        _optimise_case("CE", 0.5, 4, [0.1, -0.2, 0.05], 0.1, _split(8, 5, 3, seed=31),
                       "cross-entropy, 4 epochs, 8 training and 5 test examples"),
    ]),
    "test_optimise_hidden": HiddenTest([
        _optimise_case("MSE", 2.0, 5, [0.3, 0.0, -0.4, 0.2], -0.1, _split(10, 6, 4, seed=32),
                       "squared error, alpha = 2, 5 epochs"),
        _optimise_case("CE", 1.5, 6, [0.0, 0.0, 0.0], 0.0, _split(9, 7, 3, seed=33, flip_test=True),
                       "cross-entropy, a test set with the opposite labels, 6 epochs"),
        _optimise_case("CE", 0.1, 3, [0.5], -0.25, _split(6, 3, 1, seed=34),
                       "one feature, alpha = 0.1, 3 epochs"),
    ]),
}


class ReferenceGradientDescent:
    """The notebook's class with every method computed by this module's references, not by numpy's
    floats: the stand-in that tests/test_visible_checks.py runs the visible checks with."""

    HISTORY = HISTORY

    def __init__(self, alpha=0.5, cost="CE", epochs=100, seed=0):
        self.alpha, self.cost, self.epochs, self.seed = alpha, cost, epochs, seed
        self.w = np.random.default_rng(seed).normal(0.0, 0.01, size=28 * 28)  # as the notebook's given __init__
        self.b = 0.0

    def normalise_data(self, x_train, x_test):
        return _standardised(np.asarray(x_train), np.asarray(x_test))

    def cost_funct(self, x, y):
        return cost_value(self.w, self.b, np.asarray(x, dtype=np.float64), np.asarray(y), self.cost)

    def grad_cost(self, x, y):
        return gradient_value(self.w, self.b, np.asarray(x, dtype=np.float64), np.asarray(y), self.cost)

    def predict(self, x):
        return _labels(self.w, self.b, np.asarray(x, dtype=np.float64))

    def update(self, grad_w, grad_b):
        self.w = _stepped(self.w, [np.ravel(grad_w)], self.alpha)
        self.b = float(_stepped([self.b], [[grad_b]], self.alpha)[0])

    def optimise(self, x_train, y_train, x_test, y_test):
        data = tuple(np.asarray(v, dtype=np.float64) if i % 2 == 0 else np.asarray(v) for i, v in
                     enumerate((x_train, y_train, x_test, y_test)))
        history, self.w, self.b = _descent(self.w, self.b, self.alpha, self.cost, self.epochs, data)
        return history


#: The reference each graded name's hidden expectations are computed with (tests/test_visible_checks.py).
REFERENCES = {"GradientDescent": ReferenceGradientDescent}

"""Hidden tests of assignment 04, one entry per test cell (grade_id).

Every graded answer is a function, called on the grader's inputs (``Case``). Shapes are never
square where a square could hide a transpose (d != k != n). ``test_<name>_basic`` checks the
rule of the notebook's visible checks on inputs of the same kind the notebook never shows (small
values on a grid of quarters, one-hot targets, moderate scores); ``test_<name>_hidden`` checks it
where the visible checks do not look: random reals that need float64, one example, one input or
one class, MNIST's 784 x 10, ties for the top score, a near-perfect fit, saturated sigmoids, scores
of +-1e4 (where exp overflows: no RuntimeWarning allowed), training runs without evaluation data,
with batches of 1 or one batch, and runs that diverge.

Expected values come from an independent route, never from the solution notebook:

* scores, the squared loss and the accuracy in exact fractions (every float is a rational
  number), the argmax by exact comparison; a case whose top two scores are closer than a relative
  1e-9 is refused when the tests are built (float64 round-off could reorder them), except for
  exact ties on inputs where float64 is exact too (small integers and quarters);
* every gradient by centered differences of the loss written out from its definition, entry by
  entry, with ``decimal``: 60 digits with steps 1e-20 relative to the coordinate (error ~1e-40;
  the squared loss is quadratic, so its difference is exact up to round-off); no derivative formula is typed here;
* softmax and cross-entropy from exp and ln in 60-digit decimals with an exponent range of 1e8,
  where e^10000 is just a large number: no shift by the maximum is needed, so none is copied;
* train_minibatch by running the contract's definition step by step in 400-digit decimals:
  W = 0, b = 0, one generator np.random.default_rng(seed) whose permutation(n) gives each epoch's
  order (the contract's convention, drawn here with numpy), batches order[s:s + batch_size], the
  batch loss before each step, the step by the finite-difference gradient divided by the batch's
  size, the history after each epoch. A run diverges at the first step whose batch loss exceeds
  the float64 maximum; a diverging case is refused unless that loss is 100 times past it and every
  earlier loss (and every loss in the history) 100 times below it, so float64 round-off (~1e-13
  relative) cannot move the step.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Callable

import numpy as np

from autograder.cases import Case, Close, HiddenTest, NoWarnings, one_number
from autograder.reference import CONTEXT, STEP, derivative, exact, sigmoid

rng = np.random.default_rng(2028)
STABLE = NoWarnings()
HISTORY = ("loss_train", "error_train", "loss_eval", "error_eval", "diverged_at")
SMOOTH = decimal.Context(prec=60, Emin=-10**8, Emax=10**8)  # exp and ln: 60 digits, any exponent
SMOOTH_STEP = Decimal("1e-20")  # relative: truncation ~1e-40, round-off ~1e-60 / 1e-20
MARGIN = Fraction(1, 10**9)  # top two scores closer than this (relative) could swap in float64
FMAX = Decimal(float(np.finfo(np.float64).max))  # exactly 1.797...e308
OVERFLOW_MARGIN = 100  # a diverging batch loss is this far past FMAX, every other loss this far below

EXACT = {"rtol": 1e-10, "atol": 1e-12}  # scores and losses: float64 is good to ~1e-14 on these inputs
GRAD = {"rtol": 1e-9, "atol": 1e-11}
TRAIN = {"rtol": 1e-9, "atol": 1e-12}
PROB = {"rtol": 1e-9, "atol": 1e-15}  # probabilities: relative accuracy down to 1e-15
PROB_GRAD = {"rtol": 1e-9, "atol": 1e-13}
# the basic cases of softmax and its gradient hold the answer to the notebook's visible checks' own
# tolerances (check_close's rtol 1e-6, check_rel_error's 1e-7): the hidden ones ask for float64's accuracy
VISIBLE = {"rtol": 1e-6, "atol": 1e-9}
VISIBLE_GRAD = {"rtol": 1e-7, "atol": 1e-9}

# ------------------------------------------------------------------ exact arithmetic: scores, loss, accuracy


def _fractions(a) -> list[list[Fraction]]:
    """A 2-d array as rows of exact Fractions."""
    return [[exact(v) for v in row] for row in np.asarray(a, dtype=np.float64).tolist()]


def _vector(b) -> list[Fraction]:
    return [exact(v) for v in np.ravel(np.asarray(b, dtype=np.float64))]


def _exact_scores(W, b, X) -> list[list[Fraction]]:
    """(X W + b)_ic = b_c + sum_j X_ij W_jc, every product and sum exact."""
    columns = list(zip(*_fractions(W)))
    bias = _vector(b)
    return [[sum((x * w for x, w in zip(row, column)), bias[c]) for c, column in enumerate(columns)]
            for row in _fractions(X)]


def _floats(rows) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in rows], dtype=np.float64)


def scores_value(W, b, X) -> np.ndarray:
    """X @ W + b (n, k), each entry the exact value correctly rounded."""
    return _floats(_exact_scores(W, b, X))


def loss_value(W, b, X, Y) -> float:
    """sum_i sum_c (Y_ic - (X W + b)_ic)^2, exact, then rounded once."""
    return float(sum(((y - s) ** 2 for s_row, y_row in zip(_exact_scores(W, b, X), _fractions(Y))
                      for s, y in zip(s_row, y_row)), Fraction(0)))


def _first_max(row) -> int:
    """The first index of the largest entry: np.argmax's rule for ties."""
    return row.index(max(row))


def _clear(rows, ties_allowed=False):
    """Refuse scores whose top two are closer than MARGIN (relative) without being equal; equal
    (tied) tops only where float64 is exact too (``ties_allowed``: integer and quarter inputs)."""
    for row in rows:
        row = [Fraction(v) for v in row]  # Fractions or Decimals, compared exactly
        best = max(row)
        others = [v for v in row if v != best]
        if others and best - max(others) <= MARGIN * (1 + abs(best)):
            raise ValueError("two top scores too close to have a reliable float64 order: choose other inputs")
        if row.count(best) > 1 and not ties_allowed:
            raise ValueError("a tie for the top score on inputs where float64 may not be exact")


def accuracy_value(W, b, X, y) -> float:
    """The fraction of rows whose first largest exact score is at the label."""
    labels = np.ravel(y).tolist()
    right = sum(_first_max(row) == label for row, label in zip(_exact_scores(W, b, X), labels))
    return float(Fraction(right, len(labels)))


# ------------------------------------------------------------------ decimals: losses by their definitions


def _decimals(a) -> list[list[Decimal]]:
    """A 2-d array as rows of exact Decimals (Decimal(float) does not round)."""
    return [[Decimal(v) for v in row] for row in np.asarray(a, dtype=np.float64).tolist()]


def _decimal_vector(b) -> list[Decimal]:
    return [Decimal(v) for v in np.ravel(np.asarray(b, dtype=np.float64)).tolist()]


def _decimal_scores(W, b, X) -> list[list[Decimal]]:
    """b_c + sum_j X_ij W_jc for Decimal rows W (d lists of k), b (k), X (n lists of d)."""
    return [[sum((xj * w_row[c] for xj, w_row in zip(x, W)), b[c]) for c in range(len(b))] for x in X]


def _squared_errors(W, b, X, Y, output: Callable | None = None) -> Decimal:
    """sum_i sum_c (Y_ic - output((X W + b)_ic))^2, output the identity or the sigmoid."""
    return sum(((y - (output(s) if output else s)) ** 2 for s_row, y_row in zip(_decimal_scores(W, b, X), Y)
                for s, y in zip(s_row, y_row)), Decimal(0))


def _slope(g: Callable, t: Decimal, step: Decimal) -> Decimal:
    """The centered difference of g at t with the step ``step`` relative to t (absolute below |t| = 1)."""
    return derivative(g, step * max(Decimal(1), abs(t)))(t)


def _replaced(W, j, c, t):
    """W with entry (j, c) replaced by t (a new list of lists)."""
    return [[t if (i, col) == (j, c) else w for col, w in enumerate(row)] for i, row in enumerate(W)]


def _fd_gradient(loss: Callable, W, b, step: Decimal):
    """(dW, db) of loss(W, b) by centered differences in every coordinate (Decimal lists)."""
    dW = [[_slope(lambda t, j=j, c=c: loss(_replaced(W, j, c, t), b), W[j][c], step) for c in range(len(b))]
          for j in range(len(W))]
    db = [_slope(lambda t, c=c: loss(W, [*b[:c], t, *b[c + 1:]]), b[c], step) for c in range(len(b))]
    return dW, db


def _gradient_value(W, b, X, Y, output, context, step):
    with decimal.localcontext(context):
        Xd, Yd = _decimals(X), _decimals(Y)
        dW, db = _fd_gradient(lambda W_, b_: _squared_errors(W_, b_, Xd, Yd, output),
                              _decimals(W), _decimal_vector(b), step)
        return _floats(dW), np.array([float(v) for v in db])


def gradient_value(W, b, X, Y):
    """(dW (d, k), db (k,)) of the summed squared loss, by differences of the 60-digit loss."""
    return _gradient_value(W, b, X, Y, None, SMOOTH, SMOOTH_STEP)


def sigmoid_gradient_value(W, b, X, Y):
    """(dW, db) of sum ||Y_i - sigmoid(X W + b)_i||^2, by differences of the 60-digit loss."""
    return _gradient_value(W, b, X, Y, sigmoid, SMOOTH, SMOOTH_STEP)


def _softmax_rows(A) -> list[list[Decimal]]:
    """e^a_ij / sum_l e^a_il, row by row, straight from the definition (Decimal rows)."""
    out = []
    for row in A:
        powers = [a.exp() for a in row]
        total = sum(powers, Decimal(0))
        out.append([p / total for p in powers])
    return out


def softmax_value(A) -> np.ndarray:
    with decimal.localcontext(SMOOTH):
        return _floats(_softmax_rows(_decimals(A)))


def _cross_entropy(A, labels) -> Decimal:
    """The mean over the rows of -ln softmax(a_i)_{y_i} = ln(sum_l e^a_il) - a_{i y_i}."""
    return sum((sum((a.exp() for a in row), Decimal(0)).ln() - row[y] for row, y in zip(A, labels)),
               Decimal(0)) / len(labels)


def cross_entropy_value(A, y) -> float:
    with decimal.localcontext(SMOOTH):
        return float(_cross_entropy(_decimals(A), np.ravel(y).tolist()))


def cross_entropy_grad_value(A, y) -> np.ndarray:
    """d(mean cross-entropy)/dA (n, k) by centered differences of the 60-digit definition."""
    labels = np.ravel(y).tolist()
    with decimal.localcontext(SMOOTH):
        A = _decimals(A)
        return _floats([[_slope(lambda t, i=i, c=c: _cross_entropy(_replaced(A, i, c, t), labels), A[i][c], SMOOTH_STEP)
                         for c in range(len(A[i]))] for i in range(len(A))])


# ------------------------------------------------------------------ train_minibatch, run by its definition


def _train(X, Y, lr, epochs, batch_size, seed, X_eval=None, Y_eval=None):
    """The contract's minibatch gradient descent in 400-digit decimals.

    Returns (W (d, k), b (k,), history, trace): history as train_minibatch returns it; trace holds
    what the cases' margins are checked on: "losses", every batch loss computed, in order, and
    "recorded", every loss in the history, both Decimal; "scores", the Decimal score rows the
    error rates were decided on.
    """
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    n, d, k = X.shape[0], X.shape[1], Y.shape[1]
    order_of = np.random.default_rng(seed)
    history = {key: [] for key in HISTORY[:4]}
    trace = {"losses": [], "recorded": [], "scores": []}
    diverged_at = None
    with decimal.localcontext(CONTEXT):
        sets = {"train": (_decimals(X), _decimals(Y))}
        if X_eval is not None:
            sets["eval"] = (_decimals(X_eval), _decimals(Y_eval))
        rate = Decimal(float(lr))
        W, b = [[Decimal(0)] * k for _ in range(d)], [Decimal(0)] * k
        for epoch in range(1, epochs + 1):
            order = order_of.permutation(n)
            for step, start in enumerate(range(0, n, batch_size), start=1):
                X_B = [sets["train"][0][i] for i in order[start:start + batch_size]]
                Y_B = [sets["train"][1][i] for i in order[start:start + batch_size]]
                trace["losses"].append(_squared_errors(W, b, X_B, Y_B))
                if not trace["losses"][-1] < FMAX:  # float64 would hold inf: stop before the step
                    diverged_at = (epoch, step)
                    break
                dW, db = _fd_gradient(lambda W_, b_: _squared_errors(W_, b_, X_B, Y_B), W, b, STEP)
                W = [[w - rate * g / len(X_B) for w, g in zip(w_row, g_row)] for w_row, g_row in zip(W, dW)]
                b = [v - rate * g / len(X_B) for v, g in zip(b, db)]
            if diverged_at:
                break
            for name, (X_s, Y_s) in sets.items():
                loss = _squared_errors(W, b, X_s, Y_s)
                scores = _decimal_scores(W, b, X_s)
                right = sum(_first_max(s) == _first_max(t) for s, t in zip(scores, Y_s))
                history[f"loss_{name}"].append(float(loss / len(X_s)))
                history[f"error_{name}"].append(float(1 - Fraction(right, len(X_s))))
                trace["recorded"].append(loss)
                trace["scores"] += scores
        result = {key: np.array(values, dtype=np.float64) for key, values in history.items()}
        result["diverged_at"] = diverged_at
        return _floats(W), np.array([float(v) for v in b]), result, trace


def reference_train_minibatch(X, Y, lr, epochs, batch_size, seed, X_eval=None, Y_eval=None):
    """train_minibatch's contract in decimals, printing its divergence line (the visible checks read it)."""
    W, b, history, _ = _train(X, Y, lr, epochs, batch_size, seed, X_eval, Y_eval)
    if history["diverged_at"]:
        epoch, step = history["diverged_at"]
        print(f"diverged at epoch {epoch}, step {step}: the batch loss is not finite; stopped")
    return W, b, history


# ------------------------------------------------------------------ expectations and cases


def _case(call, args, expect, about, stable=False):
    return Case(call, args, expect=expect & STABLE if stable else expect, about=about)


def _scores_case(W, b, X, about):
    return _case("predict_scores", (W, b, X), Close(scores_value(W, b, X), dtype_kind="f", **EXACT), about)


def _loss_case(W, b, X, Y, about, atol=EXACT["atol"]):
    expect = one_number(loss_value(W, b, X, Y), "the loss", rtol=EXACT["rtol"], atol=atol)
    return _case("squared_loss", (W, b, X, Y), expect, about)


def _gradient_case(W, b, X, Y, about):
    expect = Close(gradient_value(W, b, X, Y), names={0: "dW", 1: "db"}, **GRAD)
    return _case("gradients", (W, b, X, Y), expect, about)


def _accuracy_case(W, b, X, y, about, ties_allowed=False):
    _clear(_exact_scores(W, b, X), ties_allowed)
    return _case("accuracy", (W, b, X, y), one_number(accuracy_value(W, b, X, y),
                                                      "the fraction of right predictions", rtol=0), about)


def _sigmoid_case(W, b, X, Y, about, stable=False):
    expect = Close(sigmoid_gradient_value(W, b, X, Y), names={0: "dW", 1: "db"}, **GRAD)
    return _case("gradients_sigmoid_output", (W, b, X, Y), expect, about, stable)


def _softmax_case(A, about, stable=False, tol=PROB):
    return _case("softmax", (A,), Close(softmax_value(A), dtype_kind="f", **tol), about, stable)


def _cross_entropy_case(A, y, about, stable=False):
    return _case("softmax_cross_entropy", (A, y), one_number(cross_entropy_value(A, y),
                                                             "the mean cross-entropy"), about, stable)


def _cross_entropy_grad_case(A, y, about, stable=False, tol=PROB_GRAD):
    expect = Close(cross_entropy_grad_value(A, y), dtype_kind="f", **tol)
    return _case("softmax_cross_entropy_grad", (A, y), expect, about, stable)


def _train_case(data, lr, epochs, batch_size, seed, about, eval_data=None, diverges=False):
    """A run of train_minibatch on data = (X, Y), with (X_eval, Y_eval) = eval_data if given.

    diverges: whether the run must stop on a non-finite batch loss (then no RuntimeWarning is allowed
    either); the margins of the module docstring are checked here, when the tests are built.
    """
    X, Y = data
    X_eval, Y_eval = eval_data if eval_data else (None, None)
    W, b, history, trace = _train(X, Y, lr, epochs, batch_size, seed, X_eval, Y_eval)
    if bool(history["diverged_at"]) != diverges:
        raise ValueError(f"train case {about!r}: diverged_at is {history['diverged_at']}")
    finite = trace["losses"][:-1] if diverges else trace["losses"]
    if any(loss * OVERFLOW_MARGIN > FMAX for loss in finite + trace["recorded"]):
        raise ValueError(f"train case {about!r}: a finite loss is too close to the float64 maximum")
    if diverges and trace["losses"][-1] < FMAX * OVERFLOW_MARGIN:
        raise ValueError(f"train case {about!r}: the diverging loss is too close to the float64 maximum")
    _clear(trace["scores"])
    kwargs = {"lr": lr, "epochs": epochs, "batch_size": batch_size, "seed": seed}
    if eval_data:
        kwargs.update(X_eval=X_eval, Y_eval=Y_eval)
    expect = Close((W, b, history), names={0: "W", 1: "b", 2: "history"}, **TRAIN)
    return Case("train_minibatch", (X, Y), kwargs, expect=expect & STABLE if diverges else expect, about=about)


# ------------------------------------------------------------------ the inputs


def _one_hot(labels, k):
    return np.eye(k)[labels]


def _quarters(*shape, low=-8, high=9):
    """Small multiples of 1/4, as in the visible checks: float64 holds them, their products and sums exactly."""
    return rng.integers(low, high, size=shape) / 4


def _reals(*shape, scale=1.0):
    """Random reals, rounded to 6 decimals: every product and sum of them rounds in float64."""
    return (scale * rng.normal(size=shape)).round(6)


def _linear(n, d, k, values=_reals):
    """W (d, k), b (k,), X (n, d), Y (n, k) one-hot, y (n,) its labels."""
    y = rng.integers(0, k, size=n)
    return values(d, k), values(k), values(n, d), _one_hot(y, k), y


def _pixels(n, d=784):
    """n MNIST-like images (n, d): integer pixels in 0..255 divided by 255, most of them 0."""
    return np.where(rng.random((n, d)) < 0.8, 0, rng.integers(1, 256, size=(n, d))) / 255.0


def _near_fit(n, d, k):
    """A near-perfect fit: X picks one row of W per example (0/1 inputs, b = 0), and those rows are the
    one-hot targets plus +-2^-30, so the scores are exact and every residual is 2^-30."""
    picks = rng.permutation(d)[:n]  # distinct rows (n <= d): each holds its own example's target
    y = rng.integers(0, k, size=n)
    X = np.eye(d)[picks]
    W = rng.choice([-1.0, 1.0], size=(d, k)) * 2.0 ** -30
    W[picks] += _one_hot(y, k)
    return W, np.zeros(k), X, _one_hot(y, k)


def _classes(n, d, k, seed, spread=1.0):
    """A training set of k classes around random centres in d dimensions: X (n, d), one-hot Y (n, k)."""
    r = np.random.default_rng(seed)
    centres = r.normal(size=(k, d)) * 2
    y = r.integers(0, k, size=n)
    return (centres[y] + spread * r.normal(size=(n, d))).round(4), _one_hot(y, k)


basic_scores = _linear(4, 3, 2, _quarters)
basic_scores_2 = _linear(2, 5, 3, _quarters)
scores_reals = _linear(5, 3, 4)
one_example = _linear(1, 4, 3)
one_input = _linear(6, 1, 5)
one_class = _linear(3, 4, 1)
mnist_like = (_reals(784, 10, scale=0.05), _reals(10), _pixels(3), _one_hot(rng.integers(0, 10, 3), 10))

basic_loss = _linear(3, 2, 4, _quarters)
basic_loss_2 = _linear(5, 3, 2, _quarters)
loss_reals = _linear(6, 4, 3)
near_fit = _near_fit(5, 7, 3)

basic_grad = _linear(5, 3, 4, _quarters)
grad_reals = _linear(6, 4, 3)
grad_wide = _linear(3, 9, 2)  # more inputs than examples
grad_pixels = (_reals(50, 2, scale=0.2), _reals(2), _pixels(2, 50), _one_hot([1, 0], 2))


def _untied(n, d, k):
    """_linear(n, d, k, _quarters), drawn again until no row has a tie for its top score."""
    while True:
        problem = _linear(n, d, k, _quarters)
        try:
            _clear(_exact_scores(*problem[:3]))
            return problem
        except ValueError:
            continue


basic_accuracy = _untied(8, 3, 4)
accuracy_reals = _linear(30, 5, 7)
accuracy_mnist = (_reals(784, 10, scale=0.05), _reals(10), _pixels(12), None, rng.integers(0, 10, 12))
ties_X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [2.0, 0.0, 2.0], [1.0, 1.0, 0.0], [3.0, 0.0, 1.0]])
ties_W = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
# scores (1, 2, 1, 2), (0, 1, 1, 2), (2, 0, 4, 2), (1, 1, 1, 1), (3, 0, 4, 1): first maxima 1, 3, 2, 0, 2
ties_y = np.array([3, 3, 2, 1, 2])  # right: rows 1, 2 and 4 (row 0's label 3 ties with its winner 1, row 3's 1 with 0)

basic_sigmoid = _linear(5, 3, 4)
sigmoid_wide = (_reals(2, 3, scale=6.0), _reals(3, scale=3.0), _reals(6, 2, scale=2.0),
                _one_hot(rng.integers(0, 3, 6), 3))  # scores up to about +-30: sigmoid' tiny, not 0
SAT_X = np.array([[2.0, 1.0], [-2.0, 0.5], [1.0, -1.0], [0.0, 2.0]])
SAT_W = np.array([[400.0, -400.0, 0.5], [0.0, 0.0, -0.5]])  # scores +-800, +-400 and moderate ones
SAT_b = np.array([0.0, 0.0, 0.25])
SAT_Y = _one_hot(np.array([1, 0, 2, 1]), 3)
HUGE_X = np.array([[1.0, 0.5], [-0.5, 1.0], [0.25, -1.0]])
HUGE_W = np.array([[1e4], [-2e4]])  # one class, scores of about +-1e4
HUGE_b = np.array([0.5])
HUGE_Y = np.array([[1.0], [0.0], [1.0]])

basic_A = _reals(3, 4, scale=2.0)
basic_labels = np.array([3, 0, 1])  # the last class among them, as in the visible checks
moderate_A = _reals(6, 3, scale=3.0)
moderate_labels = np.array([2, 0, 1, 1, 2, 0])
# +-1e4 with every row's largest score near 1e4, as in the visible checks
top_A = np.array([[1e4, -1e4, 0.0], [1e4 - 2.0, 1e4, 3.0], [-5e3, 1e4 - 0.5, 1e4]])
huge_A = np.array([[1e4, -1e4, 0.0, 5e3], [-1e4, 1e4, 1e4, 0.0], [3.0, -2.0, 1e4, -1e4]])
low_A = np.array([[-1e4, -1e4 + 1, -1e4 - 2, -1e4 + 0.5], [-1e4, -2e4, -1e4, -1.5e4]])  # every e^a underflows
mixed_A = np.array([[1e4, 1e4 - 3, 1e4 - 1, 1e4 + 2], [-1e4, -1e4 + 2, -1e4 - 1, -1e4 + 0.5]])  # rows 2e4 apart

TESTS = {
    # ---------------------------------------------------------------- predict_scores
    "test_predict_scores_basic": HiddenTest([
        _scores_case(*basic_scores[:3], "4 examples, 3 inputs, 2 classes"),
        _scores_case(*basic_scores_2[:3], "2 examples, 5 inputs, 3 classes"),
    ]),
    "test_predict_scores_hidden": HiddenTest([
        _scores_case(*scores_reals[:3], "5 examples, 3 inputs, 4 classes, random reals"),
        _scores_case(*one_example[:3], "one example: a (1, k) array"),
        _scores_case(*one_input[:3], "one input (d = 1)"),
        _scores_case(*one_class[:3], "one class (k = 1): an (n, 1) array"),
        _scores_case(*mnist_like[:3], "3 MNIST-sized images, 784 pixels / 255, 10 classes"),
    ]),
    # ---------------------------------------------------------------- squared_loss
    "test_squared_loss_basic": HiddenTest([
        _loss_case(*basic_loss[:4], "3 examples, 2 inputs, 4 classes, one-hot targets"),
        _loss_case(*basic_loss_2[:4], "5 examples, 3 inputs, 2 classes, one-hot targets"),
    ]),
    "test_squared_loss_hidden": HiddenTest([
        _loss_case(*loss_reals[:4], "6 examples, random reals"),
        _loss_case(*one_example[:4], "one example"),
        _loss_case(*one_class[:4], "one class (k = 1)"),
        _loss_case(*near_fit, "a near-perfect fit: every residual is 2^-30 (relative accuracy)", atol=0.0),
        _loss_case(*mnist_like, "3 MNIST-sized images, 10 classes"),
    ]),
    # ---------------------------------------------------------------- gradients
    "test_gradients_basic": HiddenTest([
        _gradient_case(*basic_grad[:4], "5 examples, 3 inputs, 4 classes"),
    ]),
    "test_gradients_hidden": HiddenTest([
        _gradient_case(*grad_reals[:4], "6 examples, 4 inputs, 3 classes, random reals"),
        _gradient_case(*one_example[:4], "one example: the outer product 2 x (y_hat - y)^T"),
        _gradient_case(*one_input[:4], "one input (d = 1)"),
        _gradient_case(*one_class[:4], "one class (k = 1)"),
        _gradient_case(*grad_wide[:4], "more inputs (9) than examples (3)"),
        _gradient_case(*grad_pixels, "2 images of 50 pixels / 255, 2 classes"),
    ]),
    # ---------------------------------------------------------------- accuracy
    "test_accuracy_basic": HiddenTest([
        _accuracy_case(*basic_accuracy[:3], basic_accuracy[4], "8 examples, 4 classes"),
        _accuracy_case(basic_accuracy[0], np.array([0.0, 0.0, 20.0, 0.0]), basic_accuracy[2], basic_accuracy[4],
                       "a large bias makes every prediction the same class"),
    ]),
    "test_accuracy_hidden": HiddenTest([
        _accuracy_case(*accuracy_reals[:3], accuracy_reals[4], "30 examples, 7 classes, random reals"),
        _accuracy_case(ties_W, np.zeros(4), ties_X, ties_y, "ties for the top score: the first class wins",
                       ties_allowed=True),
        _accuracy_case(np.zeros((3, 4)), np.zeros(4), ties_X, np.array([0, 1, 0, 2, 3]),
                       "W = 0, b = 0: every class ties, every prediction is class 0", ties_allowed=True),
        _accuracy_case(*one_example[:3], one_example[4], "one example"),
        _accuracy_case(*accuracy_mnist[:3], accuracy_mnist[4], "12 MNIST-sized images, 10 classes"),
    ]),
    # ---------------------------------------------------------------- train_minibatch
    "test_train_minibatch_basic": HiddenTest([
        _train_case(_classes(7, 2, 3, seed=41), 0.1, 2, 3, 5, "7 examples in batches of 3 (3, 3, 1), 2 epochs",
                    eval_data=_classes(4, 2, 3, seed=42)),
        _train_case(_classes(5, 3, 2, seed=43), 0.05, 1, 2, 11, "no evaluation data, one epoch"),
        _train_case(_classes(5, 2, 1, seed=53), 0.1, 2, 2, 6, "one class (k = 1), batches of 2 (2, 2, 1)",
                    eval_data=_classes(2, 2, 1, seed=54)),
        _train_case(_classes(8, 2, 3, seed=49), 1e60, 3, 2, 1, "lr = 1e60, 3 epochs of 4 steps: diverges, "
                    "no RuntimeWarning", diverges=True),
    ]),
    "test_train_minibatch_hidden": HiddenTest([
        _train_case(_classes(5, 3, 2, seed=43), 0.05, 3, 2, 11, "no evaluation data, batches of 2 (2, 2, 1), "
                    "3 epochs"),
        _train_case(_classes(6, 2, 4, seed=44), 0.08, 3, 3, 0, "6 examples in batches of 3, 3 epochs",
                    eval_data=_classes(3, 2, 4, seed=45)),
        _train_case(_classes(4, 3, 2, seed=46), 0.1, 4, 10, 3, "one batch larger than the data: full-batch steps",
                    eval_data=_classes(5, 3, 2, seed=47)),
        _train_case(_classes(4, 2, 3, seed=48), 0.05, 2, 1, 9, "batches of 1, 2 epochs"),
        _train_case(_classes(5, 2, 3, seed=50), 1e45, 4, 2, 2, "lr = 1e45, 4 epochs of 3 steps, evaluation data: "
                    "diverges, no RuntimeWarning", eval_data=_classes(3, 2, 3, seed=51), diverges=True),
        _train_case(_classes(6, 2, 3, seed=52, spread=0.5), 100.0, 30, 3, 4,
                    "lr = 100, 30 epochs of 2 steps: the loss grows for many steps", diverges=True),
    ]),
    # ---------------------------------------------------------------- gradients_sigmoid_output
    "test_gradients_sigmoid_output_basic": HiddenTest([
        _sigmoid_case(*basic_sigmoid[:4], "5 examples, 3 inputs, 4 classes, moderate scores"),
        _sigmoid_case(SAT_W, SAT_b, SAT_X, SAT_Y, "saturated scores of +-800, no RuntimeWarning", stable=True),
    ]),
    "test_gradients_sigmoid_output_hidden": HiddenTest([
        _sigmoid_case(*sigmoid_wide, "scores up to about +-30: sigmoid' small but not 0"),
        _sigmoid_case(HUGE_W, HUGE_b, HUGE_X, HUGE_Y, "one class, scores of about +-1e4, no RuntimeWarning",
                      stable=True),
        _sigmoid_case(*one_example[:4], "one example"),
        _sigmoid_case(*one_class[:4], "one class (k = 1)"),
        _sigmoid_case(*grad_wide[:4], "more inputs (9) than examples (3)"),
    ]),
    # ---------------------------------------------------------------- softmax
    "test_softmax_basic": HiddenTest([
        _softmax_case(basic_A, "3 rows of 4 moderate scores", tol=VISIBLE),
        _softmax_case(moderate_A, "6 rows of 3 scores", tol=VISIBLE),
        _softmax_case(huge_A, "scores of +-1e4, no RuntimeWarning", stable=True, tol=VISIBLE),
        _softmax_case(np.array([[1e4, 1e4 - 1.5], [-1e4 + 2, -1e4], [5e3, -5e3]]),
                      "rows near 1e4 and near -1e4, no RuntimeWarning", stable=True, tol=VISIBLE),
    ]),
    "test_softmax_hidden": HiddenTest([
        _softmax_case(top_A, "scores of +-1e4, no RuntimeWarning (relative accuracy)", stable=True),
        _softmax_case(low_A, "every score near -1e4 (each e^a underflows to 0), no RuntimeWarning", stable=True),
        _softmax_case(mixed_A, "one row near 1e4, the other near -1e4, no RuntimeWarning", stable=True),
        _softmax_case(np.array([[3.0, 3.0, 3.0]]), "one row of equal scores"),
        _softmax_case(np.array([[2.5], [-7.0]]), "one class (k = 1)"),
        _softmax_case(_reals(5, 2, scale=3.0), "5 rows of 2 random scores (relative accuracy)"),
    ]),
    # ---------------------------------------------------------------- softmax_cross_entropy
    "test_softmax_cross_entropy_basic": HiddenTest([
        _cross_entropy_case(basic_A, basic_labels, "3 rows of 4 moderate scores"),
        _cross_entropy_case(moderate_A, moderate_labels, "6 rows of 3 scores"),
        _cross_entropy_case(top_A, np.array([1, 0, 2]), "scores of +-1e4, no RuntimeWarning", stable=True),
    ]),
    "test_softmax_cross_entropy_hidden": HiddenTest([
        _cross_entropy_case(huge_A, np.array([1, 0, 3]), "scores of +-1e4, confidently wrong labels, no "
                            "RuntimeWarning", stable=True),
        _cross_entropy_case(huge_A, np.array([0, 2, 2]), "scores of +-1e4, confidently right labels, no "
                            "RuntimeWarning", stable=True),
        _cross_entropy_case(low_A, np.array([3, 0]), "every score near -1e4, no RuntimeWarning", stable=True),
        _cross_entropy_case(mixed_A, np.array([2, 1]), "one row near 1e4, the other near -1e4, no RuntimeWarning",
                            stable=True),
        _cross_entropy_case(np.array([[0.5, -1.0, 2.0, 0.0, 1.5]]), np.array([4]), "one example, the last class"),
        _cross_entropy_case(_reals(20, 10, scale=3.0), rng.integers(0, 10, 20), "20 examples, 10 classes"),
    ]),
    # ---------------------------------------------------------------- softmax_cross_entropy_grad
    "test_softmax_cross_entropy_grad_basic": HiddenTest([
        _cross_entropy_grad_case(basic_A, basic_labels, "3 rows of 4 moderate scores", tol=VISIBLE_GRAD),
        _cross_entropy_grad_case(moderate_A, moderate_labels, "6 rows of 3 scores", tol=VISIBLE_GRAD),
        _cross_entropy_grad_case(top_A, np.array([1, 0, 2]), "scores of +-1e4, no RuntimeWarning", stable=True,
                                 tol=VISIBLE_GRAD),
    ]),
    "test_softmax_cross_entropy_grad_hidden": HiddenTest([
        _cross_entropy_grad_case(huge_A, np.array([1, 0, 3]), "scores of +-1e4, no RuntimeWarning", stable=True),
        _cross_entropy_grad_case(mixed_A, np.array([3, 1]), "one row near 1e4, the other near -1e4, no "
                                 "RuntimeWarning", stable=True),
        _cross_entropy_grad_case(np.array([[0.5, -1.0, 2.0, 0.0, 1.5]]), np.array([4]),
                                 "one example, the last class"),
        _cross_entropy_grad_case(_reals(7, 5, scale=2.0), np.array([4, 4, 0, 2, 4, 1, 3]), "7 examples, 5 classes"),
        _cross_entropy_grad_case(_reals(4, 5), np.array([0, 2, 1, 0]), "labels that never reach the last class"),
    ]),
}


# ------------------------------------------------------------------ the references, one per graded function
# Each is the route the expected values above take, as a function of the graded function's signature,
# so that the notebook's visible checks can be run against it (tests/test_visible_checks.py).

REFERENCES: dict[str, Callable] = {
    "predict_scores": scores_value,
    "squared_loss": loss_value,
    "gradients": gradient_value,
    "accuracy": accuracy_value,
    "train_minibatch": reference_train_minibatch,
    "gradients_sigmoid_output": sigmoid_gradient_value,
    "softmax": softmax_value,
    "softmax_cross_entropy": cross_entropy_value,
    "softmax_cross_entropy_grad": cross_entropy_grad_value,
}

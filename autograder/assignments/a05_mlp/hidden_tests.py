"""Hidden tests of assignment 05, one entry per test cell (grade_id).

``test_mlp_functions_*`` call the four standalone functions; every ``test_mlp_<part>_*`` drives the
student's ``MLP`` through scenarios: construct it, set ``W1, b1, W2, b2`` to known values, call a
method, observe the parameters afterwards (read from the object's storage). ``_basic`` checks the
rule of the notebook's visible checks on inputs of the same kind that the notebook never shows;
``_hidden`` checks it where the visible checks do not look: d != d_h != m everywhere (a transposed
gradient has the wrong shape), every elastic-net term alone with non-zero biases, weights exactly 0
(the L1 subgradient), pre-activations exactly 0 (relu'), logits of +-1e3 and scores of +-1e4 (no
RuntimeWarning), one example, partial minibatches, early stopping and ties.

Conventions (the contract's): X: (K, d), y: (K,) labels in 0..m-1; h_a = X W1^T + b1, h_s = relu(h_a),
o_a = h_s W2^T + b2, o_s = softmax(o_a) row-wise; loss = mean over the K examples of
-log o_s[i, y_i] + l11 sum|W1| + l12 sum W1^2 + l21 sum|W2| + l22 sum W2^2 (biases never regularised).

Expected values come from an independent route, never from the solution notebook:

* relu, relu' and onehot from their definitions entry by entry; softmax, fprop and the loss
  entry by entry in ``decimal`` (50 digits; 400 for scores of +-1e4, where e^10000 is just a
  large number), the loss with its log-sum-exp written as ln(sum e^o_a), which cannot overflow
  in decimals;
* every gradient (bprop, bprop_loop) by centered differences of that decimal loss (h = 1e-20:
  error ~1e-40, far below float64), one parameter entry at a time, so no derivative formula is
  typed here. Two kinks have the contract's conventions, which a centered difference gives or
  is told: at a weight exactly 0 the L1 term's centered difference (|h| - |-h|) / 2h is exactly 0,
  the subgradient sign(0) = 0 the contract asks for; at a pre-activation exactly 0 (found in exact
  fractions, on inputs made of small dyadic numbers so that float64 computes the same 0), the
  difference would be relu'(0) = 1/2, so the loss is differenced with that unit held on relu's
  0 branch: relu'(0) = 0, the contract's convention;
* finite_difference_gradients against the centered differences of the student's *own* loss at
  the same perturbed parameters (relations.finite_differences, with the student's eps: a
  one-sided or sign-flipped difference, or an ignored eps, fails it), so that a mistake in the
  loss is not charged here again; anchored to the decimal gradient (rtol 1e-6, atol 1e-9, what a
  centered difference with eps = 1e-5 reaches in float64) in the basic case, as the visible check
  is, and on one unregularised example in the hidden ones, so that a loss that does not depend on
  the parameters (the release's stub) cannot pass; the parameters must come back bit for bit;
* init from the contract's draw, np.random.default_rng(seed).uniform for W1 first, then W2,
  reproduced here (the contract's convention), and the fan-in ranges;
* train by running the contract's definition step by step (rng.permutation each epoch, the
  minibatches, the SGD step, the per-epoch losses and error rates, early stopping, the restored
  best parameters). Finite differences are too slow for training, so its gradients come from a
  closed-form backprop in float64 written here from the math (``_backprop64``), which this module
  checks against the decimal centered differences above on every bprop case when it is
  imported; every error rate is checked to be decided by logits more than 1e-6 apart, so float64
  round-off cannot flip a label.

The CSV log of ``train`` is written to os.devnull here, which checks only that train accepts a
log path and returns the same history: the probe has no step yet that reads a file back.
"""

from __future__ import annotations

import copy
import dataclasses
import decimal
import os
from decimal import Decimal
from fractions import Fraction

import numpy as np

from autograder.cases import (Call, Case, Close, Equal, HiddenTest, New, NoWarnings, Observe, Satisfies, Scenario,
                              Set, one_number)
from autograder.reference import CONTEXT, derivative, exact
from autograder.relations import finite_differences, set_attributes_then

rng = np.random.default_rng(2031)
STABLE = NoWarnings()
PARAMS = ("W1", "b1", "W2", "b2")
REGS = ("l11", "l12", "l21", "l22")
HISTORY = ("epoch", "train_loss", "valid_loss", "test_loss", "train_error", "valid_error", "test_error")
MODERATE = decimal.Context(prec=50, Emin=-10**8, Emax=10**8)  # logits up to ~1e3: 50 digits are plenty
MODERATE_STEP = Decimal("1e-20")  # centered differences: truncation ~1e-40, round-off ~1e-30
KINK_MARGIN = Fraction(1, 10**9)  # a pre-activation is exactly 0 or farther than this from it
LABEL_MARGIN = 1e-6  # the top two logits of every example are farther apart than this
GRADIENT = {"rtol": 1e-7, "atol": 1e-10}  # float64 backprop against the decimal differences
VALUE = {"rtol": 1e-9, "atol": 1e-12}  # float64 forward values against decimals
TRAJECTORY = {"rtol": 1e-7, "atol": 1e-10}  # two float64 trainings by the same definition
NAMES = {"W1": "dL/dW1 (d_h, d)", "b1": "dL/db1 (d_h,)", "W2": "dL/dW2 (m, d_h)", "b2": "dL/db2 (m,)"}

# ------------------------------------------------------------------ the network in decimals, entry by entry


def _decimal(value):
    """Nested lists of exact Decimals from a float array's tolist() (or a number)."""
    return [_decimal(v) for v in value] if isinstance(value, list) else Decimal(float(value))


def _decimal_params(params):
    return {key: _decimal(np.asarray(params[key], dtype=np.float64).tolist()) for key in PARAMS}


def _hidden_layer(p, x, held=()):
    """(h_a, h_s) of one example x (list of Decimals); the units in ``held`` stay on relu's 0 branch."""
    h_a = [sum((w * v for w, v in zip(row, x)), b) for row, b in zip(p["W1"], p["b1"])]
    return h_a, [a if a > 0 and j not in held else Decimal(0) for j, a in enumerate(h_a)]


def _output_layer(p, h_s):
    return [sum((w * v for w, v in zip(row, h_s)), b) for row, b in zip(p["W2"], p["b2"])]


def _softmax_row(scores):
    """e^s_k / sum_j e^s_j, by the definition (decimals do not overflow)."""
    e = [s.exp() for s in scores]
    total = sum(e)
    return [v / total for v in e]


def _penalty(p, lam):
    """l11 sum|W1| + l12 sum W1^2 + l21 sum|W2| + l22 sum W2^2 (never the biases)."""
    W1, W2 = [w for row in p["W1"] for w in row], [w for row in p["W2"] for w in row]
    return (lam["l11"] * sum(abs(w) for w in W1) + lam["l12"] * sum(w * w for w in W1)
            + lam["l21"] * sum(abs(w) for w in W2) + lam["l22"] * sum(w * w for w in W2))


def _loss(p, X, y, lam, kinks=frozenset()):
    """The loss by its definition: mean of ln(sum_k e^o_a[i, k]) - o_a[i, y_i], plus the elastic net.

    p: decimal parameters; X: list of K lists of Decimals; y: K ints; lam: reg name -> Decimal;
    kinks: (example, unit) pairs held on relu's 0 branch (see _kinks).
    """
    data = Decimal(0)
    for i, (x, label) in enumerate(zip(X, y)):
        o_a = _output_layer(p, _hidden_layer(p, x, {j for k, j in kinks if k == i})[1])
        data += sum(t.exp() for t in o_a).ln() - o_a[label]
    return data / len(X) + _penalty(p, lam)


def _regs(regs):
    return {key: float((regs or {}).get(key, 0.0)) for key in REGS}


def _kinks(params, X):
    """The (example, unit) pairs whose pre-activation is exactly 0, in exact fractions.

    Raises when another pre-activation is within KINK_MARGIN of 0 (a difference step could cross
    the kink) or when float64 does not compute the same zeros (the inputs must be small dyadics).
    """
    kinks = set()
    for i, x in enumerate(X.tolist()):
        for j, (row, b) in enumerate(zip(params["W1"].tolist(), params["b1"].tolist())):
            a = sum((exact(w) * exact(v) for w, v in zip(row, x)), exact(b))
            if a == 0:
                kinks.add((i, j))
            elif abs(a) < KINK_MARGIN:
                raise ValueError("a pre-activation is too close to 0: choose other inputs")
    zeros = {(int(i), int(j)) for i, j in zip(*np.nonzero(X @ params["W1"].T + params["b1"] == 0))}
    if zeros != kinks:
        raise ValueError("float64 and exact arithmetic disagree on which pre-activations are 0")
    return frozenset(kinks)


def _replaced(p, key, index, t):
    """p with the entry ``index`` of parameter ``key`` replaced by t."""
    value = copy.deepcopy(p[key])
    inner = value
    for i in index[:-1]:
        inner = inner[i]
    inner[index[-1]] = t
    return {**p, key: value}


def _entry(nested, index):
    for i in index:
        nested = nested[i]
    return nested


def _differences(params, X, y, regs, step, kinks):
    """(L(p + step e_i) - L(p - step e_i)) / 2 step for every entry of every parameter, in decimals.

    params: name -> float64 array; X: (K, d); y: (K,) ints; regs: some of l11, l12, l21, l22;
    step: Decimal; kinks: as for _loss. Returns: name -> float64 array of the parameter's shape.
    """
    with decimal.localcontext(MODERATE):
        p, Xd = _decimal_params(params), _decimal(np.asarray(X, dtype=np.float64).tolist())
        lam = {key: Decimal(value) for key, value in _regs(regs).items()}
        labels = [int(v) for v in y]
        grads = {}
        for key in PARAMS:
            shape = np.shape(params[key])
            grads[key] = np.array([float(derivative(
                lambda t, index=index: _loss(_replaced(p, key, index, t), Xd, labels, lam, kinks), step)(
                _entry(p[key], index))) for index in np.ndindex(shape)]).reshape(shape)
    return grads


def gradient(params, X, y, regs=None):
    """Every entry of dL/dW1, dL/db1, dL/dW2, dL/db2 by centered differences of the decimal loss (h = 1e-20).

    At a weight exactly 0 the L1 term contributes (|h| - |-h|) / 2h = 0, the contract's sign(0) = 0;
    pre-activations exactly 0 are held on relu's 0 branch (relu'(0) = 0, the contract's convention).
    """
    return _differences(params, X, y, regs, MODERATE_STEP, _kinks(params, np.asarray(X, dtype=np.float64)))


def estimate(params, X, y, regs=None, eps=1e-5):
    """The course's estimate with step eps, the contract's finite_difference_gradients, in decimals."""
    return _differences(params, X, y, regs, Decimal(float(eps)), frozenset())


def forward(params, X):
    """fprop by the definitions, entry by entry: {"h_a", "h_s", "o_a", "o_s"} as float64 arrays."""
    with decimal.localcontext(MODERATE):
        p = _decimal_params(params)
        rows = {"h_a": [], "h_s": [], "o_a": [], "o_s": []}
        for x in _decimal(np.asarray(X, dtype=np.float64).tolist()):
            h_a, h_s = _hidden_layer(p, x)
            o_a = _output_layer(p, h_s)
            for key, row in zip(rows, (h_a, h_s, o_a, _softmax_row(o_a))):
                rows[key].append([float(v) for v in row])
    return {key: np.array(value, dtype=np.float64).reshape(len(rows["h_a"]), -1) for key, value in rows.items()}


def loss_value(params, X, y, regs=None):
    """The loss at float64 parameters, as a float."""
    with decimal.localcontext(MODERATE):
        lam = {key: Decimal(value) for key, value in _regs(regs).items()}
        return float(_loss(_decimal_params(params), _decimal(np.asarray(X, dtype=np.float64).tolist()),
                           [int(v) for v in y], lam))


def softmax_value(A):
    """softmax of every row of A (K, m) by its definition, in 400-digit decimals."""
    with decimal.localcontext(CONTEXT):
        return np.array([[float(v) for v in _softmax_row(_decimal(row))] for row in np.asarray(A, float).tolist()])


def relu_value(Z):
    return np.where(np.asarray(Z, dtype=np.float64) > 0, Z, 0.0)


def relu_prime_value(Z):
    """1 where Z > 0, else 0 (0 at 0: the contract's convention)."""
    return (np.asarray(Z, dtype=np.float64) > 0).astype(np.float64)


def onehot_value(y, m):
    return np.array([[1.0 if k == label else 0.0 for k in range(m)] for label in np.asarray(y).tolist()])


# ------------------------------------------------------------------ the closed form in float64, for train


def _forward64(p, X):
    """(h_a, h_s, o_a, log o_s) in float64, log o_s by a shifted log-sum-exp."""
    h_a = X @ p["W1"].T + p["b1"]
    h_s = np.maximum(h_a, 0.0)
    o_a = h_s @ p["W2"].T + p["b2"]
    shifted = o_a - o_a.max(axis=1, keepdims=True)
    return h_a, h_s, o_a, shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _loss64(p, X, y, lam):
    log_o_s = _forward64(p, X)[3]
    penalty = (lam["l11"] * np.abs(p["W1"]).sum() + lam["l12"] * (p["W1"] ** 2).sum()
               + lam["l21"] * np.abs(p["W2"]).sum() + lam["l22"] * (p["W2"] ** 2).sum())
    return float(-log_o_s[np.arange(len(y)), y].mean() + penalty)


def _backprop64(p, X, y, lam):
    """The gradient of the loss from the chain rule: dL/do_a = (o_s - onehot(y)) / K, then back."""
    h_a, h_s, _, log_o_s = _forward64(p, X)
    delta_o = (np.exp(log_o_s) - np.eye(p["b2"].size)[y]) / len(y)
    delta_h = (delta_o @ p["W2"]) * (h_a > 0)
    return {"W1": delta_h.T @ X + lam["l11"] * np.sign(p["W1"]) + 2 * lam["l12"] * p["W1"], "b1": delta_h.sum(axis=0),
            "W2": delta_o.T @ h_s + lam["l21"] * np.sign(p["W2"]) + 2 * lam["l22"] * p["W2"], "b2": delta_o.sum(axis=0)}


def _error64(p, X, y):
    """The misclassification rate of argmax o_a (= argmax o_s), with every decision clear of round-off."""
    o_a = _forward64(p, X)[2]
    top = np.sort(o_a, axis=1)
    if o_a.shape[1] > 1 and np.any(top[:, -1] - top[:, -2] < LABEL_MARGIN):
        raise ValueError("two logits are too close for a reliable argmax: choose other data")
    return float(np.mean(o_a.argmax(axis=1) != y))


def trained(params, regs, seed, data, lr, epochs, K, patience=None):
    """(history, best parameters) of the contract's train, run step by step in float64.

    data: (X, y, X_valid, y_valid, X_test, y_test), the test pair possibly (None, None).
    """
    lam = _regs(regs)
    X, y, X_valid, y_valid, X_test, y_test = data
    p = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    order_rng = np.random.default_rng(seed)
    history = {key: [] for key in HISTORY}
    best_epoch, best_error, best = 0, np.inf, None
    for epoch in range(1, epochs + 1):
        order = order_rng.permutation(len(y))
        for start in range(0, len(y), K):
            batch = order[start:start + K]
            grads = _backprop64(p, X[batch], y[batch], lam)
            p = {key: p[key] - lr * grads[key] for key in PARAMS}
        history["epoch"].append(epoch)
        for name, X_set, y_set in (("train", X, y), ("valid", X_valid, y_valid), ("test", X_test, y_test)):
            given = X_set is not None
            history[f"{name}_loss"].append(_loss64(p, X_set, y_set, lam) if given else np.nan)
            history[f"{name}_error"].append(_error64(p, X_set, y_set) if given else np.nan)
        if history["valid_error"][-1] < best_error:
            best_epoch, best_error, best = epoch, history["valid_error"][-1], copy.deepcopy(p)
        if patience is not None and epoch - best_epoch >= patience:
            break
    return ({**{key: np.array(value, dtype=np.float64) for key, value in history.items()}, "best_epoch": best_epoch},
            best)


# ------------------------------------------------------------------ inputs


def _problem(d, d_h, m, K, scale=1.0):
    """Random parameters (W1 (d_h, d), b1, W2 (m, d_h), b2; weights of size ~scale), X (K, d), y (K,)."""
    params = {"W1": rng.normal(0, scale, size=(d_h, d)), "b1": rng.normal(0, 0.5, size=d_h),
              "W2": rng.normal(0, scale, size=(m, d_h)), "b2": rng.normal(0, 0.5, size=m)}
    return ({key: value.round(4) for key, value in params.items()}, rng.normal(size=(K, d)).round(4),
            rng.integers(0, m, size=K))


def _with_zero_weights(problem, count=3):
    """The problem with ``count`` entries of W1 and of W2 set to exactly 0 (the L1 subgradient's kink)."""
    params, X, y = problem
    params = {key: value.copy() for key, value in params.items()}
    for key in ("W1", "W2"):
        params[key].flat[rng.choice(params[key].size, size=count, replace=False)] = 0.0
    return params, X, y


def _dyadic_problem(d, d_h, m, K):
    """Inputs and first-layer parameters of small dyadic numbers, so that some pre-activations are
    exactly 0 in float64 as in exact arithmetic; the second layer is generic."""
    while True:
        params = {"W1": rng.integers(-4, 5, size=(d_h, d)) / 4, "b1": rng.integers(-2, 3, size=d_h) / 2,
                  "W2": rng.normal(size=(m, d_h)).round(4), "b2": rng.normal(0, 0.5, size=m).round(4)}
        X = rng.integers(-2, 3, size=(K, d)).astype(np.float64)
        zeros = np.sum(X @ params["W1"].T + params["b1"] == 0)
        if 2 <= zeros <= K * d_h // 3:
            return params, X, rng.integers(0, m, size=K)


def _train_data(seed, n, n_valid, n_test, noise=0.8, flip_valid=0.0):
    """Blobs around three centres in the plane (one class each), with their own seed: (X, y, X_valid,
    y_valid, X_test, y_test), the test pair (None, None) when n_test = 0; validation labels flipped to
    the next class with probability flip_valid (so that the validation error rises again)."""
    draw = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.7]])

    def blobs(n, flip=0.0):
        y = draw.integers(0, 3, size=n)
        X = (centres[y] + noise * draw.normal(size=(n, 2))).round(4)
        return X, np.where(draw.random(n) < flip, (y + 1) % 3, y)

    return (*blobs(n), *blobs(n_valid, flip_valid), *(blobs(n_test) if n_test else (None, None)))


def _start(seed, d_h):
    """Starting parameters for train (d = 2, m = 3): weights as init draws them, small non-zero biases."""
    params = drawn(2, d_h, 3, seed)
    draw = np.random.default_rng(seed)
    params["b1"], params["b2"] = draw.normal(0, 0.1, size=d_h), draw.normal(0, 0.1, size=3)
    return {key: value.round(4) for key, value in params.items()}


def _large_logits(problem, top=690.0):
    """The problem with W2 and b2 scaled so that the largest logit is ``top``, and labels confidently
    wrong (the smallest logit's class) for every other example, right (the largest's) for the rest.

    Some labelled logit must be more than 745 below its example's largest: e^-745 underflows to 0,
    so log o_s is -inf there while a log-sum-exp stays exact. With top below 709, e^o_a stays
    finite and every row has a logit above -700, so a softmax without the max shift is still exact
    and silent: it is not charged in the loss (above 709 it overflows, on purpose).
    """
    params, X, _ = problem
    factor = top / _forward64(params, X)[2].max()
    params = {**params, "W2": params["W2"] * factor, "b2": params["b2"] * factor}
    o_a = _forward64(params, X)[2]
    y = np.where(np.arange(len(X)) % 2 == 0, o_a.argmin(axis=1), o_a.argmax(axis=1))
    silent = top > 709 or o_a.max(axis=1).min() > -700
    if factor <= 0 or not silent or not np.any(o_a.max(axis=1) - o_a[np.arange(len(y)), y] > 745):
        raise ValueError("logits not as intended: choose another problem")
    return params, X, y


# ------------------------------------------------------------------ expectations and steps


def _model(d, d_h, m, regs=None, params=None, seed=None):
    """Construct MLP(d, d_h, m, **regs[, seed]), then set W1, b1, W2, b2 if given."""
    kwargs = {**(regs or {}), **({} if seed is None else {"seed": seed})}
    steps = [New("MLP", (d, d_h, m), kwargs)]
    return steps + [Set(key, np.array(params[key], dtype=np.float64)) for key in PARAMS] if params else steps


def _model_for(problem, regs=None):
    params, X, _ = problem
    return _model(X.shape[1], params["b1"].size, params["b2"].size, regs, params)


def _kept(params):
    """Observing every parameter unchanged, bit for bit."""
    return tuple(Observe(key, expect=Equal(np.array(params[key], dtype=np.float64))) for key in PARAMS)


def _shape(problem):
    params, X, _ = problem
    return f"d = {X.shape[1]}, d_h = {params['b1'].size}, m = {params['b2'].size}, K = {len(X)}"


# ------------------------------------------------------------------ mlp_functions


def _function(name, args, expected, about, stable=False, **tolerance):
    expect = Close(expected, **tolerance)
    return Case(name, args, expect=expect & STABLE if stable else expect, about=about)


def _softmax_case(A, about, stable=False):
    return _function("softmax", (A,), softmax_value(A), about, stable, **VALUE, dtype_kind="f")


def _onehot_case(y, m, about):
    return _function("onehot", (y, m), onehot_value(y, m), about, rtol=0, atol=0, dtype_kind="f")


MIXED = np.array([[-2.5, 0.0, 1.5], [3.0, -0.25, 0.0]])
KINKS_1D = np.array([-1e-300, -0.0, 0.0, 1e-300, 5.0, -5.0])
WIDE = rng.normal(0, 3, size=(4, 5)).round(4)
EXTREME = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4 + 2, -1e4 + 1], [1e4, 1e4, 1e4 - 3], [0.0, 0.0, 0.0],
                    [-1e4, 0.0, 1e4]])  # K = 5, m = 3

# ------------------------------------------------------------------ init


def drawn(d, d_h, m, seed):
    """The contract's initialisation: default_rng(seed).uniform for W1 (fan-in d) first, then W2 (fan-in d_h)."""
    draw = np.random.default_rng(seed)
    W1 = draw.uniform(-1 / np.sqrt(d), 1 / np.sqrt(d), size=(d_h, d))
    W2 = draw.uniform(-1 / np.sqrt(d_h), 1 / np.sqrt(d_h), size=(m, d_h))
    return {"W1": W1, "b1": np.zeros(d_h), "W2": W2, "b2": np.zeros(m)}


def _within(shape, fan_in):
    bound = (1 + 1e-12) / np.sqrt(fan_in)

    def ok(value):
        value = np.asarray(value, dtype=np.float64)
        return value.shape == shape and bool(np.all(np.abs(value) <= bound))

    return Satisfies(ok, f"expected shape {shape} and entries in [-1/sqrt({fan_in}), 1/sqrt({fan_in})]")


def _init_case(d, d_h, m, about, seed=None, regs=None):
    expected = drawn(d, d_h, m, 0 if seed is None else seed)
    drawn_as = {key: Close(value, rtol=1e-12, atol=0, dtype_kind="f") for key, value in expected.items()}
    for key, fan_in in (("W1", d), ("W2", d_h)):
        drawn_as[key] = _within(expected[key].shape, fan_in) & drawn_as[key]
    return Scenario((*_model(d, d_h, m, regs, seed=seed), *[Observe(key, expect=drawn_as[key]) for key in PARAMS]),
                    about=about)


def _stored_case(d, d_h, m, regs, seed, about):
    """Every constructor argument stored under its own name."""
    stored = {"d": d, "d_h": d_h, "m": m, **_regs(regs), "seed": seed}
    return Scenario((*_model(d, d_h, m, regs, seed=seed),
                     *[Observe(key, expect=Close(float(value), rtol=0, atol=0)) for key, value in stored.items()]),
                    about=about)


# ------------------------------------------------------------------ fprop, loss, bprop, bprop_loop


def _fprop_case(problem, about):
    """fprop's four arrays; the logits stay moderate (softmax's stability is the functions' cells')."""
    params, X, _ = problem
    expect = Close(forward(params, X), **VALUE, dtype_kind="f")
    return Scenario((*_model_for(problem), Call("fprop", (X,), expect=expect)), about=about)


def _loss_case(problem, regs, about, stable=False):
    params, X, y = problem
    expect = one_number(loss_value(params, X, y, regs), "the loss")
    return Scenario((*_model_for(problem, regs), Call("loss", (X, y), expect=expect & STABLE if stable else expect)),
                    about=about)


_checked = []  # (params, X, y, regs, grads): every decimal gradient, for the check of _backprop64 below


def _gradient_expectation(problem, regs):
    params, X, y = problem
    grads = gradient(params, X, y, regs)
    _checked.append((params, X, y, regs, grads))
    return Close(grads, **GRADIENT, dtype_kind="f", names=NAMES)


def _bprop_case(problem, about, regs=None):
    """bprop on the grader's own cache (the decimal fprop), so that a wrong fprop is not charged here."""
    params, X, y = problem
    return Scenario((*_model_for(problem, regs),
                     Call("bprop", (X, y, forward(params, X)), expect=_gradient_expectation(problem, regs))),
                    about=about)


def _loop_case(problem, about, regs=None):
    params, X, y = problem
    return Scenario((*_model_for(problem, regs),
                     Call("bprop_loop", (X, y), expect=_gradient_expectation(problem, regs))), about=about)


# ------------------------------------------------------------------ finite_difference_gradients


def _fd_case(problem, about, prefix, regs=None, eps=None, anchored=False):
    """finite_difference_gradients, the parameters after it (bit for bit), and the centered
    differences of the student's own loss at the same points p +- eps e_i (one relation).

    anchored: the estimate must also be close to the decimal gradient (rtol 1e-6, atol 1e-9: a
    centered difference with eps = 1e-5 in float64 is good to ~1e-10 here, a one-sided one is off by
    ~eps |L''| / 2), so that a loss constant in the parameters, whose differences are 0 like a stub's
    estimate, cannot pass the relation alone. Anchored cases stay away from relu's kinks.
    """
    params, X, y = problem
    h = 1e-5 if eps is None else eps
    steps, relation = finite_differences(params, set_attributes_then("loss", (X, y)), grads=f"{prefix}estimate",
                                         about=f"{about}: not the centered differences of your loss", h=h,
                                         rtol=1e-6, atol=1e-10)
    steps = [dataclasses.replace(step, name=f"{prefix}{step.name}") if step.name else step for step in steps]
    relation = dataclasses.replace(relation, refs=(relation.refs[0], *(f"{prefix}{ref}" for ref in relation.refs[1:])))
    expect = None
    if anchored:
        if np.abs(X @ params["W1"].T + params["b1"]).min() < 1e3 * h * (1 + np.abs(X).max()):
            raise ValueError("a pre-activation is within reach of a difference step: choose other inputs")
        expect = Close(gradient(params, X, y, regs), rtol=1e-6, atol=1e-9, names=NAMES)
    kwargs = {} if eps is None else {"eps": eps}
    scenario = Scenario((*_model_for(problem, regs), Call("finite_difference_gradients", (X, y), kwargs,
                                                          expect=expect, name=f"{prefix}estimate"),
                         *_kept(params), *steps), about=about)
    return scenario, relation


def _fd_test(cases):
    """A HiddenTest of _fd_case scenarios, each with its own relation."""
    built = [_fd_case(*args, prefix=f"case {i}: ", **kwargs) for i, (args, kwargs) in enumerate(cases)]
    return HiddenTest([scenario for scenario, _ in built], relations=tuple(relation for _, relation in built))


# ------------------------------------------------------------------ train


def _history_expectation(history):
    def goes_down(value):
        return float(np.ravel(value["train_loss"])[-1]) < float(np.ravel(value["train_loss"])[0])

    if not history["train_loss"][-1] < history["train_loss"][0]:
        raise ValueError("a train case whose loss does not go down: choose another")
    return Satisfies(goes_down, "history['train_loss'] does not go down over the epochs") & Close(history, **TRAJECTORY)


def _train_case(params, data, about, lr, epochs, K, patience=None, regs=None, seed=0, log_path=None):
    """train from set parameters; the history and the parameters it leaves (those of the best epoch)."""
    history, best = trained(params, regs, seed, data, lr, epochs, K, patience)
    X, y, X_valid, y_valid, X_test, y_test = data
    kwargs = {"patience": patience, **({} if X_test is None else {"X_test": X_test, "y_test": y_test}),
              **({} if log_path is None else {"log_path": log_path})}
    return Scenario((*_model(X.shape[1], params["b1"].size, params["b2"].size, regs, params, seed),
                     Call("train", (X, y, X_valid, y_valid, lr, epochs, K), kwargs,
                          expect=_history_expectation(history)),
                     *[Observe(key, expect=Close(best[key], **TRAJECTORY)) for key in PARAMS]), about=about)


# ------------------------------------------------------------------ the instances

BASIC_FPROP = _problem(3, 4, 2, 5)
ONE_EXAMPLE = _problem(2, 5, 3, 1)
FPROP_WIDE = _problem(4, 3, 5, 7, scale=3.0)
BASIC_LOSS = _problem(3, 4, 2, 6)
REGULARISED = _problem(3, 5, 4, 6)
SPARSE = _with_zero_weights(_problem(2, 4, 3, 6))
FAR_APART = _large_logits(_problem(2, 3, 4, 5))
HUGE = _large_logits(_problem(3, 2, 4, 4), top=1000.0)  # e^1000 overflows: each row needs its own max shift
_alike = _problem(3, 4, 3, 4)
# W1 = 0: every example has the same scores, with one far above the others (the visible check's kind)
BASIC_FAR = _large_logits(({**_alike[0], "W1": np.zeros((4, 3))}, *_alike[1:]), top=1000.0)
BASIC_BPROP = _with_zero_weights(_problem(3, 5, 2, 4), count=2)
PLAIN = _problem(3, 5, 4, 6)
L1_SPARSE = _with_zero_weights(_problem(4, 3, 2, 5))
KINKED = _dyadic_problem(3, 4, 2, 6)
SINGLE = _problem(2, 3, 4, 1)
BASIC_LOOP = _problem(3, 5, 2, 4)
BASIC_LOOP_ONE = _problem(4, 2, 3, 1)
LOOP_KINKED = _dyadic_problem(2, 4, 3, 5)
LOOP_SPARSE = _with_zero_weights(_problem(3, 4, 2, 7))
BASIC_FD = _problem(3, 2, 4, 3)
FD_REGULARISED = _problem(2, 3, 4, 4)
FD_ONE = _problem(3, 2, 4, 1)
ELASTIC = {"l11": 0.01, "l12": 0.03, "l21": 0.02, "l22": 0.05}

TESTS = {
    # ---------------------------------------------------------------- relu, relu_prime, softmax, onehot
    "test_mlp_functions_basic": HiddenTest([
        _function("relu", (MIXED,), relu_value(MIXED), "a 2x3 array of both signs and zeros", rtol=0, atol=0),
        _function("relu_prime", (MIXED,), relu_prime_value(MIXED), "a 2x3 array of both signs and zeros",
                  rtol=0, atol=0),
        _softmax_case(WIDE, "4 rows of 5 moderate scores"),
        _softmax_case(np.array([[-1e4, 1e4, 5.0], [1e4 - 1, 1e4, 1e4 + 1]]), "scores of +-1e4 (no RuntimeWarning)",
                      stable=True),
        _onehot_case(np.array([2, 0, 1, 2, 1]), 3, "5 labels, m = 3"),
    ]),
    "test_mlp_functions_hidden": HiddenTest([
        _function("relu", (KINKS_1D,), relu_value(KINKS_1D), "around 0, and +-5", rtol=0, atol=0),
        _function("relu", (WIDE.T,), relu_value(WIDE.T), "a 5x4 array", rtol=0, atol=0),
        _function("relu_prime", (KINKS_1D,), relu_prime_value(KINKS_1D), "around 0: relu'(0) must be 0",
                  rtol=0, atol=0),
        _function("relu_prime", (WIDE,), relu_prime_value(WIDE), "a 4x5 array", rtol=0, atol=0),
        _softmax_case(EXTREME, "scores of +-1e4, rows far from 0 (no RuntimeWarning)", stable=True),
        _softmax_case(np.array([[0.5, -1.0, 2.0, 0.0]]), "one row"),
        _softmax_case(np.array([[3.0], [-1.0], [0.5]]), "one class: every probability is 1"),
        _softmax_case(WIDE.T * 10, "5 rows of 4 scores up to about 100"),
        _onehot_case(np.array([1, 0, 2, 1]), 6, "labels 0..2 with m = 6: the last columns stay 0"),
        _onehot_case(np.array([3]), 4, "one label"),
    ]),
    # ---------------------------------------------------------------- init
    "test_mlp_init_basic": HiddenTest([
        _init_case(3, 5, 4, "d = 3, d_h = 5, m = 4, the default seed"),
        _stored_case(3, 4, 2, {"l11": 0.5, "l12": 0.25, "l21": 0.75, "l22": 1.5}, 3,
                     "every constructor argument stored under its own name"),
    ]),
    "test_mlp_init_hidden": HiddenTest([
        _init_case(4, 2, 3, "d = 4, d_h = 2, m = 3, seed = 7", seed=7),
        _init_case(2, 6, 3, "d = 2, d_h = 6, m = 3, seed = 1, elastic net", seed=1, regs=ELASTIC),
        _init_case(2, 6, 3, "the same sizes, seed = 2", seed=2),
        _init_case(50, 40, 10, "d = 50, d_h = 40, m = 10, seed = 5", seed=5),
        _stored_case(2, 6, 3, ELASTIC, 11, "every constructor argument stored under its own name"),
    ]),
    # ---------------------------------------------------------------- fprop
    "test_mlp_fprop_basic": HiddenTest([
        _fprop_case(BASIC_FPROP, _shape(BASIC_FPROP)),
    ]),
    "test_mlp_fprop_hidden": HiddenTest([
        _fprop_case(ONE_EXAMPLE, f"one example, {_shape(ONE_EXAMPLE)}"),
        _fprop_case(FPROP_WIDE, f"weights of size ~3, {_shape(FPROP_WIDE)}"),
        _fprop_case(KINKED, f"pre-activations exactly 0, {_shape(KINKED)}"),
    ]),
    # ---------------------------------------------------------------- loss
    "test_mlp_loss_basic": HiddenTest([
        _loss_case(BASIC_LOSS, None, f"no regularisation, {_shape(BASIC_LOSS)}"),
        _loss_case(BASIC_LOSS, ELASTIC, "all four elastic-net terms"),
        _loss_case(BASIC_FAR, None, "the same logits for every example, up to 1000 (no RuntimeWarning)",
                   stable=True),
    ]),
    "test_mlp_loss_hidden": HiddenTest([
        *[_loss_case(REGULARISED, {key: 0.05}, f"{key} = 0.05 only, non-zero biases, {_shape(REGULARISED)}")
          for key in REGS],
        _loss_case(SPARSE, ELASTIC, f"all four terms, some weights exactly 0, {_shape(SPARSE)}"),
        _loss_case(FAR_APART, None, "logits hundreds apart: o_s[y] underflows to 0, the loss stays finite",
                   stable=True),
        # warnings allowed: a softmax without its max shift that fprop calls may overflow here, the loss need not
        _loss_case(HUGE, None, "logits up to 1000, rows far apart: each row's log-sum-exp must not overflow"),
        _loss_case(ONE_EXAMPLE, {"l11": 0.2, "l22": 0.1}, "one example, l11 and l22"),
    ]),
    # ---------------------------------------------------------------- bprop
    "test_mlp_bprop_basic": HiddenTest([
        _bprop_case(BASIC_BPROP, f"no regularisation, {_shape(BASIC_BPROP)}"),
        _bprop_case(BASIC_BPROP, "all four elastic-net terms", ELASTIC),
    ]),
    "test_mlp_bprop_hidden": HiddenTest([
        _bprop_case(PLAIN, f"no regularisation, {_shape(PLAIN)}"),
        _bprop_case(L1_SPARSE, f"l11 and l21, weights exactly 0 (subgradient 0), {_shape(L1_SPARSE)}",
                    {"l11": 0.01, "l21": 0.02}),
        _bprop_case(L1_SPARSE, "l12 and l22 (the squares' factor 2), non-zero biases", {"l12": 0.03, "l22": 0.05}),
        _bprop_case(SPARSE, f"all four terms, {_shape(SPARSE)}", ELASTIC),
        _bprop_case(KINKED, f"pre-activations exactly 0 (relu'(0) = 0), {_shape(KINKED)}"),
        _bprop_case(SINGLE, f"one example, {_shape(SINGLE)}", {"l22": 0.1}),
    ]),
    # ---------------------------------------------------------------- bprop_loop
    "test_mlp_bprop_loop_basic": HiddenTest([
        _loop_case(BASIC_LOOP, f"all four elastic-net terms, {_shape(BASIC_LOOP)}", ELASTIC),
        _loop_case(BASIC_LOOP_ONE, f"one example, all four terms, {_shape(BASIC_LOOP_ONE)}", ELASTIC),
    ]),
    "test_mlp_bprop_loop_hidden": HiddenTest([
        _loop_case(LOOP_SPARSE, f"all four terms, weights exactly 0, {_shape(LOOP_SPARSE)}", ELASTIC),
        _loop_case(LOOP_KINKED, f"pre-activations exactly 0 (relu'(0) = 0), {_shape(LOOP_KINKED)}"),
        _loop_case(SINGLE, f"one example, {_shape(SINGLE)}", {"l11": 0.05}),
    ]),
    # ---------------------------------------------------------------- finite_difference_gradients
    "test_mlp_finite_difference_basic": _fd_test([
        ((BASIC_FD, f"l12 and l22, the default eps, {_shape(BASIC_FD)}"),
         {"regs": {"l12": 0.02, "l22": 0.04}, "anchored": True}),
    ]),
    "test_mlp_finite_difference_hidden": _fd_test([
        ((FD_REGULARISED, f"all four terms, {_shape(FD_REGULARISED)}"), {"regs": ELASTIC}),
        ((FD_REGULARISED, "eps = 1e-2"), {"regs": {"l12": 0.1}, "eps": 1e-2}),
        ((FD_ONE, f"one example, {_shape(FD_ONE)}"), {"anchored": True}),
    ]),
    # ---------------------------------------------------------------- train
    "test_mlp_train_basic": HiddenTest([
        _train_case(_start(1, 3), _train_data(1, 8, 6, 0), "8 examples, K = 4, 3 epochs, no test set",
                    lr=0.5, epochs=3, K=4),
        _train_case(_start(42, 4), _train_data(42, 12, 8, 0, flip_valid=0.3), "patience = 2: stops early",
                    lr=0.5, epochs=10, K=4, patience=2),
    ]),
    "test_mlp_train_hidden": HiddenTest([
        _train_case(_start(2, 4), _train_data(2, 10, 6, 5), "10 examples, K = 4 (a last batch of 2), a test set, "
                    "l12 = 1e-3, 4 epochs", lr=0.5, epochs=4, K=4, regs={"l12": 1e-3}),
        _train_case(_start(42, 4), _train_data(42, 12, 8, 0, flip_valid=0.3), "patience = 3: stops early",
                    lr=0.5, epochs=15, K=4, patience=3),
        _train_case(_start(42, 4), _train_data(42, 12, 8, 0, flip_valid=0.3),
                    "no patience, 8 epochs, validation errors that tie", lr=0.5, epochs=8, K=4),
        _train_case(_start(3, 3), _train_data(3, 9, 5, 4), "K = 16 > n = 9: one batch per epoch", lr=1.0,
                    epochs=3, K=16, seed=5),
        _train_case(_start(2, 4), _train_data(2, 10, 6, 5), "with a log_path: the same history", lr=0.5, epochs=2,
                    K=4, log_path=os.devnull),
    ]),
}

# every decimal gradient above agrees with the closed form train's reference uses
for _params, _X, _y, _regs_used, _grads in _checked:
    _closed = _backprop64(_params, _X, _y, _regs(_regs_used))
    if not all(np.allclose(_closed[key], _grads[key], rtol=1e-9, atol=1e-12) for key in PARAMS):
        raise ValueError("_backprop64 disagrees with the decimal centered differences")


class ReferenceMLP:
    """The notebook's class with every method computed by this module's references: the stand-in
    that tests/test_visible_checks.py runs the visible checks with."""

    def __init__(self, d, d_h, m, l11=0.0, l12=0.0, l21=0.0, l22=0.0, seed=0):
        self.d, self.d_h, self.m, self.seed = d, d_h, m, seed
        self.l11, self.l12, self.l21, self.l22 = l11, l12, l21, l22
        for key, value in drawn(d, d_h, m, seed).items():
            setattr(self, key, value)

    def _params(self):
        return {key: np.asarray(getattr(self, key), dtype=np.float64) for key in PARAMS}

    def _regs(self):
        return {key: getattr(self, key) for key in REGS}

    def fprop(self, X):
        return forward(self._params(), X)

    def loss(self, X, y):
        return loss_value(self._params(), X, y, self._regs())

    def bprop(self, X, y, cache):
        return gradient(self._params(), X, y, self._regs())

    def bprop_loop(self, X, y):
        return gradient(self._params(), X, y, self._regs())

    def finite_difference_gradients(self, X, y, eps=1e-5):
        return estimate(self._params(), X, y, self._regs(), eps)

    def train(self, X, y, X_valid, y_valid, lr, epochs, K, patience=None, log_path=None, X_test=None, y_test=None):
        data = (X, y, X_valid, y_valid, X_test, y_test)
        history, best = trained(self._params(), self._regs(), self.seed, data, lr, epochs, K, patience)
        for key in PARAMS:
            setattr(self, key, best[key])
        if log_path is not None:
            np.savetxt(log_path, np.column_stack([history[key] for key in HISTORY]), delimiter=",",
                       header=",".join(HISTORY), comments="")
        return history


#: The reference each graded name's hidden expectations are computed with (tests/test_visible_checks.py).
REFERENCES = {"relu": relu_value, "relu_prime": relu_prime_value, "softmax": softmax_value, "onehot": onehot_value,
              "MLP": ReferenceMLP}

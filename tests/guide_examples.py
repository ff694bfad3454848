"""The hidden tests of docs/writing-hidden-tests.md, verbatim (tests/test_probe.py checks both).

Two exercises of the kind assignments 03-06 grade: a class with state (GradientDescent)
and a network whose backward pass returns a dict of gradients (MLP). The guide quotes the
code between the ``# --- guide:`` markers; keep the two in step.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from autograder.cases import Call, Close, HiddenTest, New, Observe, Result, Scenario, Set
from autograder.relations import finite_differences, set_attributes_then

# --- guide: gradient descent
# GradientDescent(n_features, alpha): one sigmoid unit with weights w (n_features,) and bias b;
# update(grad_w, grad_b) takes one step: w -= alpha * grad_w, b -= alpha * grad_b.


def _stepped(start, grads, alpha):
    """The closed form start - alpha * (g_1 + ... + g_t), in exact fractions."""
    total = [sum(Fraction(float(g[i])) for g in grads) for i in range(len(start))]
    return np.array([float(Fraction(float(s)) - Fraction(alpha) * t) for s, t in zip(start, total)])


def _gd_scenario(alpha, w0, b0, steps, about):
    """Set w and b, call update once per (grad_w, grad_b) in steps, then observe w and b."""
    return Scenario((
        New("GradientDescent", (len(w0),), {"alpha": alpha}),
        Set("w", np.array(w0)), Set("b", b0),
        *[Call("update", (np.array(gw), gb)) for gw, gb in steps],
        Observe("w", expect=Close(_stepped(w0, [gw for gw, _ in steps], alpha), dtype_kind="f")),
        Observe("b", expect=Close(_stepped([b0], [[gb] for _, gb in steps], alpha)[0])),
    ), about=about)


GD_TESTS = {
    "test_gradient_descent_update": HiddenTest([
        _gd_scenario(0.1, [0.5, -1.0, 2.0], 0.25, [([0.2, 0.4, -0.6], -0.5)], "one update, alpha = 0.1"),
        _gd_scenario(0.5, [1.0, 1.0], -2.0, [([1.0, -2.0], 0.5), ([0.25, 0.5], 1.5)], "two updates, alpha = 0.5"),
        _gd_scenario(0.3, [0.0] * 4, 0.0, [([0.0] * 4, 0.0)], "a zero gradient: nothing moves"),
    ]),
}
# --- end

# --- guide: MLP backprop
# MLP(n_in, n_hidden, n_out): attributes W1 (n_in, n_hidden), b1 (n_hidden,), W2 (n_hidden, n_out),
# b2 (n_out,); fprop(X) -> cache; loss(X, Y) = sum((sigmoid(X W1 + b1) W2 + b2 - Y)^2) / (2 n);
# bprop(X, Y, cache) -> {"W1": dL/dW1, "b1": ..., "W2": ..., "b2": ...}, each shaped like its parameter.
rng = np.random.default_rng(306)
PARAMS = {"W1": rng.normal(size=(2, 3)), "b1": rng.normal(size=3),
          "W2": rng.normal(size=(3, 2)), "b2": rng.normal(size=2)}
X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))


def _loss(p, X, Y):
    """The loss written out entry by entry with math.exp: a route independent of any vectorised code."""
    total = 0.0
    for x, y in zip(X.tolist(), Y.tolist()):
        hidden = [1 / (1 + math.exp(-(sum(x[i] * p["W1"][i][j] for i in range(len(x))) + p["b1"][j])))
                  for j in range(len(p["b1"]))]
        for k in range(len(y)):
            out = sum(hidden[j] * p["W2"][j][k] for j in range(len(hidden))) + p["b2"][k]
            total += (out - y[k]) ** 2
    return total / (2 * len(X))


fd_steps, agrees = finite_differences(PARAMS, set_attributes_then("loss", (X, Y)), grads="grads",
                                      about="bprop agrees with finite differences of your loss")
MLP_TESTS = {
    "test_mlp_bprop": HiddenTest([
        Scenario((
            New("MLP", (2, 3, 2)),
            *[Set(key, value) for key, value in PARAMS.items()],
            Call("loss", (X, Y), expect=Close(_loss({k: v.tolist() for k, v in PARAMS.items()}, X, Y))),
            Call("fprop", (X,), name="cache"),
            Call("bprop", (X, Y, Result("cache")), name="grads"),
            *fd_steps,
        ), about="2 inputs, 3 hidden units, 2 outputs, 4 examples"),
    ], relations=(agrees,)),
}
# --- end

"""Plausible wrong answers to assignment 05, each of which must lose points.

The test suite grades the solution with each bug applied, end to end through nbgrader, and
checks that every test cell in ``loses`` scores 0 while the rest keep full marks. A bug that
only the hidden tests catch has only ``test_*_hidden`` in ``loses``: the proof that the hidden
tests earn their points.

Every method lives in the one answer cell ``MLP``, and the methods call each other: ``loss`` calls
``fprop`` (which calls ``softmax``), ``bprop`` and ``bprop_loop`` call ``add_elastic_net_gradient``,
``finite_difference_gradients`` differences ``loss``, and ``train`` steps with ``bprop`` and records
``loss``. A bug in one of them loses the cells of the others whose cases it reaches, and lists them.
The hidden tests keep those charges few: bprop is called on the grader's own cache (a wrong fprop is
not charged there), finite differences are compared with the centered differences of the student's
own loss (and with the true gradient only in the basic case, as the visible check does, and on one
unregularised example), and the loss's hidden extreme logits stay where a softmax without its max
shift is still silent or its warnings are allowed.
"""

from autograder.submissions import Bug

FUNCTIONS, CELL = "mlp_functions", "MLP"


def _both(*names):
    return tuple(f"test_mlp_{name}_{kind}" for name in names for kind in ("basic", "hidden"))


def _hidden(*names):
    return tuple(f"test_mlp_{name}_hidden" for name in names)


_LOSSES = "                loss_plus = self.loss(X, y)\n"  # the differences' two evaluations
_MINUS_LOSS = "                loss_minus = self.loss(X, y)\n"
_MINUS = "                theta[i] = old - eps\n" + _MINUS_LOSS

BUGS = [
    # ---------------------------------------------------------------- relu_prime, softmax, onehot
    Bug("relu_prime_one_at_zero", FUNCTIONS,
        "out = (Z > 0).astype(np.float64)", "out = (Z >= 0).astype(np.float64)",
        _both("functions") + _hidden("bprop", "bprop_loop"),
        "relu'(0) = 1 instead of the course's 0: every unit whose pre-activation is exactly 0 passes its gradient"),
    Bug("softmax_no_max_shift", FUNCTIONS,
        "E = np.exp(A - A.max(axis=-1, keepdims=True))", "E = np.exp(A)",
        _both("functions") + ("test_mlp_loss_basic",),
        "exp of the raw scores: e^1000 overflows to inf and inf / inf = nan (loss calls fprop, which calls softmax)"),
    Bug("softmax_over_examples", FUNCTIONS,
        "E = np.exp(A - A.max(axis=-1, keepdims=True))  # the largest score of each row becomes 0: no overflow\n"
        "    out = E / E.sum(axis=-1, keepdims=True)",
        "E = np.exp(A - A.max(axis=0, keepdims=True))\n    out = E / E.sum(axis=0, keepdims=True)",
        _both("functions", "fprop", "train") + ("test_mlp_bprop_basic",),
        "normalises each column (over the examples) instead of each row (over the classes)"),
    Bug("init_W1_fan_in_of_the_hidden_layer", CELL,
        "self.W1 = rng.uniform(-1 / np.sqrt(d), 1 / np.sqrt(d), size=(d_h, d))",
        "self.W1 = rng.uniform(-1 / np.sqrt(d_h), 1 / np.sqrt(d_h), size=(d_h, d))",
        _both("init"), "scales W1 by its fan-out d_h instead of its fan-in d"),
    Bug("init_random_biases", CELL,
        "self.W2 = rng.uniform(-1 / np.sqrt(d_h), 1 / np.sqrt(d_h), size=(m, d_h))\n",
        "self.W2 = rng.uniform(-1 / np.sqrt(d_h), 1 / np.sqrt(d_h), size=(m, d_h))\n"
        "        self.b1 = rng.uniform(-1 / np.sqrt(d), 1 / np.sqrt(d), size=d_h)\n",
        _both("init"), "draws b1 at random like the weights; the biases must start at 0"),
    # ---------------------------------------------------------------- fprop and loss
    Bug("fprop_forgets_b2", CELL,
        "o_a = h_s @ self.W2.T + self.b2", "o_a = h_s @ self.W2.T",
        _both("fprop", "loss", "train", "finite_difference") + ("test_mlp_bprop_basic",),
        "leaves the output bias out of o_a"),
    Bug("loss_sums_over_the_batch", CELL,
        "cross_entropy = np.mean(log_sum_exp - o_a[np.arange(len(y)), y])",
        "cross_entropy = np.sum(log_sum_exp - o_a[np.arange(len(y)), y])",
        _both("loss", "train") + ("test_mlp_finite_difference_basic",),
        "the sum of the cross-entropies, not their mean: bprop's gradient is that of the mean"),
    Bug("loss_log_of_softmax", CELL,
        "cross_entropy = np.mean(log_sum_exp - o_a[np.arange(len(y)), y])",
        "o_s = np.exp(o_a - top) / np.sum(np.exp(o_a - top), axis=1, keepdims=True)\n"
        "        cross_entropy = np.mean(-np.log(o_s[np.arange(len(y)), y]))",
        _both("loss"), "-log o_s[y] as written: o_s[y] underflows to 0 when its logit is 745 below the largest"),
    Bug("loss_shifts_by_the_batch_maximum", CELL,
        "top = o_a.max(axis=1, keepdims=True)", "top = np.full((len(o_a), 1), o_a.max())",
        _hidden("loss"),
        "shifts by the largest score of the whole batch: a row far below it underflows to log 0 = -inf"),
    Bug("elastic_net_regularises_biases", CELL,
        "            grads[\"W1\"] = grads[\"W1\"] + self.l11 * np.sign(self.W1) + 2 * self.l12 * self.W1\n",
        "            grads[\"W1\"] = grads[\"W1\"] + self.l11 * np.sign(self.W1) + 2 * self.l12 * self.W1\n"
        "            grads[\"b1\"] = grads[\"b1\"] + self.l11 * np.sign(self.b1) + 2 * self.l12 * self.b1\n",
        _both("bprop", "bprop_loop") + _hidden("train"),
        "adds the first layer's penalty gradient to b1 too: the biases are never regularised"),
    Bug("l2_gradient_without_factor_two", CELL,
        "2 * self.l12 * self.W1", "self.l12 * self.W1",
        _both("bprop", "bprop_loop") + _hidden("train"), "the derivative of l12 w^2 taken as l12 w"),
    Bug("l1_gradient_w_not_sign", CELL,
        "self.l21 * np.sign(self.W2)", "self.l21 * self.W2",
        _both("bprop", "bprop_loop"), "the gradient of l21 |w| taken as l21 w instead of l21 sign(w)"),
    Bug("l1_subgradient_one_at_zero", CELL,
        "self.l11 * np.sign(self.W1)", "self.l11 * np.where(self.W1 >= 0, 1.0, -1.0)",
        _both("bprop", "bprop_loop"), "sign(0) = +1: a weight exactly 0 is pushed by l11 instead of left alone"),
    # ---------------------------------------------------------------- bprop
    Bug("bprop_without_onehot", CELL,
        "delta_o = (cache[\"o_s\"] - onehot(y, self.m)) / K", "delta_o = cache[\"o_s\"] / K",
        _both("bprop", "train"), "dL/do_a = o_s, forgetting to subtract onehot(y)"),
    Bug("bprop_W1_transposed", CELL,
        "\"W1\": delta_h.T @ X", "\"W1\": X.T @ delta_h",
        _both("bprop", "train"), "X.T @ delta_h: W1's gradient of shape (d, d_h), the transpose of W1's"),
    Bug("bprop_b2_not_summed", CELL,
        "\"b2\": delta_o.sum(axis=0)", "\"b2\": delta_o",
        _both("bprop", "train"), "returns b2's gradient per example (K, m) instead of summing over the batch"),
    Bug("bprop_b1_not_averaged", CELL,
        "\"b1\": delta_h.sum(axis=0)", "\"b1\": K * delta_h.sum(axis=0)",
        _both("bprop", "train"),
        "b1's gradient summed over the examples where the loss averages them (K times too large)"),
    Bug("bprop_relu_prime_one_at_zero", CELL,
        "delta_h = (delta_o @ self.W2) * relu_prime(cache[\"h_a\"])",
        "delta_h = (delta_o @ self.W2) * (cache[\"h_a\"] >= 0)",
        _hidden("bprop"), "bprop's own relu' as h_a >= 0: 1 at 0 instead of the course's 0"),
    # ---------------------------------------------------------------- bprop_loop
    Bug("loop_not_divided_by_K", CELL,
        "        for name in grads:\n            grads[name] /= len(X)\n", "",
        _both("bprop_loop"), "accumulates the examples' gradients but never divides by K: the sum, not the mean"),
    Bug("loop_relu_prime_one_at_zero", CELL,
        "delta_h = (self.W2.T @ delta_o) * relu_prime(h_a)", "delta_h = (self.W2.T @ delta_o) * (h_a >= 0)",
        _hidden("bprop_loop"), "the loop's own relu' as h_a >= 0: 1 at 0 instead of the course's 0"),
    # ---------------------------------------------------------------- finite_difference_gradients
    Bug("fd_forgets_to_restore", CELL,
        "                theta[i] = old\n", "",
        _both("finite_difference"), "leaves every entry at theta - eps, and the next entries are differenced there"),
    Bug("fd_restores_by_arithmetic", CELL,
        "theta[i] = old + eps\n" + _LOSSES + "                theta[i] = old - eps\n" + _MINUS_LOSS
        + "                theta[i] = old\n",
        "theta[i] += eps\n" + _LOSSES + "                theta[i] -= 2 * eps\n" + _MINUS_LOSS
        + "                theta[i] += eps\n",
        _both("finite_difference"),
        "steps back by arithmetic, theta + eps - 2 eps + eps: not the same float, the parameters drift"),
    Bug("fd_one_sided", CELL,
        _MINUS + "                theta[i] = old\n"
        "                grads[name][i] = (loss_plus - loss_minus) / (2 * eps)",
        "                theta[i] = old\n                grads[name][i] = (loss_plus - self.loss(X, y)) / eps",
        _both("finite_difference"), "a forward difference (L(theta + eps) - L(theta)) / eps: off by eps L'' / 2"),
    Bug("fd_wrong_sign", CELL,
        "(loss_plus - loss_minus) / (2 * eps)", "(loss_minus - loss_plus) / (2 * eps)",
        _both("finite_difference"), "L(theta - eps) - L(theta + eps): the estimate of minus the gradient"),
    Bug("fd_ignores_eps", CELL,
        "                theta[i] = old + eps\n", "                eps = 1e-5\n                theta[i] = old + eps\n",
        _hidden("finite_difference"), "a step of 1e-5 whatever eps the caller asks for"),
    # ---------------------------------------------------------------- train
    Bug("train_no_reshuffle", CELL,
        "        for epoch in range(1, epochs + 1):\n            order = rng.permutation(n)\n",
        "        order = rng.permutation(n)\n        for epoch in range(1, epochs + 1):\n",
        _both("train"), "shuffles once before the first epoch: every epoch visits the examples in the same order"),
    Bug("train_drops_the_last_batch", CELL,
        "for start in range(0, n, K):", "for start in range(0, n - K + 1, K):",
        _hidden("train"), "skips the last, partial minibatch when K does not divide n"),
    Bug("train_keeps_views_of_the_best", CELL,
        "best = {name: theta.copy() for name, theta in self.parameters().items()}", "best = self.parameters()",
        _both("train"),
        "keeps the live arrays as the best epoch's: the in-place steps move them too, so nothing is restored"),
    Bug("train_ties_go_to_the_later_epoch", CELL,
        "row[\"valid_error\"] < best_error", "row[\"valid_error\"] <= best_error",
        _both("train"), "a later epoch with an equal validation error becomes the best (and resets the patience)"),
    Bug("train_patience_one_epoch_late", CELL,
        "epoch - best_epoch >= patience", "epoch - best_epoch > patience",
        _both("train"), "stops patience + 1 epochs after the best instead of patience"),
]

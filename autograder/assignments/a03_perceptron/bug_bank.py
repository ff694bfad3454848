"""Plausible wrong answers to assignment 03, each of which must lose points.

The test suite grades the solution with each bug applied, end to end through nbgrader, and
checks that every test cell in ``loses`` scores 0 while the rest keep full marks. A bug that
only the hidden tests catch has only ``test_*_hidden`` in ``loses``: the proof that the hidden
tests earn their points.

Every method lives in the one answer cell ``GradientDescent``, and ``optimise`` calls the
others: a bug in ``grad_cost`` or ``update`` that changes the steps also changes what
``optimise`` records, so it loses the optimise cells too, and lists them. A bug that the cases of
``optimise`` do not reach (saturated logits, the tie at 0.5, the MSE gradient when the
optimise case is CE) loses its own cells only.
"""

from autograder.submissions import Bug

CELL = "GradientDescent"
_STEP = "            self.update(grad_w, grad_b)\n"  # the step in optimise's loop
_EPOCH = """            self.update(grad_w, grad_b)
            history["speed"][t] = self.alpha * np.sqrt(np.sum(grad_w ** 2) + grad_b ** 2)
            history["cost_train"][t] = self.cost_funct(x_train, y_train)
            history["cost_test"][t] = self.cost_funct(x_test, y_test)
            history["error_train"][t] = np.mean(self.predict(x_train) != y_train)
            history["error_test"][t] = np.mean(self.predict(x_test) != y_test)
"""  # the body of optimise's loop


def _both(name):
    return (f"test_{name}_basic", f"test_{name}_hidden")


def _hidden(name):
    return (f"test_{name}_hidden",)


BUGS = [
    # ---------------------------------------------------------------- normalise_data
    Bug("normalise_test_with_its_own_statistics", CELL,
        "x_test_n = (np.asarray(x_test, dtype=np.float64) - mean) / std",
        "x_test = np.asarray(x_test, dtype=np.float64)\n"
        "        own_std = x_test.std(axis=0)\n"
        "        x_test_n = (x_test - x_test.mean(axis=0)) / np.where(own_std > 0, own_std, 1.0)",
        _both("normalise_data"), "standardises the test set with its own mean and std, not the training set's"),
    Bug("normalise_divides_by_zero", CELL,
        "        std = np.where(std > 0, std, 1.0)  # a constant pixel: x - mean is already 0 on the training set\n",
        "",
        _both("normalise_data"), "divides by a zero std: nan (and a RuntimeWarning) for every constant pixel"),
    Bug("normalise_epsilon", CELL,
        "std = np.where(std > 0, std, 1.0)", "std = std + 1e-8",
        _both("normalise_data"),
        "an epsilon instead of 1: a test pixel that was constant on the training set is blown up by 1e8"),
    Bug("normalise_variance_of_uint8_squares", CELL,
        "x_train = np.asarray(x_train, dtype=np.float64)\n"
        "        mean, std = x_train.mean(axis=0), x_train.std(axis=0)",
        "mean = x_train.mean(axis=0)\n        std = np.sqrt(np.mean(x_train ** 2, axis=0) - mean ** 2)\n"
        "        x_train = np.asarray(x_train, dtype=np.float64)",
        _both("normalise_data"), "E[x^2] - E[x]^2 on the uint8 pixels: x ** 2 wraps around at 256"),
    Bug("normalise_global_statistics", CELL,
        "mean, std = x_train.mean(axis=0), x_train.std(axis=0)", "mean, std = x_train.mean(), x_train.std()",
        _both("normalise_data"), "one mean and std for all pixels instead of one per pixel"),
    # ---------------------------------------------------------------- cost_funct
    Bug("ce_naive_logarithms", CELL,
        "cost = float(np.mean(y * softplus(-z) + (1 - y) * softplus(z)))",
        "y_hat = sigmoid(z)\n"
        "            cost = float(np.mean(-(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))))",
        _hidden("cost_funct"),
        "the two logarithms as written: ln 0 = -inf and 0 * -inf = nan once the sigmoid saturates"),
    Bug("ce_clipped_probabilities", CELL,
        "cost = float(np.mean(y * softplus(-z) + (1 - y) * softplus(z)))",
        "y_hat = np.clip(sigmoid(z), 1e-15, 1 - 1e-15)\n"
        "            cost = float(np.mean(-(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))))",
        _hidden("cost_funct"),
        "clips y_hat to [1e-15, 1 - 1e-15]: finite, but a confidently wrong logit of 800 costs 34.5"),
    Bug("ce_labels_swapped", CELL,
        "cost = float(np.mean(y * softplus(-z) + (1 - y) * softplus(z)))",
        "cost = float(np.mean(y * softplus(z) + (1 - y) * softplus(-z)))",
        _both("cost_funct") + _both("optimise"), "treats y = 1 as the negative class"),
    Bug("mse_sums", CELL,
        "cost = float(np.mean((sigmoid(z) - y) ** 2))", "cost = float(np.sum((sigmoid(z) - y) ** 2))",
        _both("cost_funct") + _hidden("optimise"), "the sum of the squared errors, not their mean"),
    # ---------------------------------------------------------------- grad_cost
    Bug("grad_wrong_sign", CELL,
        "delta = y_hat - y  #", "delta = y - y_hat  #",
        _both("grad_cost") + _both("optimise"), "label minus prediction: the gradient points uphill"),
    Bug("grad_no_mean", CELL,
        "grad_w = x.T @ delta / len(y)\n        grad_b = float(np.mean(delta))",
        "grad_w = x.T @ delta\n        grad_b = float(np.sum(delta))",
        _both("grad_cost") + _both("optimise"), "sums over the examples: n times the gradient of the mean cost"),
    Bug("grad_b_not_averaged", CELL,
        "grad_b = float(np.mean(delta))", "grad_b = float(np.sum(delta))",
        _both("grad_cost") + _both("optimise"), "the bias gradient scaled by n, inconsistently with the weights'"),
    Bug("grad_b_not_summed", CELL,
        "grad_b = float(np.mean(delta))", "grad_b = delta",
        _both("grad_cost") + _both("optimise"), "returns one bias gradient per example instead of their mean"),
    Bug("mse_grad_no_sigmoid_derivative", CELL,
        "delta = 2 * delta * y_hat * (1 - y_hat)", "delta = 2 * delta",
        _both("grad_cost") + _hidden("optimise"),
        "differentiates the square but forgets sigma'(z): the gradient of (z - y)^2, not of (sigma(z) - y)^2"),
    Bug("mse_grad_no_factor_two", CELL,
        "delta = 2 * delta * y_hat * (1 - y_hat)", "delta = delta * y_hat * (1 - y_hat)",
        _both("grad_cost") + _hidden("optimise"), "half the gradient of the cost: scaled as for (1/2n) sum (..)^2"),
    Bug("mse_grad_naive_sigmoid_derivative", CELL,
        "delta = 2 * delta * y_hat * (1 - y_hat)",
        "delta = 2 * delta * np.exp(-(x @ self.w + self.b)) / (1 + np.exp(-(x @ self.w + self.b))) ** 2",
        _hidden("grad_cost"), "sigma' as e^-z / (1 + e^-z)^2: inf / inf = nan once z < -355"),
    Bug("grad_transposed_product", CELL,
        "grad_w = x.T @ delta / len(y)", "grad_w = delta @ x.T / len(y)",
        _both("grad_cost") + _both("optimise"), "delta @ x.T: does not even have the shape of w"),
    # ---------------------------------------------------------------- predict
    Bug("predict_score_at_half", CELL,
        "labels = (sigmoid(x @ self.w + self.b) >= 0.5).astype(np.int64)",
        "labels = (x @ self.w + self.b >= 0.5).astype(np.int64)",
        _both("predict") + _both("optimise"), "thresholds the logit at 0.5 instead of the probability"),
    Bug("predict_returns_probabilities", CELL,
        "labels = (sigmoid(x @ self.w + self.b) >= 0.5).astype(np.int64)",
        "labels = sigmoid(x @ self.w + self.b)",
        _both("predict") + _both("optimise"), "returns the probabilities instead of labels"),
    Bug("predict_sign_of_score", CELL,
        "labels = (sigmoid(x @ self.w + self.b) >= 0.5).astype(np.int64)",
        "labels = np.sign(x @ self.w + self.b)",
        _both("predict") + _both("optimise"), "thresholds the score at 0 into labels -1 and +1, not 0 and 1"),
    Bug("predict_tie_is_zero", CELL,
        "labels = (sigmoid(x @ self.w + self.b) >= 0.5).astype(np.int64)",
        "labels = (x @ self.w + self.b > 0).astype(np.int64)",
        _hidden("predict"), "the score strictly above 0: y_hat = 0.5 exactly is labelled 0, not 1"),
    # ---------------------------------------------------------------- update
    Bug("update_adds", CELL,
        "self.w = self.w - self.alpha * grad_w\n        self.b = self.b - self.alpha * grad_b",
        "self.w = self.w + self.alpha * grad_w\n        self.b = self.b + self.alpha * grad_b",
        _both("update") + _both("optimise"), "climbs the gradient"),
    Bug("update_ignores_alpha", CELL,
        "self.w = self.w - self.alpha * grad_w\n        self.b = self.b - self.alpha * grad_b",
        "self.w = self.w - grad_w\n        self.b = self.b - grad_b",
        _both("update") + _both("optimise"), "a step of size 1 whatever the learning rate"),
    Bug("update_forgets_bias", CELL,
        "        self.b = self.b - self.alpha * grad_b\n", "",
        _both("update") + _both("optimise"), "moves the weights but never the bias"),
    Bug("update_local_only", CELL,
        "self.w = self.w - self.alpha * grad_w\n        self.b = self.b - self.alpha * grad_b",
        "w = self.w - self.alpha * grad_w\n        b = self.b - self.alpha * grad_b",
        _both("update") + _both("optimise"), "computes the step into local variables and never stores it"),
    # ---------------------------------------------------------------- optimise
    Bug("optimise_never_updates", CELL,
        _STEP, "",
        _both("optimise"), "computes gradients but never takes the step: w and b stay where they were"),
    Bug("optimise_test_history_on_training_set", CELL,
        'history["cost_test"][t] = self.cost_funct(x_test, y_test)',
        'history["cost_test"][t] = self.cost_funct(x_train, y_train)',
        _both("optimise"), "records the training cost as the test cost"),
    Bug("optimise_records_before_the_step", CELL,
        _EPOCH, _EPOCH.replace(_STEP, "") + _STEP,
        _both("optimise"), "records the costs and errors of the weights before the step, not after it"),
    Bug("optimise_speed_of_weights_only", CELL,
        "np.sqrt(np.sum(grad_w ** 2) + grad_b ** 2)", "np.sqrt(np.sum(grad_w ** 2))",
        _both("optimise"), "the learning speed leaves out the bias's step"),
    Bug("optimise_restarts_from_zero", CELL,
        "        for t in range(self.epochs):\n            grad_w, grad_b",
        "        self.w, self.b = np.zeros(x_train.shape[1]), 0.0\n"
        "        for t in range(self.epochs):\n            grad_w, grad_b",
        _both("optimise"), "resets the weights instead of starting from the current w and b"),
]

"""Plausible wrong answers to assignment 04, each of which must lose points.

The test suite grades the solution with each bug applied, end to end through nbgrader, and
checks that every test cell in ``loses`` scores 0 while the rest keep full marks. A bug that
only the hidden tests catch has only ``test_*_hidden`` cells in ``loses``: the proof that the
hidden tests earn their points.

Later answers call earlier ones: gradients and accuracy call predict_scores, train_minibatch calls
squared_loss, gradients and accuracy, softmax_cross_entropy_grad calls softmax. A bug that changes
what a later answer computes on its cases loses that answer's cells too, and lists them (a bug in
gradients moves every training step; one in squared_loss changes the recorded losses; one in
accuracy the recorded errors). A bug that the later answer's cases do not reach (a tie for the top
score, a near-perfect fit, one example) loses its own cells only.
"""

from autograder.submissions import Bug


def _both(name):
    return (f"test_{name}_basic", f"test_{name}_hidden")


def _hidden(name):
    return (f"test_{name}_hidden",)


_SCORES = "scores = X @ W + b"
_RESIDUAL = "residual = predict_scores(W, b, X) - Y   #"
_HALVED = ("2 * X.T @ residual                  # the n outer products 2 x_i (y_hat_i - y_i)^T, summed\n"
           "    db = 2 * residual")
_PREDICTED = "predicted = np.argmax(predict_scores(W, b, X), axis=1)"
_CHECK = """                if not np.isfinite(squared_loss(W, b, X[batch], Y[batch])):
                    diverged_at = (epoch, step)
                    break
"""
_STEP = """                W = W - lr * dW / len(batch)   # the mean gradient: the step does not grow with the batch
                b = b - lr * db / len(batch)
"""
_RECORD = """            for name, (X_set, Y_set) in data.items():
                curves[f"loss_{name}"].append(squared_loss(W, b, X_set, Y_set) / len(X_set))
                curves[f"error_{name}"].append(1 - accuracy(W, b, X_set, np.argmax(Y_set, axis=1)))
"""
_STOP = """            if diverged_at is not None:
                break
"""
_DELTA = "delta = 2 * (Y_hat - Y) * Y_hat * (1 - Y_hat)"
_SHIFT = "E = np.exp(A - A.max(axis=1, keepdims=True))"
_NORMALISE = "S = E / E.sum(axis=1, keepdims=True)"
_LSE = "log_sum_exp = c + np.log(np.exp(A - c[:, None]).sum(axis=1))"
_CE = "loss = float(np.mean(log_sum_exp - A[np.arange(len(A)), y]))"
_LSE_CE = _LSE + "   # the sum is in [1, k]: its log is finite\n    " + _CE
_ONE_HOT = "G[np.arange(n), y] -= 1"
TRAIN = _both("train_minibatch")

BUGS = [
    # ---------------------------------------------------------------- predict_scores
    Bug("scores_transposed", "predict_scores", _SCORES, "scores = (X @ W + b).T",
        _both("predict_scores") + _both("gradients") + _both("accuracy") + TRAIN,
        "returns the scores as (k, n), one row per class"),
    Bug("scores_without_bias", "predict_scores", _SCORES, "scores = X @ W",
        _both("predict_scores") + _both("gradients") + _both("accuracy") + TRAIN, "forgets the bias"),
    Bug("scores_squeezed", "predict_scores", _SCORES, "scores = np.squeeze(X @ W + b)",
        _hidden("predict_scores") + _hidden("gradients") + _hidden("accuracy") + ("test_train_minibatch_basic",),
        "squeezes the scores: one example gives a (k,) vector, one class an (n,) vector, not (n, k)"),
    # ---------------------------------------------------------------- squared_loss
    Bug("loss_mean_over_batch", "squared_loss", "loss = float(np.sum(residual ** 2))",
        "loss = float(np.sum(residual ** 2) / len(X))", _both("squared_loss") + TRAIN,
        "the mean over the batch, when the loss is the sum"),
    Bug("loss_mean_over_entries", "squared_loss", "loss = float(np.sum(residual ** 2))",
        "loss = float(np.mean(residual ** 2))", _both("squared_loss") + TRAIN,
        "np.mean of the squares: divides by n k, the sum over the batch is asked"),
    Bug("loss_norm_not_squared", "squared_loss", "loss = float(np.sum(residual ** 2))",
        "loss = float(np.linalg.norm(residual))", _both("squared_loss") + TRAIN,
        "the norm of the residuals, not its square"),
    Bug("loss_per_example", "squared_loss", "loss = float(np.sum(residual ** 2))",
        "loss = np.sum(residual ** 2, axis=1)", _both("squared_loss") + TRAIN,
        "one squared error per example, not their sum over the batch"),
    Bug("loss_without_bias", "squared_loss", "residual = X @ W + b - Y", "residual = X @ W - Y",
        _both("squared_loss") + TRAIN, "forgets the bias in the scores"),
    Bug("loss_expanded_square", "squared_loss",
        "residual = X @ W + b - Y\n    loss = float(np.sum(residual ** 2))",
        "scores = X @ W + b\n    loss = float(np.sum(Y ** 2) - 2 * np.sum(Y * scores) + np.sum(scores ** 2))",
        _hidden("squared_loss"),
        "expands ||y - y_hat||^2 into ||y||^2 - 2 y . y_hat + ||y_hat||^2: cancels to round-off on a close fit"),
    Bug("loss_mutates_targets", "squared_loss",
        "residual = X @ W + b - Y\n    loss = float(np.sum(residual ** 2))",
        "Y -= X @ W + b\n    loss = float(np.sum(Y ** 2))", ("test_squared_loss_basic",) + TRAIN,
        "subtracts the scores from Y in place: the caller's targets become residuals (training's history "
        "then reads the wrong labels and trains on them)"),
    # ---------------------------------------------------------------- gradients
    Bug("dW_transposed", "gradients", "dW = 2 * X.T @ residual", "dW = 2 * residual.T @ X",
        _both("gradients") + TRAIN, "residual^T X: a (k, d) matrix, W's transpose"),
    Bug("dW_without_factor_two", "gradients", "dW = 2 * X.T @ residual", "dW = X.T @ residual",
        _both("gradients") + TRAIN, "forgets the 2 of the square in dW"),
    Bug("gradients_of_half_the_loss", "gradients", _HALVED, "X.T @ residual\n    db = residual",
        _both("gradients") + TRAIN, "the gradients of (1/2) ||y - y_hat||^2: no factor 2 in dW nor in db"),
    Bug("db_not_summed", "gradients", "db = 2 * residual.sum(axis=0)", "db = 2 * residual",
        _both("gradients") + TRAIN, "one bias gradient per example, (n, k), not their sum"),
    Bug("db_averaged", "gradients", "db = 2 * residual.sum(axis=0)", "db = 2 * residual.mean(axis=0)",
        _both("gradients") + TRAIN, "averages the bias gradient over the batch though the loss is a sum"),
    Bug("db_summed_over_classes", "gradients", "db = 2 * residual.sum(axis=0)", "db = 2 * residual.sum()",
        _both("gradients") + TRAIN, "sums the residuals over the classes too: one number, not k"),
    Bug("dW_averaged", "gradients", "dW = 2 * X.T @ residual", "dW = 2 * X.T @ residual / len(X)",
        _both("gradients") + TRAIN, "the gradient of the mean loss for W, of the sum for b"),
    Bug("residual_sign", "gradients", _RESIDUAL, "residual = Y - predict_scores(W, b, X)   #",
        _both("gradients") + TRAIN, "y - y_hat: the gradients point uphill"),
    Bug("residual_squeezed", "gradients", _RESIDUAL, "residual = np.squeeze(predict_scores(W, b, X) - Y)   #",
        _hidden("gradients") + TRAIN,
        "squeezes the residuals: a batch of one example (or one class) loses its axis"),
    # ---------------------------------------------------------------- accuracy
    Bug("argmax_over_examples", "accuracy", _PREDICTED, "predicted = np.argmax(predict_scores(W, b, X), axis=0)",
        _both("accuracy") + TRAIN, "argmax over axis 0: the best example for each class"),
    Bug("labels_read_as_one_hot", "accuracy", "acc = float(np.mean(predicted == np.asarray(y)))",
        "acc = float(np.mean(predicted == np.argmax(y, axis=1)))", _both("accuracy") + TRAIN,
        "takes the argmax of the labels as if they were one-hot rows"),
    Bug("accuracy_counts", "accuracy", "acc = float(np.mean(predicted == np.asarray(y)))",
        "acc = float(np.sum(predicted == np.asarray(y)))", _both("accuracy") + TRAIN,
        "the number of right predictions, not the fraction"),
    Bug("accuracy_is_error", "accuracy", "acc = float(np.mean(predicted == np.asarray(y)))",
        "acc = float(np.mean(predicted != np.asarray(y)))", _both("accuracy") + TRAIN,
        "returns the error rate"),
    Bug("ties_count_as_right", "accuracy",
        _PREDICTED + "\n    acc = float(np.mean(predicted == np.asarray(y)))",
        "scores = predict_scores(W, b, X)\n"
        "    acc = float(np.mean(scores[np.arange(len(scores)), np.asarray(y)] == scores.max(axis=1)))",
        _hidden("accuracy"), "counts an example right when its label ties for the top score"),
    # ---------------------------------------------------------------- train_minibatch
    Bug("never_shuffles", "train_minibatch", "order = rng.permutation(n)", "order = np.arange(n)", TRAIN,
        "visits the examples in their given order every epoch"),
    Bug("shuffles_once", "train_minibatch",
        "        for epoch in range(1, epochs + 1):\n            order = rng.permutation(n)\n",
        "        order = rng.permutation(n)\n        for epoch in range(1, epochs + 1):\n", TRAIN,
        "shuffles once, before the first epoch: every epoch has the same batches"),
    Bug("global_generator", "train_minibatch", "order = rng.permutation(n)", "order = np.random.permutation(n)",
        TRAIN, "draws the order from numpy's global generator, not from default_rng(seed)"),
    Bug("reuses_first_batch", "train_minibatch", "batch = order[start:start + batch_size]",
        "batch = order[:batch_size]", TRAIN, "takes every step on the first batch"),
    Bug("drops_partial_batch", "train_minibatch", "range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)",
        TRAIN, "drops the last, smaller batch though the docstring says it is used"),
    Bug("divides_by_batch_size", "train_minibatch", _STEP,
        _STEP.replace("len(batch)", "batch_size"), TRAIN,
        "divides the last, smaller batch's gradient by batch_size instead of its own size"),
    Bug("step_without_mean", "train_minibatch", _STEP, _STEP.replace(" / len(batch)", ""), TRAIN,
        "steps along the summed gradient: lr is not divided by the batch's size"),
    Bug("parameters_in_float32", "train_minibatch", _STEP,
        _STEP.replace("W = W - lr * dW / len(batch)", "W = (W - lr * dW / len(batch)).astype(np.float32)")
        .replace("b = b - lr * db / len(batch)", "b = (b - lr * db / len(batch)).astype(np.float32)"), TRAIN,
        "keeps W and b in float32 to halve the memory: 7 digits, and an overflow already at 3.4e38"),
    Bug("forgets_bias_step", "train_minibatch", _STEP, _STEP.split("\n")[0] + "\n", TRAIN,
        "never moves the bias"),
    Bug("never_stops", "train_minibatch", _CHECK, "", TRAIN,
        "does not check the batch loss: a diverging run goes on into inf and nan"),
    Bug("warns_on_the_way", "train_minibatch", 'with np.errstate(over="ignore", invalid="ignore"):',
        "with np.errstate():", TRAIN, "no np.errstate around the loop: the overflow comes out as RuntimeWarnings"),
    Bug("diverged_at_from_zero", "train_minibatch", "diverged_at = (epoch, step)",
        "diverged_at = (epoch - 1, step - 1)", TRAIN, "counts the epoch and the step from 0"),
    Bug("diverged_at_counts_all_steps", "train_minibatch", "diverged_at = (epoch, step)",
        "diverged_at = (epoch, (epoch - 1) * len(range(0, n, batch_size)) + step)", _hidden("train_minibatch"),
        "counts the step from the start of training, not within its epoch"),
    Bug("records_epoch_in_progress", "train_minibatch", _STOP + _RECORD, _RECORD + _STOP, TRAIN,
        "records the history of the epoch in which training diverged"),
    Bug("loss_history_summed", "train_minibatch", "squared_loss(W, b, X_set, Y_set) / len(X_set)",
        "squared_loss(W, b, X_set, Y_set)", TRAIN, "records the summed loss, not the mean per example"),
    Bug("error_history_is_accuracy", "train_minibatch", "1 - accuracy(W, b, X_set, np.argmax(Y_set, axis=1))",
        "accuracy(W, b, X_set, np.argmax(Y_set, axis=1))", TRAIN, "records the accuracy as the error"),
    Bug("accuracy_against_one_hot_rows", "train_minibatch", "accuracy(W, b, X_set, np.argmax(Y_set, axis=1))",
        "accuracy(W, b, X_set, Y_set)", TRAIN,
        "hands accuracy the one-hot rows instead of the labels: the predictions are compared with a matrix"),
    Bug("evaluates_on_training_data", "train_minibatch", '"eval": (X_eval, Y_eval)}', '"eval": (X, Y)}', TRAIN,
        "records the training set's loss and error as the evaluation's"),
    Bug("empty_history_as_none", "train_minibatch",
        "history = {key: np.array(values, dtype=np.float64) for key, values in curves.items()}",
        "history = {key: np.array(values, dtype=np.float64) if values else None for key, values in curves.items()}",
        TRAIN, "None instead of an empty array for a history with no entries (no evaluation data, or no epoch)"),
    # ---------------------------------------------------------------- gradients_sigmoid_output
    Bug("sigmoid_without_derivative", "gradients_sigmoid_output", _DELTA, "delta = 2 * (Y_hat - Y)",
        _both("gradients_sigmoid_output"), "forgets sigma'(a): the linear model's gradient at the sigmoid's outputs"),
    Bug("sigmoid_without_factor_two", "gradients_sigmoid_output", _DELTA, "delta = (Y_hat - Y) * Y_hat * (1 - Y_hat)",
        _both("gradients_sigmoid_output"), "forgets the 2 of the square"),
    Bug("sigmoid_derivative_of_scores", "gradients_sigmoid_output", _DELTA,
        "delta = 2 * (Y_hat - Y) * (X @ W + b) * (1 - (X @ W + b))", _both("gradients_sigmoid_output"),
        "sigma'(a) as a (1 - a) with the scores a, not with sigma(a)"),
    Bug("sigmoid_linear_residual", "gradients_sigmoid_output", _DELTA,
        "delta = 2 * (X @ W + b - Y) * Y_hat * (1 - Y_hat)", _both("gradients_sigmoid_output"),
        "the residual of the scores, not of the sigmoid's outputs"),
    Bug("sigmoid_naive", "gradients_sigmoid_output", "Y_hat = sigmoid(X @ W + b)",
        "Y_hat = 1 / (1 + np.exp(-(X @ W + b)))", _both("gradients_sigmoid_output"),
        "the textbook sigmoid: exp(800) overflows (a RuntimeWarning) at saturated scores"),
    Bug("sigmoid_db_not_summed", "gradients_sigmoid_output", "db = delta.sum(axis=0)", "db = delta",
        _both("gradients_sigmoid_output"), "one bias gradient per example, not their sum"),
    Bug("sigmoid_dW_transposed", "gradients_sigmoid_output", "dW = X.T @ delta", "dW = delta.T @ X",
        _both("gradients_sigmoid_output"), "delta^T X: W's transpose"),
    # ---------------------------------------------------------------- softmax
    Bug("softmax_no_max_shift", "softmax", _SHIFT, "E = np.exp(A)",
        _both("softmax") + _both("softmax_cross_entropy_grad"), "exp of the raw scores: overflows at 1e4 (inf / inf)"),
    Bug("softmax_wrong_axis", "softmax", "axis=1, keepdims=True))   #", "axis=0, keepdims=True))   #",
        _both("softmax") + _both("softmax_cross_entropy_grad"),
        "shifts by each column's maximum: a row far below it underflows to 0 / 0"),
    Bug("softmax_normalised_over_columns", "softmax", _NORMALISE, "S = E / E.sum(axis=0, keepdims=True)",
        _both("softmax") + _both("softmax_cross_entropy_grad"), "normalises each column instead of each row"),
    Bug("softmax_normalised_over_all", "softmax", _NORMALISE, "S = E / E.sum()",
        _both("softmax") + _both("softmax_cross_entropy_grad"), "divides by the sum of the whole batch"),
    Bug("softmax_without_keepdims", "softmax", _SHIFT, "E = np.exp(A - A.max(axis=1))",
        _both("softmax") + _both("softmax_cross_entropy_grad"),
        "the row maxima as an (n,) vector: broadcast along the wrong axis"),
    Bug("softmax_global_max", "softmax", _SHIFT, "E = np.exp(A - A.max())",
        _both("softmax") + _hidden("softmax_cross_entropy_grad"),
        "shifts every row by the largest score of the batch: a row far below it underflows to 0 / 0"),
    Bug("softmax_epsilon", "softmax", _NORMALISE, "S = E / (E.sum(axis=1, keepdims=True) + 1e-8)",
        _hidden("softmax") + _hidden("softmax_cross_entropy_grad"),
        "adds 1e-8 to the denominator against a division by zero that cannot happen: rows sum to 1 - 1e-8"),
    # ---------------------------------------------------------------- softmax_cross_entropy
    Bug("ce_log_of_softmax", "softmax_cross_entropy", _LSE_CE,
        "S = np.exp(A - c[:, None])\n    S = S / S.sum(axis=1, keepdims=True)\n"
        "    loss = float(np.mean(-np.log(S[np.arange(len(A)), y])))", _both("softmax_cross_entropy"),
        "log of the softmax: a probability that underflows to 0 gives log 0 = -inf (a loss of inf)"),
    Bug("ce_no_max_shift", "softmax_cross_entropy", _LSE, "log_sum_exp = np.log(np.exp(A).sum(axis=1))",
        _both("softmax_cross_entropy"), "log-sum-exp without the shift: exp(1e4) overflows"),
    Bug("ce_global_max", "softmax_cross_entropy", "c = A.max(axis=1)", "c = np.full(len(A), A.max())",
        _hidden("softmax_cross_entropy"),
        "shifts every row by the batch's largest score: a row far below it gives log 0 = -inf"),
    Bug("ce_sum_over_batch", "softmax_cross_entropy", _CE,
        "loss = float(np.sum(log_sum_exp - A[np.arange(len(A)), y]))", _both("softmax_cross_entropy"),
        "the sum over the batch, when the mean is asked"),
    Bug("ce_labels_as_columns", "softmax_cross_entropy", _CE, "loss = float(np.mean(log_sum_exp - A[:, y]))",
        _both("softmax_cross_entropy"), "A[:, y]: every row's scores at every label, an (n, n) matrix"),
    Bug("ce_without_label_score", "softmax_cross_entropy", _CE, "loss = float(np.mean(log_sum_exp))",
        _both("softmax_cross_entropy"), "forgets the - a_y term: the log-sum-exp alone"),
    Bug("ce_clipped_probabilities", "softmax_cross_entropy", _LSE_CE,
        "S = np.exp(A - c[:, None])\n    S = S / S.sum(axis=1, keepdims=True)\n"
        "    loss = float(np.mean(-np.log(np.clip(S[np.arange(len(A)), y], 1e-12, None))))",
        _both("softmax_cross_entropy"), "clips the probability at 1e-12: finite, but a loss of 2e4 becomes 27.6"),
    # ---------------------------------------------------------------- softmax_cross_entropy_grad
    Bug("ce_grad_not_divided_by_n", "softmax_cross_entropy_grad", "    G = G / n                 #", "    #",
        _both("softmax_cross_entropy_grad"), "the gradient of the summed loss, not of the mean"),
    Bug("ce_grad_divided_by_k", "softmax_cross_entropy_grad", "G = G / n", "G = G / A.shape[1]",
        _both("softmax_cross_entropy_grad"), "divides by the number of classes instead of the examples"),
    Bug("ce_grad_one_hot_columns", "softmax_cross_entropy_grad", _ONE_HOT, "G[:, y] -= 1",
        _both("softmax_cross_entropy_grad"), "G[:, y]: subtracts 1 in every row at every label of the batch"),
    Bug("ce_grad_one_hot_at_prediction", "softmax_cross_entropy_grad", _ONE_HOT,
        "G[np.arange(n), np.argmax(A, axis=1)] -= 1", _both("softmax_cross_entropy_grad"),
        "puts the one-hot at the predicted class instead of the label"),
    Bug("ce_grad_sign", "softmax_cross_entropy_grad", "G = softmax(A)\n    " + _ONE_HOT,
        "G = -softmax(A)\n    G[np.arange(n), y] += 1", _both("softmax_cross_entropy_grad"),
        "onehot(y) - S: the gradient of the log-likelihood, uphill"),
    Bug("ce_grad_classes_from_labels", "softmax_cross_entropy_grad", _ONE_HOT, "G = G - np.eye(y.max() + 1)[y]",
        _hidden("softmax_cross_entropy_grad"),
        "builds the one-hot rows with np.eye(y.max() + 1): too narrow when no label is the last class"),
    Bug("ce_grad_naive_softmax", "softmax_cross_entropy_grad", "G = softmax(A)",
        "G = np.exp(A) / np.exp(A).sum(axis=1, keepdims=True)", _both("softmax_cross_entropy_grad"),
        "its own softmax without the max shift: overflows at 1e4"),
]

"""Plausible wrong answers to assignment 06, each of which must lose points.

The test suite grades the solution with each bug applied, end to end through nbgrader, and
checks that every test cell in ``loses`` scores 0 while the rest keep full marks. A bug that
only the hidden tests catch has only ``test_*_hidden`` in ``loses``: the proof that the hidden
tests earn their points.

Every method lives in the one answer cell ``sigmoid_net``, and the methods call each other:
``feed_forward_*`` call ``forward`` and ``losses``, ``backward`` calls ``forward`` and ``output_delta``,
``train_one_sample`` steps with ``backward``, ``train_one_epoch`` calls ``train_one_sample``, and
``train_minibatch`` calls ``forward``, ``output_delta`` and ``feed_forward_dataset``. A bug in one of
them loses the cells of the others whose cases it reaches, and lists them. The hidden tests keep
those charges few: backward, the training steps and the trajectories are judged on the parameters
and gradients alone (a wrong ``losses`` is charged to feed_forward and to train_minibatch's returned
losses only), and the loss that one step must lower is computed in the grader.

The first bugs are those of issue #13: the real student's backward pass (its three mistakes together,
then each alone), sigma' of an activation, the squared error without the softmax Jacobian, a bias
that broadcasting silently turns 2-D, the init variance 1 / n_in, a capacity net with a linear g.
"""

from autograder.submissions import Bug

CELL, CAPACITY = "sigmoid_net", "capacity"


def _both(*names):
    return tuple(f"test_net_{name}_{kind}" for name in names for kind in ("basic", "hidden"))


def _hidden(*names):
    return tuple(f"test_net_{name}_hidden" for name in names)


CAPACITY_CELLS = ("test_capacity_basic", "test_capacity_hidden")

# backward's loop, as the solution has it (its last line ends the solution region, unlike train_minibatch's)
_BACKWARD = (
    "        delta = self.output_delta(activations[-1], onehot(y, self.sizes[-1]))  # dL/dz_L, (n_L,)\n"
    "        for l in reversed(range(len(self.weights))):\n"
    "            weight_gradients[l] = np.outer(activations[l], delta)  # a_l is layer l+1's input\n"
    "            bias_gradients[l] = delta\n"
    "            if l > 0:  # z_l = pre_activations[l - 1]: the list starts at z_1\n"
    "                delta = (delta @ self.weights[l].T) * sigmoid_prime(pre_activations[l - 1])\n"
    "        ### END YOUR CODE ###\n")
_BACKWARD_SIGMA = ("                delta = (delta @ self.weights[l].T) * sigmoid_prime(pre_activations[l - 1])\n"
                   "        ### END YOUR CODE ###\n")
_MSE_DELTA = "delta = a_L * (g - np.sum(a_L * g, axis=-1, keepdims=True))"
_MINIBATCH_STEP = (
    "delta.sum(axis=0)\n"
    "                    if l > 0:  # the next delta needs weights[l] before its update\n"
    "                        delta = (delta @ self.weights[l].T) * sigmoid_prime(pre_activations[l - 1])\n"
    "                    self.weights[l] -= learning_rate * weight_gradient\n"
    "                    self.biases[l] -= learning_rate * bias_gradient\n")

BUGS = [
    # ---------------------------------------------------------------- the list
    Bug("real_students_backward", CELL, _BACKWARD,
        "        delta = self.output_delta(activations[-1], onehot(np.argmax(activations[-1]), self.sizes[-1]))\n"
        "        for l in reversed(range(len(self.weights))):\n"
        "            weight_gradients[l] = np.outer(pre_activations[l - 1] if l > 0 else activations[0], delta)\n"
        "            bias_gradients[l] = delta\n"
        "            if l > 0:\n"
        "                delta = (delta @ self.weights[l].T) * sigmoid_prime(activations[l])\n"
        "        ### END YOUR CODE ###\n",
        _both("backward", "train"),
        "the real student's backward pass: the output delta from the one-hot of the prediction instead of the "
        "label, weight gradients from the pre-activations z_l instead of the layer's input a_l, and sigma' "
        "applied to the activations a_l = sigma(z_l) instead of z_l; it trains to 10 %"),
    Bug("output_delta_from_the_prediction", CELL,
        "delta = self.output_delta(activations[-1], onehot(y, self.sizes[-1]))",
        "delta = self.output_delta(activations[-1], onehot(np.argmax(activations[-1]), self.sizes[-1]))",
        _both("backward", "train"),
        "the output delta from the one-hot of the prediction instead of the label: the label never enters "
        "the gradient, which is 0 on every correctly classified sample's target"),
    Bug("weight_gradient_from_pre_activation", CELL,
        "weight_gradients[l] = np.outer(activations[l], delta)",
        "weight_gradients[l] = np.outer(pre_activations[l - 1] if l > 0 else activations[0], delta)",
        _both("backward", "train"),
        "the weight gradient from the pre-activation z_l instead of the layer's input, the activation a_l"),
    Bug("sigmoid_prime_of_activation", CELL, _BACKWARD_SIGMA,
        _BACKWARD_SIGMA.replace("sigmoid_prime(pre_activations[l - 1])", "sigmoid_prime(activations[l])"),
        _both("backward", "train"),
        "sigma' applied to the activation a = sigma(z): that computes sigma(a) (1 - sigma(a)), not sigma'(z)"),
    Bug("mse_no_jacobian", CELL, _MSE_DELTA, "delta = g",
        _both("backward", "minibatch") + _hidden("train"),
        "softmax + squared error without the softmax Jacobian: 2 (a_L - t) is dL/da_L, not dL/dz_L"),
    Bug("train_bias_becomes_2d", CELL, "self.biases[l] -= learning_rate * bias_gradients[l]",
        "self.biases[l] = self.biases[l] - learning_rate * bias_gradients[l].reshape(1, -1)",
        _both("train"),
        "a (1, n) bias gradient: the update broadcasts the bias into a (1, n) array, and every later "
        "forward pass of one sample returns a batch of one row"),
    Bug("minibatch_bias_becomes_2d", CELL, _MINIBATCH_STEP,
        _MINIBATCH_STEP.replace("delta.sum(axis=0)\n", "delta.sum(axis=0, keepdims=True)\n").replace(
            "self.biases[l] -= learning_rate * bias_gradient",
            "self.biases[l] = self.biases[l] - learning_rate * bias_gradient"),
        _both("minibatch"),
        "the batch's bias gradient summed with keepdims=True, (1, n): the update silently turns each bias 2-D"),
    Bug("init_variance_fan_in", CELL, "np.sqrt(1.0 / max(n_in, n_out))", "np.sqrt(1.0 / n_in)",
        _both("init"), "variance 1 / n_in where the course asks for 1 / max(n_in, n_out)"),
    Bug("capacity_linear_g", CAPACITY, 'g = "square"', 'g = "identity"', CAPACITY_CELLS,
        "a linear g: the network then computes sigmoid of an affine function of x, never of x1 x2"),
    # ---------------------------------------------------------------- __init__
    Bug("init_std_as_variance", CELL, "np.sqrt(1.0 / max(n_in, n_out))", "1.0 / max(n_in, n_out)",
        _both("init"),
        "numpy's normal takes the standard deviation: 1 / max(n_in, n_out) as the scale gives the variance "
        "1 / max(n_in, n_out)^2"),
    Bug("init_glorot", CELL, "np.sqrt(1.0 / max(n_in, n_out))", "np.sqrt(2.0 / (n_in + n_out))",
        _both("init"), "Glorot's variance 2 / (n_in + n_out) instead of the course's 1 / max(n_in, n_out)"),
    Bug("init_unseeded", CELL, "rng = np.random.default_rng(seed)\n        # variance",
        "rng = np.random.default_rng()\n        # variance",
        _both("init") + ("test_net_train_basic",),
        "the seed is not used: two nets of the same seed draw different weights"),
    Bug("init_global_seed", CELL, "rng = np.random.default_rng(seed)\n        # variance",
        "np.random.seed(seed)\n        rng = np.random\n        # variance",
        _hidden("init"), "numpy's global generator seeded with the seed: reproducible, but not the contract's draw "
                         "(one np.random.default_rng(seed)), and it changes the random state of everything else"),
    Bug("init_rng_per_layer", CELL,
        "self.weights = [rng.normal(0.0, np.sqrt(1.0 / max(n_in, n_out)), size=(n_in, n_out))",
        "self.weights = [np.random.default_rng(seed).normal(0.0, np.sqrt(1.0 / max(n_in, n_out)), size=(n_in, n_out))",
        _hidden("init"), "a new generator of the seed for every layer: every layer starts from the same draws"),
    Bug("init_no_loss_check", CELL,
        "        if loss not in (\"ce\", \"mse\"):\n"
        "            raise ValueError(f'loss must be \"ce\" or \"mse\", got {loss!r}')\n",
        "", _both("init"), "an unknown loss is accepted (and silently trained as the squared error)"),
    Bug("init_sizes_kept_as_given", CELL, "self.sizes = tuple(sizes)", "self.sizes = sizes",
        _hidden("init"), "sizes stored as given: a list stays a list (and the caller's list can change it later)"),
    # ---------------------------------------------------------------- forward
    Bug("forward_no_bias", CELL, "z = activations[l] @ W + b", "z = activations[l] @ W",
        _both("forward", "feed_forward", "backward", "train", "minibatch"), "the biases never enter the forward pass"),
    Bug("forward_a0_not_float", CELL, "pre_activations, activations = [], [a_0]",
        "pre_activations, activations = [], [x]",
        _hidden("forward"), "a_0 is the sample as given: an integer sample stays an integer array"),
    # ---------------------------------------------------------------- losses, feed_forward
    Bug("ce_log_of_softmax", CELL,
        "            top = z_L.max(axis=1, keepdims=True)\n"
        "            log_sum_exp = top[:, 0] + np.log(np.exp(z_L - top).sum(axis=1))\n"
        "            losses = log_sum_exp - z_L[np.arange(len(y)), y]",
        "            losses = -np.log(softmax(z_L)[np.arange(len(y)), y])",
        _hidden("feed_forward"),
        "-log a_L[y] as written: a_L[y] underflows to 0 for scores of +-800, and the loss is inf"),
    Bug("mse_half", CELL, "losses = np.sum((softmax(z_L) - onehot(y, z_L.shape[1])) ** 2, axis=1)",
        "losses = 0.5 * np.sum((softmax(z_L) - onehot(y, z_L.shape[1])) ** 2, axis=1)",
        _both("feed_forward", "minibatch") + ("test_net_backward_basic",),
        "a 1/2 in the squared error: the course's loss is the plain sum (backward's gradient is that of the sum)"),
    Bug("dataset_sum_not_mean", CELL, "average_loss = float(np.mean(self.losses(pre_activations[-1], y)))",
        "average_loss = float(np.sum(self.losses(pre_activations[-1], y)))",
        _both("feed_forward", "minibatch"), "the summed loss of the dataset where the mean is asked"),
    Bug("accuracy_as_percent", CELL, "accuracy = float(np.mean(np.argmax(activations[-1], axis=1) == y))",
        "accuracy = 100 * float(np.mean(np.argmax(activations[-1], axis=1) == y))",
        _both("feed_forward"), "the accuracy in percent where a fraction in [0, 1] is asked"),
    Bug("guess_marks_every_tie", CELL, "one_hot_guess = onehot(np.argmax(activations[-1]), self.sizes[-1])",
        "one_hot_guess = (activations[-1] == activations[-1].max()).astype(np.float64)",
        _hidden("feed_forward"), "every class of the largest output is marked: a tie gives two 1s, not the first"),
    # ---------------------------------------------------------------- output_delta, backward
    Bug("mse_delta_without_the_2", CELL, "g = 2 * (a_L - t)  # dL/da_L", "g = a_L - t",
        _both("backward", "minibatch") + _hidden("train"),
        "dL/da_L = a_L - t: the derivative of a loss with a 1/2, not of the course's plain sum"),
    Bug("backward_outer_transposed", CELL, "weight_gradients[l] = np.outer(activations[l], delta)",
        "weight_gradients[l] = np.outer(delta, activations[l])",
        _both("backward", "train"), "np.outer(delta, a_l): the transposed gradient, of shape (n_{l+1}, n_l)"),
    Bug("backward_forgets_the_first_layer", CELL,
        "            if l > 0:  # z_l = pre_activations[l - 1]: the list starts at z_1\n",
        "            if l > 1:\n",
        _both("backward", "train"), "the delta is not propagated below the second layer: the first layer's "
                                    "gradient uses the second layer's delta"),
    # ---------------------------------------------------------------- train_one_sample, train_one_epoch
    Bug("step_forgets_the_biases", CELL, "            self.biases[l] -= learning_rate * bias_gradients[l]\n", "",
        _both("train"), "train_one_sample moves the weights only; the biases stay at 0"),
    Bug("epoch_shuffles", CELL, "for x, label in zip(X, y):",
        "for i in np.random.default_rng(0).permutation(len(X)):\n            x, label = X[i], y[i]",
        _both("train"), "train_one_epoch shuffles the rows: the course trains on them in order"),
    Bug("epoch_drops_the_learning_rate", CELL, "self.train_one_sample(x, label, learning_rate)",
        "self.train_one_sample(x, label)", _both("train"),
        "train_one_epoch does not pass its learning rate on: every step uses the default 0.003"),
    # ---------------------------------------------------------------- train_minibatch
    Bug("minibatch_sum_not_mean", CELL, "onehot(y[batch], self.sizes[-1])) / len(batch)",
        "onehot(y[batch], self.sizes[-1]))", _both("minibatch"),
        "the summed gradient of the batch: steps batch_size times too long"),
    Bug("minibatch_divides_by_batch_size", CELL, "onehot(y[batch], self.sizes[-1])) / len(batch)",
        "onehot(y[batch], self.sizes[-1])) / batch_size", _hidden("minibatch"),
        "divides by batch_size instead of the batch's own size: a last, smaller batch gets a step too short"),
    Bug("minibatch_update_before_delta", CELL,
        "                    if l > 0:  # the next delta needs weights[l] before its update\n"
        "                        delta = (delta @ self.weights[l].T) * sigmoid_prime(pre_activations[l - 1])\n"
        "                    self.weights[l] -= learning_rate * weight_gradient\n",
        "                    self.weights[l] -= learning_rate * weight_gradient\n"
        "                    if l > 0:\n"
        "                        delta = (delta @ self.weights[l].T) * sigmoid_prime(pre_activations[l - 1])\n",
        _both("minibatch"), "weights[l] updated before the next delta uses it: the lower layers get the "
                            "gradient of weights that were not used in the forward pass"),
    Bug("minibatch_same_order_every_epoch", CELL, "            order = rng.permutation(len(X))",
        "            order = np.random.default_rng(seed).permutation(len(X))", _both("minibatch"),
        "a new generator of the seed every epoch: every epoch visits the rows in the same order"),
    Bug("minibatch_drops_the_last_batch", CELL, "for start in range(0, len(X), batch_size):",
        "for start in range(0, len(X) - batch_size + 1, batch_size):", _hidden("minibatch"),
        "the last, partial batch is dropped (and with batch_size > n no step is taken)"),
    # ---------------------------------------------------------------- capacity_net
    Bug("capacity_no_quarter", CAPACITY, "w2 = np.array([beta1 / 4, -beta1 / 4])", "w2 = np.array([beta1, -beta1])",
        CAPACITY_CELLS, "(x1 + x2)^2 - (x1 - x2)^2 = 4 x1 x2: the 1/4 is missing"),
    Bug("capacity_beta0_in_the_hidden_bias", CAPACITY, "b2 = float(beta0)", "b1 = np.array([beta0, 0.0])",
        CAPACITY_CELLS, "beta0 put into a hidden unit's bias, where g squares it with the input"),
    Bug("capacity_abs_g", CAPACITY, 'g = "square"', 'g = "abs"', CAPACITY_CELLS,
        "|x1 + x2| - |x1 - x2| is 2 min(|x1|, |x2|) times a sign, not a multiple of x1 x2"),
    Bug("capacity_g_a_function", CAPACITY, 'g = "square"', "g = np.square", CAPACITY_CELLS,
        "g returned as a function, not as the name of one: the grader cannot run a function of the kernel"),
]

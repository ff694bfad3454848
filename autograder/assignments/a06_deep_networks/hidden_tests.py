"""Hidden tests of assignment 06, one entry per test cell (grade_id).

Every ``test_net_<part>_*`` drives the student's ``SigmoidNet`` through scenarios: construct it, set
``weights`` and ``biases`` to known lists of arrays, call a method, observe the parameters afterwards
(read from the object's storage). ``test_capacity_*`` call ``capacity_net`` and run the network it
returns here, in the grader's process. ``_basic`` checks the
rule of the notebook's visible checks on inputs of the same kind that the notebook never shows;
``_hidden`` checks it where the visible checks do not look: four layers and one (no hidden layer),
layers of distinct sizes everywhere (a transposed gradient has the wrong shape), integer inputs,
a batch of one row, ties of the argmax, output scores of +-800 (a cross-entropy taken as -log of a
probability that underflows to 0 is inf), the default learning rates, partial minibatches, several
epochs (a new order every epoch), the capacity net at beta1 = 0 and on inputs far from 0.

Conventions (the contract's): sizes = (n_0, ..., n_L); weights[l]: (n_l, n_{l+1}), biases[l]:
(n_{l+1},); z_{l+1} = a_l @ weights[l] + biases[l], a_0 = x, a_{l+1} = sigmoid(z_{l+1}) on hidden
layers, a_L = softmax(z_L). The loss of ONE sample with t = onehot(y): "ce" -log a_L[y]; "mse"
sum_k (a_L[k] - t_k)^2 (a sum, no 1/2). feed_forward_dataset: the MEAN loss and the accuracy as a
fraction; train_minibatch: the MEAN gradient of each batch, one default_rng(seed) per call drawing a
permutation every epoch.

Expected values come from an independent route, never from the solution notebook:

* forward and both losses by their definitions, entry by entry in ``decimal`` (50 digits; the
  cross-entropy as ln(sum e^z) - z_y, which cannot overflow in decimals);
* every gradient of backward (and the step of train_one_sample) by centered differences of that
  decimal loss, one parameter entry at a time (h = 1e-20: error ~1e-40), for both losses, so that
  no derivative formula is typed here;
* the initialisation statistically (sample variance against 1 / max(n_in, n_out) on layers of tens
  of thousands of weights, the mean, the share within one standard deviation, which a uniform draw
  misses), by reproducibility (the same seed twice, another seed) and, in the hidden cell, against
  the contract's draw (one np.random.default_rng(seed), rng.normal layer by layer);
* training trajectories (train_one_epoch, train_minibatch) by running the contract's definition
  step by step in float64 with a per-sample backprop written here from the chain rule
  (``_gradient64``, a batch's gradient the mean of the per-sample ones: another route than the
  notebook's matrix form), which this module checks against the decimal centered differences on
  every backward case when it is imported; the loss after one step is computed here from the
  parameters the student's object holds;
* capacity_net by its defining property: the network it returns (g a name, so that the grader knows
  the function) run here in decimals, the output unit's score against beta0 + beta1 x1 x2 on random
  inputs for several (beta0, beta1). Nothing the kernel computes is used.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import numpy as np

from autograder.cases import (Call, Case, Close, Equal, Expectation, HiddenTest, New, NoWarnings, Observe,
                              Raises, Result, Satisfies, Scenario, Set, one_number, real)
from autograder.records import Outcome, Unsupported
from autograder.reference import derivative
from autograder.reference import sigmoid as sigmoid_decimal
from autograder.relations import Holds, Same

rng = np.random.default_rng(2061)
STABLE = NoWarnings()
LOSSES = ("ce", "mse")
MODERATE = decimal.Context(prec=50, Emin=-10**8, Emax=10**8)  # scores up to ~1e3: 50 digits are plenty
MODERATE_STEP = Decimal("1e-20")  # centered differences: truncation ~1e-40, round-off ~1e-30
LABEL_MARGIN = 1e-9  # the top two outputs of every sample are farther apart than this (or exactly tied)
VALUE = {"rtol": 1e-9, "atol": 1e-12}  # float64 forward values against decimals
GRADIENT = {"rtol": 1e-7, "atol": 1e-10}  # float64 backprop against the decimal differences
TRAJECTORY = {"rtol": 1e-7, "atol": 1e-10}  # two float64 trainings by the same definition

# ------------------------------------------------------------------ the network in decimals, entry by entry


def _decimal(value):
    """Nested lists of exact Decimals from a float array's tolist() (or a number)."""
    return [_decimal(v) for v in value] if isinstance(value, list) else Decimal(float(value))


def _decimal_net(weights, biases):
    return ([_decimal(np.asarray(W, dtype=np.float64).tolist()) for W in weights],
            [_decimal(np.asarray(b, dtype=np.float64).tolist()) for b in biases])


def _softmax_row(scores):
    """e^s_k / sum_j e^s_j, by the definition (decimals do not overflow)."""
    e = [s.exp() for s in scores]
    total = sum(e)
    return [v / total for v in e]


def _forward_row(W, b, x):
    """([z_1 .. z_L], [a_0 .. a_L]) of one sample x (Decimals), by the definition."""
    zs, activations = [], [x]
    for l in range(len(W)):
        a = activations[-1]
        z = [sum((a[i] * W[l][i][j] for i in range(len(a))), b[l][j]) for j in range(len(b[l]))]
        zs.append(z)
        activations.append([sigmoid_decimal(t) for t in z] if l + 1 < len(W) else _softmax_row(z))
    return zs, activations


def _loss_row(W, b, x, label, loss):
    """The loss of one sample: "ce" ln(sum_k e^z_L[k]) - z_L[y]; "mse" sum_k (a_L[k] - t_k)^2."""
    zs, activations = _forward_row(W, b, x)
    if loss == "ce":
        return sum(t.exp() for t in zs[-1]).ln() - zs[-1][label]
    return sum((a - (1 if k == label else 0)) ** 2 for k, a in enumerate(activations[-1]))


def forward(weights, biases, X):
    """forward by the definition: (pre_activations, activations) as float64 arrays, for a sample
    X: (n_0,) or a batch X: (K, n_0)."""
    X = np.asarray(X, dtype=np.float64)
    rows = X.reshape(-1, X.shape[-1])
    with decimal.localcontext(MODERATE):
        W, b = _decimal_net(weights, biases)
        results = [_forward_row(W, b, _decimal(row.tolist())) for row in rows]

    def stacked(part, l):
        """Entry l of every row's pre-activations (part 0) or activations (part 1), shaped as X's rows."""
        return np.array([[float(v) for v in r[part][l]] for r in results]).reshape(X.shape[:-1] + (-1,))

    L = len(weights)
    return [stacked(0, l) for l in range(L)], [X] + [stacked(1, l) for l in range(1, L + 1)]


def sample_loss(weights, biases, x, label, loss):
    with decimal.localcontext(MODERATE):
        W, b = _decimal_net(weights, biases)
        return float(_loss_row(W, b, _decimal(np.asarray(x, dtype=np.float64).tolist()), int(label), loss))


def dataset_loss(weights, biases, X, y, loss):
    """The mean over the rows of the sample loss, in decimals."""
    with decimal.localcontext(MODERATE):
        W, b = _decimal_net(weights, biases)
        total = sum(_loss_row(W, b, _decimal(row.tolist()), int(label), loss)
                    for row, label in zip(np.asarray(X, dtype=np.float64), y))
        return float(total / len(y))


def _replaced(layer_list, l, index, t):
    """A copy of the decimal layer list with entry ``index`` of layer l replaced by t (the rest shared)."""
    layer = [list(row) for row in layer_list[l]] if len(index) == 2 else list(layer_list[l])
    if len(index) == 2:
        layer[index[0]][index[1]] = t
    else:
        layer[index[0]] = t
    return [*layer_list[:l], layer, *layer_list[l + 1:]]


def gradient(weights, biases, x, label, loss):
    """(dL/dweights, dL/dbiases) of one sample's loss, every entry by a centered difference of the decimal
    loss (h = 1e-20). Returns two lists of float64 arrays shaped like weights and biases."""
    with decimal.localcontext(MODERATE):
        W, b = _decimal_net(weights, biases)
        xd, label = _decimal(np.asarray(x, dtype=np.float64).tolist()), int(label)
        weight_gradients = [np.array([[float(derivative(
            lambda t, l=l, i=i, j=j: _loss_row(_replaced(W, l, (i, j), t), b, xd, label, loss), MODERATE_STEP)(
            W[l][i][j])) for j in range(len(W[l][i]))] for i in range(len(W[l]))]) for l in range(len(W))]
        bias_gradients = [np.array([float(derivative(
            lambda t, l=l, j=j: _loss_row(W, _replaced(b, l, (j,), t), xd, label, loss), MODERATE_STEP)(b[l][j]))
            for j in range(len(b[l]))]) for l in range(len(b))]
    return weight_gradients, bias_gradients


# ------------------------------------------------------------------ the chain rule in float64, for trajectories


def _sigmoid64(z):
    return 0.5 * (1.0 + np.tanh(z / 2))


def _forward64(weights, biases, x):
    """One sample x: (n_0,): ([z_1 .. z_L], [a_0 .. a_L]) in float64."""
    zs, activations = [], [np.asarray(x, dtype=np.float64)]
    for l, (W, b) in enumerate(zip(weights, biases)):
        z = activations[-1] @ W + b
        zs.append(z)
        if l + 1 < len(weights):
            activations.append(_sigmoid64(z))
        else:
            e = np.exp(z - z.max())
            activations.append(e / e.sum())
    return zs, activations


def _loss64(weights, biases, x, label, loss):
    zs, activations = _forward64(weights, biases, x)
    z = zs[-1]
    if loss == "ce":
        return float(z.max() + np.log(np.exp(z - z.max()).sum()) - z[label])
    return float(np.sum((activations[-1] - np.eye(z.size)[label]) ** 2))


def _dataset_loss64(weights, biases, X, y, loss):
    return float(np.mean([_loss64(weights, biases, x, label, loss) for x, label in zip(X, y)]))


def _gradient64(weights, biases, x, label, loss):
    """One sample's gradient from the chain rule: dL/dz_L is a_L - t ("ce") or J (2 (a_L - t)) with the
    softmax Jacobian J = diag(a_L) - a_L a_L^T ("mse"); then delta_l = (delta_{l+1} W_l^T) sigma'(z_l)."""
    zs, activations = _forward64(weights, biases, x)
    a_L = activations[-1]
    residual = a_L - np.eye(a_L.size)[label]
    delta = residual if loss == "ce" else (np.diag(a_L) - np.outer(a_L, a_L)) @ (2 * residual)
    weight_gradients, bias_gradients = [None] * len(weights), [None] * len(weights)
    for l in reversed(range(len(weights))):
        weight_gradients[l], bias_gradients[l] = np.outer(activations[l], delta), delta
        if l > 0:
            s = _sigmoid64(zs[l - 1])
            delta = (weights[l] @ delta) * s * (1 - s)
    return weight_gradients, bias_gradients


def _stepped(weights, biases, grads, learning_rate):
    weight_gradients, bias_gradients = grads
    return ([W - learning_rate * g for W, g in zip(weights, weight_gradients)],
            [b - learning_rate * g for b, g in zip(biases, bias_gradients)])


def epoch_trained(weights, biases, X, y, loss, learning_rate):
    """train_one_epoch by the contract: one step per row, rows 0 .. n-1 in order."""
    for x, label in zip(X, y):
        weights, biases = _stepped(weights, biases, _gradient64(weights, biases, x, label, loss), learning_rate)
    return weights, biases


def minibatch_trained(weights, biases, X, y, loss, learning_rate, epochs, batch_size, seed):
    """train_minibatch by the contract: (losses after each epoch, weights, biases). Each batch's step is
    the mean of its samples' gradients, computed one sample at a time."""
    order_rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = order_rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            grads = [_gradient64(weights, biases, X[i], y[i], loss) for i in batch]
            mean = ([np.mean([g[0][l] for g in grads], axis=0) for l in range(len(weights))],
                    [np.mean([g[1][l] for g in grads], axis=0) for l in range(len(weights))])
            weights, biases = _stepped(weights, biases, mean, learning_rate)
        losses.append(_dataset_loss64(weights, biases, X, y, loss))
    return np.array(losses), weights, biases


def drawn(sizes, seed):
    """The contract's initialisation: one default_rng(seed), rng.normal(0, sqrt(1 / max(n_l, n_{l+1})))
    for weights[l] in the order l = 0 .. L-1; biases 0."""
    draw = np.random.default_rng(seed)
    weights = [draw.normal(0.0, np.sqrt(1.0 / max(n_in, n_out)), size=(n_in, n_out))
               for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return weights, [np.zeros(n_out) for n_out in sizes[1:]]


# ------------------------------------------------------------------ expectations


def _problem_of(outcome: Outcome, promise: str) -> str | None:
    """The problem when there is no value to judge: the call raised or returned something unrecordable."""
    if outcome.raised:
        return f"raised {outcome.raised}: {outcome.message}"
    if isinstance(outcome.value, Unsupported):
        return f"returned a {outcome.value.type_name}, expected {promise}"
    return None


class Items(Expectation):
    """A tuple (or list) of len(parts) values, each checked by its own expectation (None: anything);
    names[i], if given, says what item i is in the reason ("[1] (one_hot_guess): wrong shape ...")."""

    def __init__(self, parts, names=None):
        self.parts = tuple(parts)
        self.names = tuple(names) if names else ("",) * len(self.parts)

    def check(self, outcome):
        return self.check_at(outcome, "")

    def check_at(self, outcome, root):
        where = f"{root}: " if root else ""
        problem = _problem_of(outcome, f"a tuple of {len(self.parts)}")
        if problem:
            return where + problem
        value = outcome.value
        if not isinstance(value, (tuple, list)) or len(value) != len(self.parts):
            count = f"{len(value)} items" if isinstance(value, (tuple, list)) else "no tuple"
            listed = f" ({', '.join(self.names)})" if any(self.names) else ""
            return f"{where}returned {count}, expected a tuple of {len(self.parts)}{listed}"
        problems = [part.check_at(Outcome(value=item), f"{root}[{i}]" + (f" ({name})" if name else ""))
                    for i, (part, item, name) in enumerate(zip(self.parts, value, self.names)) if part is not None]
        problems = [p for p in problems if p]
        return "; ".join(problems) if problems else None


def _arrays(expected, tolerance=VALUE, exact=False):
    """A list of float arrays (compared one by one: the reason names the wrong one by its index)."""
    if exact:
        return Equal(list(expected), dtype_kind="f")
    return Close(list(expected), **tolerance, dtype_kind="f")


# ------------------------------------------------------------------ inputs


def _params(sizes, scale=1.0):
    """Random weights (n_l, n_{l+1}) of size ~scale / sqrt(n_l) and biases of size ~0.5, rounded to 4 digits."""
    weights = [rng.normal(0, scale / np.sqrt(n_in), size=(n_in, n_out)).round(4)
               for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return weights, [rng.normal(0, 0.5, size=n_out).round(4) for n_out in sizes[1:]]


def _samples(n_0, K, n_L):
    return rng.normal(size=(K, n_0)).round(4), rng.integers(0, n_L, size=K)


def _net(sizes, loss, params):
    """Construct SigmoidNet(sizes, loss=loss), then set weights and biases."""
    weights, biases = params
    return [New("SigmoidNet", (tuple(sizes),), {"loss": loss}),
            Set("weights", [np.array(W) for W in weights]), Set("biases", [np.array(b) for b in biases])]


def _kept(params):
    """Observing the parameters unchanged, bit for bit."""
    weights, biases = params
    return (Observe("weights", expect=_arrays(weights, exact=True)),
            Observe("biases", expect=_arrays(biases, exact=True)))


def _sizes(params):
    weights, _ = params
    return tuple([weights[0].shape[0]] + [W.shape[1] for W in weights])


def _clear_argmax(probabilities):
    """argmax of each row, after checking that round-off cannot flip it (exact ties are the contract's first)."""
    P = np.atleast_2d(probabilities)
    top = np.sort(P, axis=1)
    gaps = top[:, -1] - top[:, -2] if P.shape[1] > 1 else np.ones(len(P))
    if np.any((gaps > 0) & (gaps < LABEL_MARGIN)):
        raise ValueError("two outputs are too close for a reliable argmax: choose other data")
    return P.argmax(axis=1)


# ------------------------------------------------------------------ __init__


SAMPLING = 6  # statistical checks allow 6 sampling standard errors: a right draw fails once in ~1e9


def _variance_ok(shape, variance):
    """A float array of ``shape`` drawn from N(0, variance): its sample variance, its mean and its share of
    entries within one standard deviation of 0 (68.27 %; a uniform draw of the same variance has 57.7 %),
    each within SAMPLING standard errors of the value for N entries (variance: sqrt(2 / N) relative)."""
    share = 0.6827

    def ok(value):
        W = real(value)
        if W.shape != shape or not np.all(np.isfinite(W)):
            return False
        sigma, n = np.sqrt(variance), W.size
        return (abs(W.var() / variance - 1) < SAMPLING * np.sqrt(2 / n)
                and abs(W.mean()) < SAMPLING * sigma / np.sqrt(n)
                and abs(np.mean(np.abs(W) < sigma) - share) < SAMPLING * np.sqrt(share * (1 - share) / n))

    return Satisfies(ok, f"not N(0, 1 / max(n_in, n_out)) of shape {shape}: wrong shape, mean, variance or "
                         "distribution (variance, not standard deviation: numpy's normal takes the latter)")


def _statistics_case(sizes, seed, about):
    """The weights of a big net against the variance rule, layer by layer; biases 0."""
    n = list(zip(sizes[:-1], sizes[1:]))
    weights = Items([_variance_ok((a, b), 1.0 / max(a, b)) for a, b in n])
    return Scenario((New("SigmoidNet", (tuple(sizes),), {"seed": seed}),
                     Observe("weights", expect=weights),
                     Observe("biases", expect=Equal([np.zeros(b) for _, b in n], dtype_kind="f"))), about=about)


def _stored_case(sizes, kwargs, about, stored):
    """Every constructor argument stored under its own name (sizes as a tuple)."""
    def as_tuple(value):
        return isinstance(value, tuple) and tuple(int(v) for v in value) == tuple(stored["sizes"])

    return Scenario((New("SigmoidNet", (sizes,), kwargs),
                     Observe("sizes", expect=Satisfies(as_tuple, "sizes: not the sizes, stored as a tuple")),
                     Observe("loss", expect=Equal(stored["loss"])),
                     Observe("seed", expect=Close(float(stored["seed"]), rtol=0, atol=0))), about=about)


def _seeding_case(sizes, seed, other, prefix):
    """Two nets of one seed draw the same weights, a net of another seed others: (scenario, relations)."""
    names = [f"{prefix}seed {seed}", f"{prefix}seed {seed} again", f"{prefix}seed {other}"]
    steps = []
    for name, s in zip(names, (seed, seed, other)):
        steps += [New("SigmoidNet", (tuple(sizes),), {"seed": s}), Observe("weights", name=name)]

    def differ(first, third):
        return any(np.asarray(a).shape == np.asarray(c).shape and not np.array_equal(a, c)
                   for a, c in zip(first, third)) and len(first) == len(third)

    relations = (Same((names[0], names[1]), f"seed {seed} twice: the weights must be the same"),
                 Holds((names[0], names[2]), f"seeds {seed} and {other}: the weights must differ",
                       predicate=differ, message="the same weights: the seed is not used"))
    return Scenario(tuple(steps), about=f"sizes {tuple(sizes)}, seeds {seed} and {other}"), relations


def _drawn_case(sizes, seed, about):
    kwargs = {} if seed is None else {"seed": seed}
    weights, biases = drawn(sizes, 0 if seed is None else seed)
    return Scenario((New("SigmoidNet", (tuple(sizes),), kwargs),
                     Observe("weights", expect=Close(weights, rtol=1e-12, atol=0, dtype_kind="f")),
                     Observe("biases", expect=Equal(biases, dtype_kind="f"))),
                    about=f"{about}: the contract's draw, one default_rng(seed) and rng.normal layer by layer")


def _init_test(cases, seeding):
    built = [_seeding_case(*args, prefix=f"case {i}: ") for i, args in enumerate(seeding)]
    return HiddenTest([*cases, *(scenario for scenario, _ in built)],
                      relations=tuple(r for _, relations in built for r in relations))


# ------------------------------------------------------------------ forward, feed_forward


def _forward_case(params, X, about, stable=False):
    weights, biases = params
    zs, activations = forward(weights, biases, X)
    expect = Items((_arrays(zs), _arrays(activations)), ("pre_activations", "activations"))
    return Scenario((*_net(_sizes(params), "ce", params),
                     Call("forward", (X,), expect=expect & STABLE if stable else expect)),
                    about=f"sizes {_sizes(params)}, {about}")


def _guess(weights, biases, x):
    probabilities = forward(weights, biases, x)[1][-1]
    return np.eye(probabilities.size)[_clear_argmax(probabilities)[0]]


def _sample_case(params, loss, x, label, about):
    weights, biases = params
    expect = Items((one_number(sample_loss(weights, biases, x, label, loss), f'the loss "{loss}" of the sample'),
                    Equal(_guess(weights, biases, x), dtype_kind="f")), ("loss", "one_hot_guess"))
    return Scenario((*_net(_sizes(params), loss, params), Call("feed_forward_sample", (x, label), expect=expect)),
                    about=f'sizes {_sizes(params)}, loss "{loss}", {about}')


def _dataset_case(params, loss, X, y, about):
    weights, biases = params
    accuracy = float(np.mean(_clear_argmax(forward(weights, biases, X)[1][-1]) == y))
    expect = Items((one_number(dataset_loss(weights, biases, X, y, loss), f'the mean of the samples\' "{loss}" losses'),
                    one_number(accuracy, "the fraction of samples whose argmax is the label, in [0, 1]")),
                   ("average_loss", "accuracy"))
    return Scenario((*_net(_sizes(params), loss, params), Call("feed_forward_dataset", (X, y), expect=expect)),
                    about=f'sizes {_sizes(params)}, loss "{loss}", {about}')


def _labels_for(params, X, right):
    """Labels: the predicted class where ``right`` is True, another class elsewhere."""
    predicted = _clear_argmax(forward(*params, X)[1][-1])
    n_L = params[1][-1].size
    return np.where(right, predicted, (predicted + 1) % n_L)


def _with_output_bias(params, output_bias, zero_last=False):
    """The params with the output layer's bias replaced (and its weights set to 0 if asked)."""
    weights, biases = params
    weights = [*weights[:-1], np.zeros_like(weights[-1]) if zero_last else weights[-1]]
    return weights, [*biases[:-1], np.array(output_bias, dtype=np.float64)]


# ------------------------------------------------------------------ backward


_checked = []  # (weights, biases, x, label, loss, grads): every decimal gradient, for the check of _gradient64


def _gradient_expectation(params, x, label, loss):
    weights, biases = params
    grads = gradient(weights, biases, x, label, loss)
    _checked.append((weights, biases, x, label, loss, grads))
    return Items((_arrays(grads[0], GRADIENT), _arrays(grads[1], GRADIENT)), ("weight_gradients", "bias_gradients"))


def _backward_case(params, loss, x, label, about):
    """backward against the decimal differences; the parameters must be left as they were."""
    return Scenario((*_net(_sizes(params), loss, params),
                     Call("backward", (x, label), expect=_gradient_expectation(params, x, label, loss)),
                     *_kept(params)), about=f'sizes {_sizes(params)}, loss "{loss}", {about}')


# ------------------------------------------------------------------ train_one_sample, train_one_epoch


def _lowered(x, label, loss, before):
    """The loss of the sample, computed here at the parameters the object holds after the step, is lower."""
    def predicate(weights, biases):
        after = _loss64([real(W) for W in weights], [real(b) for b in biases], x, label, loss)
        return after < before

    return predicate


def _step_case(params, loss, x, label, about, prefix, learning_rate=None):
    """One train_one_sample: every parameter minus learning_rate times the decimal gradient; and the loss
    of that sample, computed here from the parameters afterwards, is lower. (scenario, relation)"""
    weights, biases = params
    rate = 0.003 if learning_rate is None else learning_rate
    expected = _stepped(weights, biases, gradient(weights, biases, x, label, loss), rate)
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    names = (f"{prefix}weights after the step", f"{prefix}biases after the step")
    scenario = Scenario((*_net(_sizes(params), loss, params), Call("train_one_sample", (x, label), kwargs),
                         Observe("weights", expect=_arrays(expected[0], TRAJECTORY), name=names[0]),
                         Observe("biases", expect=_arrays(expected[1], TRAJECTORY), name=names[1])),
                        about=f'sizes {_sizes(params)}, loss "{loss}", {about}')
    before = sample_loss(weights, biases, x, label, loss)
    relation = Holds(names, f"{prefix}the step must lower the loss of that sample",
                     predicate=_lowered(x, label, loss, before), message="the loss did not go down")
    return scenario, relation


def _epoch_case(params, loss, X, y, about, learning_rate=None):
    weights, biases = params
    rate = 0.003 if learning_rate is None else learning_rate
    expected = epoch_trained(weights, biases, X, y, loss, rate)
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    return Scenario((*_net(_sizes(params), loss, params), Call("train_one_epoch", (X, y), kwargs),
                     Observe("weights", expect=_arrays(expected[0], TRAJECTORY)),
                     Observe("biases", expect=_arrays(expected[1], TRAJECTORY))),
                    about=f'sizes {_sizes(params)}, loss "{loss}", {about}')


def _train_test(steps, epochs):
    built = [_step_case(*args, prefix=f"case {i}: ", **kwargs) for i, (args, kwargs) in enumerate(steps)]
    return HiddenTest([*(scenario for scenario, _ in built),
                       *(_epoch_case(*args, **kwargs) for args, kwargs in epochs)],
                      relations=tuple(relation for _, relation in built))


# ------------------------------------------------------------------ train_minibatch


def _minibatch_case(params, loss, X, y, about, learning_rate, epochs, batch_size, seed=None):
    weights, biases = params
    losses, trained_weights, trained_biases = minibatch_trained(weights, biases, X, y, loss, learning_rate, epochs,
                                                                batch_size, 0 if seed is None else seed)
    kwargs = {"learning_rate": learning_rate, "epochs": epochs, "batch_size": batch_size,
              **({} if seed is None else {"seed": seed})}
    return Scenario((*_net(_sizes(params), loss, params),
                     Call("train_minibatch", (X, y), kwargs, expect=Close(losses, **TRAJECTORY, dtype_kind="f")),
                     Observe("weights", expect=_arrays(trained_weights, TRAJECTORY)),
                     Observe("biases", expect=_arrays(trained_biases, TRAJECTORY))),
                    about=f'sizes {_sizes(params)}, loss "{loss}", {about}')


# ------------------------------------------------------------------ capacity_net


#: helpers.HIDDEN_ACTIVATIONS by their definitions, in decimals (tests/test_helpers.py checks that the names
#: and the values agree): capacity_net's network is run here, never in the kernel.
ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: max(z, Decimal(0)),
    "sigmoid": sigmoid_decimal,
    "tanh": lambda z: 2 * sigmoid_decimal(2 * z) - 1,
    "abs": abs,
    "square": lambda z: z * z,
}


class CapacityOf(Expectation):
    """capacity_net(beta0, beta1)'s parts (g, W1, b1, w2, b2) judged by running that network here, entry by
    entry in decimals: g a name of ACTIVATIONS, W1 (2, 2), b1 (2,), w2 (2,), b2 one number, and the output
    unit's score g(x W1 + b1) w2 + b2 equal to beta0 + beta1 x1 x2 at every row x of X, so that sigmoid of
    it is the target."""

    SHAPES = {"W1": [(2, 2)], "b1": [(2,)], "w2": [(2,)], "b2": [(), (1,)]}

    def __init__(self, X, beta0, beta1):
        self.X, self.beta0, self.beta1 = np.asarray(X, dtype=np.float64), float(beta0), float(beta1)

    def check(self, outcome):
        return _problem_of(outcome, "a tuple (g, W1, b1, w2, b2)") or self._problem(outcome.value)

    def _problem(self, parts):
        if not isinstance(parts, (tuple, list)) or len(parts) != 5:
            return "did not return a tuple (g, W1, b1, w2, b2) of five parts"
        g, arrays = parts[0], {}
        if not isinstance(g, str) or g not in ACTIVATIONS:
            got = repr(g[:40]) if isinstance(g, str) else f"a {getattr(g, 'type_name', type(g).__name__)}"
            return f"g: expected the name of a hidden activation ({', '.join(map(repr, ACTIVATIONS))}), got {got}"
        for key, value in zip(self.SHAPES, parts[1:]):
            try:
                array = real(value)
            except (TypeError, ValueError):  # a string, a ragged list, complex numbers, an unrecordable object
                return f"{key}: not an array of real numbers"
            if array.shape not in self.SHAPES[key]:
                return f"{key}: wrong shape: expected {self.SHAPES[key][0]}, got {array.shape}"
            if not np.all(np.isfinite(array)):
                return f"{key}: not finite"
            arrays[key] = array
        W1, b1, w2 = (_decimal(arrays[key].tolist()) for key in ("W1", "b1", "w2"))
        b2 = Decimal(float(arrays["b2"].reshape(())))  # shape () or (1,)
        wrong = 0
        with decimal.localcontext(MODERATE):
            for x1, x2 in _decimal(self.X.tolist()):
                z = [x1 * W1[0][j] + x2 * W1[1][j] + b1[j] for j in range(2)]
                score = sum(ACTIVATIONS[g](z[j]) * w2[j] for j in range(2)) + b2
                target = Decimal(self.beta0) + Decimal(self.beta1) * x1 * x2
                wrong += abs(score - target) > Decimal("1e-9") * (1 + abs(target))
        if wrong:
            return (f"the output is not sigmoid(beta0 + beta1 x1 x2) at {wrong} of {len(self.X)} inputs "
                    f"(the score sigmoid is applied to, {g}(X @ W1 + b1) @ w2 + b2, differs from beta0 + beta1 x1 x2)")
        return None


def _capacity_case(beta0, beta1, X, about):
    return Case("capacity_net", (beta0, beta1), expect=CapacityOf(X, beta0, beta1), about=about)


def reference_capacity_net(beta0, beta1):
    """Another network of the same capacity (the stand-in for the visible checks): hidden units
    ((x1 + x2) / 2)^2 and ((x1 - x2) / 2)^2, whose difference is x1 x2."""
    W1 = np.array([[0.5, 0.5], [0.5, -0.5]])
    return "square", W1, np.zeros(2), np.array([beta1, -beta1], dtype=float), float(beta0)


# ------------------------------------------------------------------ the instances

# forward and feed_forward
SMALL = _params((3, 5, 4))
DEEP = _params((4, 3, 5, 2))
SHALLOW = _params((3, 4))  # L = 1: no hidden layer, the softmax alone
WIDE = _params((5, 6, 2, 3), scale=3.0)
LOUD = _with_output_bias(_params((4, 3, 3)), [800.0, 0.0, -800.0])  # output scores of about +-800
TIED = _with_output_bias(_params((3, 4, 3)), [0.0, 0.0, 0.0], zero_last=True)  # a uniform output
TIED_LATE = _with_output_bias(_params((3, 4, 3)), [-1.0, 2.0, 2.0], zero_last=True)  # classes 1 and 2 tie
X_SMALL, _ = _samples(3, 4, 4)
X_DEEP, _ = _samples(4, 5, 2)
X_WIDE, _ = _samples(5, 6, 3)
X_LOUD, _ = _samples(4, 3, 3)
INTEGER_X = np.array([2, -1, 0, 3])
FF_BASIC = _params((4, 5, 3))
FF_X, _ = _samples(4, 6, 3)
FF_Y = _labels_for(FF_BASIC, FF_X, np.array([True, False, True, True, False, False]))
DEEP_Y = _labels_for(DEEP, X_DEEP, np.array([True, True, False, True, False]))
# backward: every layer of a distinct size, so that a transposed gradient has the wrong shape
BW_BASIC = _params((4, 3, 2))
BW_DEEP = _params((3, 4, 5, 2))
BW_WIDE = _params((2, 5, 3), scale=2.5)
X_BW = rng.normal(size=4).round(4)
X_BW_DEEP = rng.normal(size=3).round(4)
X_BW_WIDE = rng.normal(size=2).round(4)
# training
TR_BASIC = _params((4, 3, 2))
TR_DEEP = _params((3, 4, 5, 2))
TR_MSE = _params((3, 5, 4))
X_TR, Y_TR = _samples(4, 3, 2)
X_TR_DEEP, Y_TR_DEEP = _samples(3, 5, 2)
X_TR_MSE, Y_TR_MSE = _samples(3, 6, 4)
MB_BASIC = _params((4, 3, 3))
MB_DEEP = _params((3, 4, 5, 2))
X_MB, Y_MB = _samples(4, 10, 3)
X_MB_DEEP, Y_MB_DEEP = _samples(3, 7, 2)
# capacity
PLANE = rng.uniform(-2, 2, size=(40, 2)).round(4)
FAR = rng.uniform(-10, 10, size=(30, 2)).round(3)
SPECIAL = np.array([[0.0, 0.0], [1.5, 1.5], [2.0, -2.0], [0.0, 3.0], [-4.0, 0.0], [1.0, -1.0]])

TESTS = {
    # ---------------------------------------------------------------- __init__
    "test_net_init_basic": _init_test([
        _statistics_case((200, 400, 50), 1, "sizes (200, 400, 50), seed 1: the variance of each layer"),
        _stored_case((6, 5, 4), {"loss": "mse", "seed": 4}, "every constructor argument stored under its own name",
                     {"sizes": (6, 5, 4), "loss": "mse", "seed": 4}),
        Scenario((New("SigmoidNet", ((3, 2),), {"loss": "hinge"},
                      expect=Raises("ValueError", 'loss must be "ce" or "mse"')),), about='loss="hinge"'),
    ], seeding=[((5, 4, 3), 2, 3)]),
    "test_net_init_hidden": _init_test([
        _statistics_case((300, 150, 600), 7, "sizes (300, 150, 600), seed 7: the variance of each layer"),
        _drawn_case((5, 4, 3), 3, "sizes (5, 4, 3), seed 3"),
        _drawn_case((3, 6, 2, 4), 11, "sizes (3, 6, 2, 4), seed 11"),
        _drawn_case((4, 3), None, "sizes (4, 3), the default seed"),
        _stored_case([7, 3, 2], {}, "sizes given as a list, the default loss and seed",
                     {"sizes": (7, 3, 2), "loss": "ce", "seed": 0}),
        Scenario((New("SigmoidNet", ((3, 4, 2),), {"loss": "CE"},
                      expect=Raises("ValueError", 'only "ce" and "mse" are losses')),), about='loss="CE"'),
    ], seeding=[((4, 6, 2), 0, 1), ((3, 3, 3, 3), 9, 10)]),
    # ---------------------------------------------------------------- forward
    "test_net_forward_basic": HiddenTest([
        _forward_case(SMALL, X_SMALL[0], "one sample"),
        _forward_case(SMALL, X_SMALL, "a batch of 4 rows"),
    ]),
    "test_net_forward_hidden": HiddenTest([
        _forward_case(DEEP, X_DEEP[1], "three layers, one sample"),
        _forward_case(DEEP, X_DEEP, "three layers, a batch of 5 rows"),
        _forward_case(DEEP, X_DEEP[:1], "a batch of one row (stays 2-D)"),
        _forward_case(SHALLOW, X_SMALL, "one layer (no hidden layer), a batch"),
        _forward_case(SHALLOW, X_SMALL[2], "one layer (no hidden layer), one sample"),
        _forward_case(WIDE, X_WIDE, "weights of size ~3, a batch"),
        _forward_case(DEEP, INTEGER_X, "an integer sample: a_0 as float64"),
        _forward_case(LOUD, X_LOUD, "output scores of about +-800 (no RuntimeWarning)", stable=True),
    ]),
    # ---------------------------------------------------------------- feed_forward_sample, feed_forward_dataset
    "test_net_feed_forward_basic": HiddenTest([
        _sample_case(FF_BASIC, "ce", FF_X[0], int(FF_Y[0]), "one sample"),
        _sample_case(FF_BASIC, "mse", FF_X[1], int(FF_Y[1]), "one sample"),
        _dataset_case(FF_BASIC, "ce", FF_X, FF_Y, "6 samples, 3 of them right"),
        _dataset_case(FF_BASIC, "mse", FF_X, FF_Y, "6 samples, 3 of them right"),
    ]),
    "test_net_feed_forward_hidden": HiddenTest([
        _sample_case(DEEP, "ce", X_DEEP[2], int(DEEP_Y[2]), "three layers"),
        _sample_case(DEEP, "mse", X_DEEP[3], np.int64(DEEP_Y[3]), "three layers, a numpy integer label"),
        _sample_case(SHALLOW, "mse", X_SMALL[0], 3, "one layer (no hidden layer)"),
        _sample_case(TIED, "ce", X_SMALL[1], 2, "every output equal: the guess is the first class"),
        _sample_case(TIED_LATE, "mse", X_SMALL[2], 0, "classes 1 and 2 tie above class 0"),
        _sample_case(LOUD, "ce", X_LOUD[0], 2, "output scores of about +-800: a_L[y] underflows to 0"),
        _sample_case(LOUD, "mse", X_LOUD[1], 2, "output scores of about +-800"),
        _dataset_case(DEEP, "ce", X_DEEP, DEEP_Y, "three layers, 5 samples"),
        _dataset_case(DEEP, "mse", X_DEEP, DEEP_Y, "three layers, 5 samples"),
        _dataset_case(FF_BASIC, "ce", FF_X[:1], FF_Y[:1], "one sample"),
        _dataset_case(LOUD, "ce", X_LOUD, np.array([2, 1, 0]), "output scores of about +-800, labels far below"),
        _dataset_case(TIED, "ce", X_SMALL, np.array([0, 1, 0, 2]), "ties: the first class is the guess"),
    ]),
    # ---------------------------------------------------------------- backward
    "test_net_backward_basic": HiddenTest([
        _backward_case(BW_BASIC, loss, X_BW, 0, "one sample, labelled other than the prediction") for loss in LOSSES
    ]),
    "test_net_backward_hidden": HiddenTest([
        *[_backward_case(BW_DEEP, loss, X_BW_DEEP, label, f"three layers, labelled {kind} the prediction")
          for loss in LOSSES for label, kind in ((0, "as"), (1, "other than"))],
        *[_backward_case(BW_WIDE, loss, X_BW_WIDE, 2, "weights of size ~2.5") for loss in LOSSES],
        *[_backward_case(SHALLOW, loss, X_SMALL[3], 1, "one layer (no hidden layer)") for loss in LOSSES],
        _backward_case(LOUD, "mse", X_LOUD[2], 2, "output scores of about +-800"),
        _backward_case(DEEP, "ce", INTEGER_X, np.int64(1), "an integer sample, a numpy integer label"),
    ]),
    # ---------------------------------------------------------------- train_one_sample, train_one_epoch
    "test_net_train_basic": _train_test(
        steps=[((TR_BASIC, "ce", X_TR[0], int(Y_TR[0]), "one step at learning rate 0.1"),
                {"learning_rate": 0.1})],
        epochs=[((TR_BASIC, "ce", X_TR, Y_TR, "an epoch of 3 rows at learning rate 0.2"),
                 {"learning_rate": 0.2})]),
    "test_net_train_hidden": _train_test(
        steps=[((TR_DEEP, "mse", X_TR_DEEP[0], int(Y_TR_DEEP[0]), "three layers, learning rate 0.5"),
                {"learning_rate": 0.5}),
               ((TR_MSE, "mse", X_TR_MSE[0], int(Y_TR_MSE[0]), "the default learning rate"), {}),
               ((SHALLOW, "ce", X_SMALL[1], 0, "one layer (no hidden layer), learning rate 1"),
                {"learning_rate": 1.0})],
        epochs=[((TR_DEEP, "ce", X_TR_DEEP, Y_TR_DEEP, "an epoch of 5 rows, learning rate 0.5: rows in order"),
                 {"learning_rate": 0.5}),
                ((TR_MSE, "mse", X_TR_MSE, Y_TR_MSE, "an epoch of 6 rows, the default learning rate"), {})]),
    # ---------------------------------------------------------------- train_minibatch
    "test_net_minibatch_basic": HiddenTest([
        _minibatch_case(MB_BASIC, "ce", X_MB, Y_MB, "10 rows, batches of 5, 2 epochs", 0.5, 2, 5, seed=1),
        _minibatch_case(MB_BASIC, "mse", X_MB, Y_MB, "10 rows in one batch, 1 epoch", 1.0, 1, 10, seed=2),
    ]),
    "test_net_minibatch_hidden": HiddenTest([
        _minibatch_case(MB_BASIC, "ce", X_MB, Y_MB, "10 rows, batches of 4 (a last batch of 2), 3 epochs",
                        0.5, 3, 4, seed=3),
        _minibatch_case(MB_DEEP, "mse", X_MB_DEEP, Y_MB_DEEP, "three layers, 7 rows, batches of 3, 2 epochs",
                        1.0, 2, 3, seed=4),
        _minibatch_case(MB_DEEP, "ce", X_MB_DEEP, Y_MB_DEEP, "batch_size 16 > 7 rows: one batch per epoch",
                        0.5, 2, 16, seed=5),
        _minibatch_case(MB_BASIC, "mse", X_MB, Y_MB, "batches of one row, 1 epoch", 0.2, 1, 1, seed=6),
        _minibatch_case(MB_BASIC, "ce", X_MB, Y_MB, "batches of 3, 2 epochs, the default seed", 0.5, 2, 3),
    ]),
    # ---------------------------------------------------------------- capacity_net
    "test_capacity_basic": HiddenTest([
        _capacity_case(1.5, -0.75, PLANE, "beta = (1.5, -0.75), 40 random inputs"),
    ]),
    "test_capacity_hidden": HiddenTest([
        _capacity_case(0.0, 1.0, PLANE, "beta = (0, 1), 40 random inputs"),
        _capacity_case(-2.5, 4.0, FAR, "inputs up to 10 in size"),
        _capacity_case(3.0, 0.0, PLANE, "beta1 = 0: a constant output"),
        _capacity_case(0.25, -10.0, SPECIAL, "inputs on the axes and the diagonals"),
        _capacity_case(2, -3, PLANE[:1], "integer betas, one input"),
        _capacity_case(np.float64(-0.5), np.float64(0.3), FAR, "numpy betas"),
    ]),
}

# every decimal gradient above agrees with the chain rule the trajectories' reference uses
for _weights, _biases, _x, _label, _loss, (_dW, _db) in _checked:
    _closed = _gradient64(_weights, _biases, np.asarray(_x, dtype=np.float64), int(_label), _loss)
    if not all(np.allclose(c, d, rtol=1e-9, atol=1e-12) for c, d in zip(_closed[0] + _closed[1], _dW + _db)):
        raise ValueError("_gradient64 disagrees with the decimal centered differences")


class ReferenceSigmoidNet:
    """The notebook's class with every method computed by this module's float64 references (the chain
    rule checked above against the decimal differences): the stand-in that tests/test_visible_checks.py
    runs the visible checks with."""

    def __init__(self, sizes=(784, 32, 32, 10), loss="ce", seed=0):
        if loss not in LOSSES:
            raise ValueError(f'loss must be "ce" or "mse", got {loss!r}')
        self.sizes, self.loss, self.seed = tuple(sizes), loss, seed
        self.weights, self.biases = drawn(self.sizes, seed)

    def _params(self):
        return ([np.asarray(W, dtype=np.float64) for W in self.weights],
                [np.asarray(b, dtype=np.float64) for b in self.biases])

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        rows = [_forward64(*self._params(), row) for row in x.reshape(-1, x.shape[-1])]
        L = len(self.weights)
        zs = [np.array([r[0][l] for r in rows]).reshape(x.shape[:-1] + (-1,)) for l in range(L)]
        activations = [x] + [np.array([r[1][l + 1] for r in rows]).reshape(x.shape[:-1] + (-1,)) for l in range(L)]
        return zs, activations

    def feed_forward_sample(self, x, y):
        probabilities = _forward64(*self._params(), x)[1][-1]
        return _loss64(*self._params(), x, int(y), self.loss), np.eye(probabilities.size)[np.argmax(probabilities)]

    def feed_forward_dataset(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        guesses = [np.argmax(_forward64(*self._params(), x)[1][-1]) for x in X]
        return _dataset_loss64(*self._params(), X, y, self.loss), float(np.mean(np.array(guesses) == np.asarray(y)))

    def backward(self, x, y):
        return _gradient64(*self._params(), np.asarray(x, dtype=np.float64), int(y), self.loss)

    def train_one_sample(self, x, y, learning_rate=0.003):
        self.weights, self.biases = _stepped(*self._params(), self.backward(x, y), learning_rate)

    def train_one_epoch(self, X, y, learning_rate=0.003):
        self.weights, self.biases = epoch_trained(*self._params(), np.asarray(X, dtype=np.float64), y, self.loss,
                                                  learning_rate)

    def train_minibatch(self, X, y, learning_rate=0.5, epochs=1, batch_size=32, seed=0):
        losses, self.weights, self.biases = minibatch_trained(*self._params(), np.asarray(X, dtype=np.float64),
                                                              np.asarray(y), self.loss, learning_rate, epochs,
                                                              batch_size, seed)
        return losses


#: The reference each graded name's hidden expectations are computed with (tests/test_visible_checks.py).
REFERENCES = {"SigmoidNet": ReferenceSigmoidNet, "capacity_net": reference_capacity_net}

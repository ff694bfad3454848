"""Plausible wrong answers to assignment 02, each of which must lose points.

The test suite grades the solution with each bug applied, end to end through
nbgrader, and checks that every test cell in ``loses`` scores 0 while the
rest still score full marks. A bug that only the hidden tests catch has only
``test_*_hidden`` in ``loses``: that is the proof the hidden tests earn their points.

Later answers call earlier ones (c1 calls sigmoid, c2 calls softplus, ...).
The hidden tests keep the tails where a merely naive earlier function is still
exact and silent, so the naive bugs below lose their own cells and nothing
else. Where stability is the point of an exercise (sigmoid, softplus, c2), the
visible check fails on a RuntimeWarning, so the naive formula loses the basic
cell too; the other naive formulas (sigmoid' as a quotient, log instead of
log1p, ...) only the hidden tests catch. A bug that makes an earlier function plainly wrong
(sigmoid_mirrored, softplus_drops_tail) loses the cells of every answer that
reuses it, and lists them.
"""

from autograder.submissions import Bug


def _both(name):
    return (f"test_{name}_basic", f"test_{name}_hidden")


def _hidden(name):
    return (f"test_{name}_hidden",)


BUGS = [
    # ---------------------------------------------------------------- sigmoid and softplus
    Bug("sigmoid_naive", "sigmoid",
        "e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n    out = np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "out = 1 / (1 + np.exp(-z))",
        _both("sigmoid"), "the textbook formula: exp(1000) overflows at z = -1000 (a RuntimeWarning, which the "
        "visible check fails), and sigmoid(-720) comes out 0 instead of 1.9e-313"),
    Bug("sigmoid_mirrored", "sigmoid",
        "out = np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "out = np.where(z >= 0, e / (1 + e), 1 / (1 + e))",
        _both("sigmoid") + _hidden("sigmoid_prime") + _both("c1") + _both("c1_prime") + _both("c1_second")
        + _both("c2_prime_w"), "swaps the two branches: computes sigmoid(-z), wrong wherever it is reused "
        "(sigma (1 - sigma) is symmetric, so only the tail where sigmoid_prime is tiny notices, and c2_second_w "
        "survives it)"),
    Bug("sigmoid_prime_wrong_sign", "sigmoid_prime",
        "out = s * (1 - s)", "out = s * (s - 1)",
        _both("sigmoid_prime"), "sigma (sigma - 1): the derivative of an increasing function comes out negative"),
    Bug("sigmoid_prime_naive_quotient", "sigmoid_prime",
        "s = sigmoid(z)\n    out = s * (1 - s)", "out = np.exp(-z) / (1 + np.exp(-z)) ** 2",
        _hidden("sigmoid_prime"), "e^-z / (1 + e^-z)^2: the square overflows for z < -355"),
    Bug("softplus_drops_tail", "softplus",
        "out = np.maximum(z, 0) + tail", "out = np.maximum(z, 0)",
        _both("softplus") + _both("c2"), "keeps only the asymptote max(z, 0): ReLU, not softplus (c2 reuses it)"),
    Bug("softplus_naive", "softplus",
        "out = np.maximum(z, 0) + tail", "out = np.log(1 + np.exp(z))",
        _both("softplus"), "ln(1 + e^z) as written: inf and a RuntimeWarning at z = 1000"),
    Bug("softplus_log_not_log1p", "softplus",
        "np.log1p(np.exp(-np.abs(z)))", "np.log(1 + np.exp(-np.abs(z)))",
        _hidden("softplus"), "1 + e^-40 rounds to 1, so softplus(-40) comes out 0 instead of 4e-18"),
    # ---------------------------------------------------------------- kinks
    Bug("sign_plus_one_at_zero", "sign",
        "out = (z > 0).astype(np.float64) - (z < 0).astype(np.float64)",
        "out = (z >= 0).astype(np.float64) - (z < 0).astype(np.float64)",
        _hidden("sign"), "sign(0) = +1"),
    Bug("sign_calls_np_sign", "sign",
        "out = (z > 0).astype(np.float64) - (z < 0).astype(np.float64)", "out = np.sign(z)",
        _both("sign"), "calls np.sign, which the exercise asks to build from indicators"),
    Bug("sign_divides_by_abs", "sign",
        "out = (z > 0).astype(np.float64) - (z < 0).astype(np.float64)",
        "out = np.divide(z, np.abs(z), out=np.zeros_like(z), where=z != 0)",
        _both("sign"), "z / |z|: right values, but not built from indicators"),
    Bug("sign_int_dtype", "sign",
        "out = (z > 0).astype(np.float64) - (z < 0).astype(np.float64)",
        "out = (z > 0).astype(int) - (z < 0).astype(int)",
        _hidden("sign"), "right values as an integer array, not the float64 the exercise asks for"),
    Bug("sign_positive_side_only", "sign",
        "out = (z > 0).astype(np.float64) - (z < 0).astype(np.float64)", "out = (z > 0).astype(np.float64)",
        _both("sign"), "1[z > 0] alone: the derivative of ReLU, not of |z| (forgets the negative side)"),
    # ---------------------------------------------------------------- c1: squared error on a sigmoid
    Bug("c1_forgets_sigmoid", "c1",
        "out = (sigmoid(x) - 1.0) ** 2", "out = (x - 1.0) ** 2",
        _both("c1"), "squares the logit's error instead of the probability's"),
    Bug("c1_prime_no_chain_rule", "c1_prime",
        "out = -2 * s * (1 - s) ** 2  # 2 (s - 1) * s (1 - s)", "out = 2 * (s - 1)",
        _both("c1_prime"), "differentiates the square but forgets the inner derivative sigma'"),
    Bug("c1_prime_sign", "c1_prime",
        "out = -2 * s * (1 - s) ** 2  # 2 (s - 1) * s (1 - s)", "out = 2 * s * (1 - s) ** 2",
        _both("c1_prime"), "(1 - s) instead of (s - 1): the slope points uphill"),
    Bug("c1_second_drops_product_term", "c1_second",
        "out = 2 * s * (1 - s) ** 2 * (3 * s - 1)", "out = -2 * s * (1 - s) ** 3",
        _both("c1_second"), "product rule with one term missing: c1 would look concave everywhere"),
    Bug("c1_second_sign_slip", "c1_second",
        "(3 * s - 1)", "(1 - 3 * s)",
        _both("c1_second"), "a sign slip: convex and concave regions swapped"),
    # ---------------------------------------------------------------- c2: cross-entropy
    Bug("c2_naive_logs", "c2",
        "out = y * softplus(-t) + (1 - y) * softplus(t)",
        "out = -(y * np.log(sigmoid(t)) + (1 - y) * np.log(1 - sigmoid(t)))",
        _both("c2"), "the two logarithms as written: ln 0 = -inf (and 0 * -inf = nan) once |wx| > 37, "
        "with RuntimeWarnings"),
    Bug("c2_labels_swapped", "c2",
        "out = y * softplus(-t) + (1 - y) * softplus(t)", "out = y * softplus(t) + (1 - y) * softplus(-t)",
        _both("c2"), "treats y = 1 as the negative class"),
    Bug("c2_averages", "c2",
        "out = y * softplus(-t) + (1 - y) * softplus(t)", "out = np.mean(y * softplus(-t) + (1 - y) * softplus(t))",
        _both("c2"), "the mean over all combinations (a dataset's loss) instead of one loss per combination"),
    Bug("c2_prime_sign", "c2_prime_w",
        "out = (sigmoid(w * x) - y) * x", "out = (y - sigmoid(w * x)) * x",
        _both("c2_prime_w"), "label minus prediction: the gradient points uphill"),
    Bug("c2_prime_no_chain_rule", "c2_prime_w",
        "out = (sigmoid(w * x) - y) * x", "out = sigmoid(w * x) - y",
        _both("c2_prime_w"), "forgets the factor x of d(wx)/dw"),
    Bug("c2_second_x_not_squared", "c2_second_w",
        "x ** 2", "x",
        _hidden("c2_second_w"), "chain rule applied once: x instead of x^2 (right only for x = 1)"),
    Bug("c2_second_ignores_label_shape", "c2_second_w",
        "out[...] =", "out =",
        _hidden("c2_second_w"), "y drops out of the formula, and with it y's dimensions of the broadcast shape"),
    Bug("c2_second_wrong_sign", "c2_second_w",
        "s * (1 - s) * x ** 2", "s * (s - 1) * x ** 2",
        _both("c2_second_w"), "sigma (sigma - 1): would make cross-entropy concave"),
    # ---------------------------------------------------------------- the ReLU unit
    Bug("relu_unit_dw_is_w", "relu_unit_grad",
        "df_db, df_dw = active, active * x", "df_db, df_dw = active, active * w",
        _both("relu_unit_grad"), "d(x . w)/dw is x, not w"),
    Bug("relu_unit_no_gate", "relu_unit_grad",
        "active = float(b + np.dot(x, w) > 0)  # relu'(z), 0 at the kink", "active = 1.0",
        _hidden("relu_unit_grad"), "differentiates b + x . w and forgets the ReLU: an inactive unit still gets gradient"),
    Bug("relu_unit_one_at_kink", "relu_unit_grad",
        "(b + np.dot(x, w) > 0)", "(b + np.dot(x, w) >= 0)",
        _hidden("relu_unit_grad"), "relu'(0) = 1 at the kink, against the notebook's convention 0"),
    # ---------------------------------------------------------------- f, its gradient and Hessian, classify
    Bug("grad_f_swapped", "grad_f",
        "g = np.array([2 * x * y + y ** 2 - 6 * y, x ** 2 + 2 * x * y - 6 * x])",
        "g = np.array([x ** 2 + 2 * x * y - 6 * x, 2 * x * y + y ** 2 - 6 * y])",
        _both("grad_f"), "(df/dy, df/dx)"),
    Bug("grad_f_drops_constant_factor", "grad_f",
        "2 * x * y + y ** 2 - 6 * y", "2 * x * y + y ** 2 - 6",
        _both("grad_f"), "d(6xy)/dx taken as 6"),
    Bug("hessian_f_drops_minus_six", "hessian_f",
        "2 * x + 2 * y - 6", "2 * x + 2 * y",
        _both("hessian_f"), "the mixed derivative without the -6"),
    Bug("hessian_f_diagonal_swapped", "hessian_f",
        "H = np.array([[2 * y, 2 * x + 2 * y - 6], [2 * x + 2 * y - 6, 2 * x]])",
        "H = np.array([[2 * x, 2 * x + 2 * y - 6], [2 * x + 2 * y - 6, 2 * y]])",
        _both("hessian_f"), "f_xx and f_yy swapped"),
    Bug("classify_det_sign_slip", "classify",
        "det = H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]", "det = H[0, 0] * H[1, 1] + H[0, 1] * H[1, 0]",
        _both("classify"), "ad + bc: saddles with a large off-diagonal look like extrema"),
    Bug("classify_det_negated", "classify",
        "det = H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]", "det = H[0, 1] * H[1, 0] - H[0, 0] * H[1, 1]",
        _both("classify"), "bc - ad: minimum and saddle swapped"),
    Bug("classify_no_degenerate_check", "classify",
        "    if det == 0:\n        raise ValueError(\"det H = 0: the second-derivative test is inconclusive\")\n", "",
        _hidden("classify"), "calls a degenerate Hessian a minimum or maximum instead of raising"),
    Bug("classify_diagonal_rule", "classify",
        "    if det < 0:\n        kind = \"saddle\"\n    elif H[0, 0] > 0:",
        "    if H[0, 0] * H[1, 1] <= 0:\n        kind = \"saddle\"\n    elif H[0, 0] > 0:",
        _hidden("classify"), "looks only at the diagonal: [[1, 3], [3, 1]] is a saddle, not a minimum"),
    # ---------------------------------------------------------------- gradient descent
    Bug("gd_ascent", "gd_quadratic",
        "w = w - eta * np.array([a * w[0], b * w[1]])", "w = w + eta * np.array([a * w[0], b * w[1]])",
        _both("gd_quadratic"), "steps up the gradient"),
    Bug("gd_no_curvature", "gd_quadratic",
        "w = w - eta * np.array([a * w[0], b * w[1]])", "w = w - eta * w",
        _both("gd_quadratic"), "uses w as the gradient, forgetting a and b"),
    Bug("gd_row_off_by_one", "gd_quadratic",
        "traj[t + 1] = w", "traj[t] = w",
        _both("gd_quadratic"), "overwrites the starting point and leaves the last row empty"),
    Bug("rho_plus", "contraction_factors",
        "rho1, rho2 = 1 - eta * a, 1 - eta * b", "rho1, rho2 = 1 + eta * a, 1 + eta * b",
        _both("contraction_factors"), "rho = 1 + eta a: a sign slip in the update"),
    Bug("rho_absolute", "contraction_factors",
        "rho1, rho2 = 1 - eta * a, 1 - eta * b", "rho1, rho2 = abs(1 - eta * a), abs(1 - eta * b)",
        _hidden("contraction_factors"), "drops the sign that says the coordinate zig-zags"),
    Bug("eta_one_over_max", "max_stable_eta",
        "eta = 2.0 / max(a, b)", "eta = 1.0 / max(a, b)",
        _both("max_stable_eta"), "1/max(a, b): the rate that kills the stiff coordinate in one step, not the limit"),
    Bug("eta_two_over_min", "max_stable_eta",
        "eta = 2.0 / max(a, b)", "eta = 2.0 / min(a, b)",
        _both("max_stable_eta"), "the limit of the flat direction: the stiff one diverges"),
    Bug("eta_two_over_a", "max_stable_eta",
        "eta = 2.0 / max(a, b)", "eta = 2.0 / a",
        _hidden("max_stable_eta"), "assumes a is the larger curvature"),
    Bug("eta_optimal_rate", "max_stable_eta",
        "eta = 2.0 / max(a, b)", "eta = 2.0 / (a + b)",
        _both("max_stable_eta"), "the best fixed rate, not the largest stable one"),
    Bug("steps_off_by_one", "steps_to_tolerance",
        "steps = t\n", "steps = t + 1\n",
        _both("steps_to_tolerance"), "counts the check after the last step as a step"),
    Bug("steps_first_coordinate_only", "steps_to_tolerance",
        "if math.hypot(w1, w2) <= tol:", "if abs(w1) <= tol:",
        _hidden("steps_to_tolerance"), "stops when the first coordinate is small, even if the second is not"),
    Bug("steps_ignores_max_steps", "steps_to_tolerance",
        "    for t in range(max_steps + 1):\n        if math.hypot(w1, w2) <= tol:\n            steps = t\n"
        "            break\n        w1, w2 = r1 * w1, r2 * w2\n    else:\n"
        "        raise ValueError(f\"not within tol = {tol} after max_steps = {max_steps} steps\")\n",
        "    while math.hypot(w1, w2) > tol:\n        w1, w2 = r1 * w1, r2 * w2\n        steps += 1\n",
        _hidden("steps_to_tolerance"), "loops until tol whatever max_steps says: a slow rate returns millions "
        "instead of raising ValueError"),
    Bug("steps_sentinel_for_divergence", "steps_to_tolerance",
        "raise ValueError(f\"eta = {eta} does not converge for a = {a}, b = {b}: |rho| >= 1\")", "return -1",
        _hidden("steps_to_tolerance"), "returns -1 for a divergent rate instead of raising ValueError"),
]

"""Shared helpers for the course notebooks: data, checks, gradients, plots.

Every notebook does ``from helpers import ...``. You may read all of this
file; it contains no answers. Sections:

* data: the real MNIST and Fashion-MNIST images shipped in ``data/``, and the seeded
  toy problem ``two_circles``;
* checks: the visible tests in the notebooks (``check_close`` and friends);
* gradients: a centered-difference numerical gradient and ``rel_error``;
* ``two_unit_network``: the output of a tiny network handed in as its parts (assignment 06);
* plotting: ``show_images``, ``plot_decision_regions``;
* autograder probe: ``record_for_grader``, the one line in each hidden test cell.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import os
import pickle
import random
import signal
import urllib.request
import warnings
import zlib
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------- data
# Two real datasets ship in data/ as gzipped IDX files (the format of the
# original MNIST files): see data/README.md for where they come from. Every
# call reads the files again and returns fresh arrays: nothing is cached, so
# changing an array you got cannot change what the next call returns.

DATA_DIR_ENV = "COURSE_DATA_DIR"

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# SHA-256 of every data file, by path relative to data_dir().
SHA256 = {
    "mnist-10k/images-idx3-ubyte.gz": "3ec8f1f33bbb16ea01df6bf5cfe4bb49f4b31f6b898e38c71bfb8af417d1a1b8",
    "mnist-10k/labels-idx1-ubyte.gz": "ef16c0682860b320586563944959fb88a9b6452750c793586e4da533c6c33749",
    "fashion-mnist/train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "fashion-mnist/train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "fashion-mnist/t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}

_FIX = "restore it with `git checkout -- data/` (or a fresh copy of the course repository)"


class DataError(RuntimeError):
    """A data file is missing or corrupt; the message names the file and the fix."""


def data_dir() -> Path:
    """The folder holding the datasets: $COURSE_DATA_DIR if set, else data/ next to this file."""
    return Path(os.environ.get(DATA_DIR_ENV) or Path(__file__).resolve().parent / "data")


def verify(path):
    """Check the SHA-256 of ``path`` (a key of SHA256) against the table.

    Returns the full path, data_dir() / path; raises DataError if the file is missing or differs.
    """
    full = data_dir() / path
    if not full.is_file():
        raise DataError(f"data file {full} is missing; {_FIX}")
    digest = hashlib.sha256(full.read_bytes()).hexdigest()
    if digest != SHA256[path]:
        raise DataError(f"data file {full} is corrupt (SHA-256 {digest[:12]}..., "
                        f"expected {SHA256[path][:12]}...); {_FIX}")
    return full


def _parse_idx(raw, name):
    """Turn the bytes of an (unzipped) IDX file of uint8 into an array; see read_idx."""
    # Header: magic (2049 labels, 2051 images), then one big-endian int32 per dimension.
    magic = int.from_bytes(raw[:4], "big")
    ndim = {2049: 1, 2051: 3}.get(magic)
    if ndim is None:
        raise DataError(f"{name}: not an IDX file of uint8 labels or images (magic number {magic})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(raw) != offset + int(np.prod(shape)):
        raise DataError(f"{name}: header says shape {shape} = {int(np.prod(shape))} bytes, "
                        f"but the file holds {len(raw) - offset}; the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape).copy()


def read_idx(path):
    """Read a gzipped IDX file: images -> uint8 (n, rows, cols), labels -> uint8 (n,)."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # missing, not gzip, cut short, garbled
        raise DataError(f"cannot read {path}: {exc}") from exc
    return _parse_idx(raw, str(path))


def _load_pair(X, y, flatten):
    """Check that images X and labels y match; flatten X to (n, rows*cols) if asked."""
    if len(X) != len(y):
        raise DataError(f"{len(X)} images but {len(y)} labels")
    return (X.reshape(len(X), -1) if flatten else X), y


def load_mnist(flatten=False):
    """The 10,000 real MNIST digits shipped in data/mnist-10k/ (shuffled once, fixed order).

    Returns (X, y): X uint8 (10000, 28, 28) in 0..255, or (10000, 784) if flatten;
    y uint8 (10000,) in 0..9. Checksums are verified first.
    """
    images = verify("mnist-10k/images-idx3-ubyte.gz")
    labels = verify("mnist-10k/labels-idx1-ubyte.gz")
    return _load_pair(read_idx(images), read_idx(labels), flatten)


def load_fashion_mnist(split="train", flatten=False):
    """Fashion-MNIST (Zalando Research), the official split: "train" (60,000) or "test" (10,000).

    Returns (X, y): X uint8 (n, 28, 28) in 0..255, or (n, 784) if flatten;
    y uint8 (n,) in 0..9, names in FASHION_CLASSES. Checksums are verified first.
    """
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images = verify(f"fashion-mnist/{prefix}-images-idx3-ubyte.gz")
    labels = verify(f"fashion-mnist/{prefix}-labels-idx1-ubyte.gz")
    return _load_pair(read_idx(images), read_idx(labels), flatten)


def load_mnist_idx(images, labels, flatten=False):
    """Load any pair of gzipped IDX files: local paths or http(s)/file URLs. No checksum.

    For other copies of MNIST-like data, e.g. the full 60,000-image MNIST.
    Returns (X, y) like load_mnist: X uint8 (n, rows, cols) or (n, rows*cols), y uint8 (n,).
    """
    def read(source):
        if "://" not in str(source):
            return read_idx(source)
        try:
            with urllib.request.urlopen(str(source)) as response:
                raw = gzip.decompress(response.read())
        except (OSError, EOFError, zlib.error) as exc:  # URLError is an OSError
            raise DataError(f"cannot read {source}: {exc}") from exc
        return _parse_idx(raw, str(source))

    return _load_pair(read(images), read(labels), flatten)


def two_circles(n, noise=0.1, seed=0):
    """Two concentric noisy circles: a two-class problem that no linear classifier can solve.

    n: the number of points: n // 2 on the inner circle (radius 0.5, label 1) and the other
    n - n // 2 on the outer circle (radius 1, label 0), at uniformly random angles, each point then
    moved by Gaussian noise of standard deviation ``noise`` in both coordinates; the rows are in
    random order, so any slice holds both classes in about equal numbers.
    seed: seeds numpy's default_rng, which draws the angles, the noise and the order: the same
    (n, noise, seed) gives the same points.
    Returns (X, y): X (n, 2) float64, y (n,) int64 in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.zeros(n - n // 2, dtype=np.int64), np.ones(n // 2, dtype=np.int64)])
    radius = np.where(y == 1, 0.5, 1.0)
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    on_circle = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X = on_circle + rng.normal(0.0, noise, size=(n, 2))
    order = rng.permutation(n)
    return X[order], y[order]


# ---------------------------------------------------------------- checks you can run
# Every visible test in the notebooks is one of these calls. On success they
# print one line; on failure they raise AssertionError with a sentence that
# says what is wrong, so the failing cell tells you where to look: Jupyter
# shows that sentence under your own line, not the lines of this file.
# check_notebook runs a whole saved notebook and says which checks pass.


def _failed(message):
    """An AssertionError(message) that Jupyter shows without the frames of these checks.

    Each check sets ``__tracebackhide__ = True``, the marker IPython and pytest honour; but IPython
    still shows the innermost frame, which is always the check that raised. So the error renders
    itself: IPython calls an exception's ``_render_traceback_`` when it has one.
    """
    error = AssertionError(message)
    error._render_traceback_ = lambda: _student_traceback(error)
    return error


def _student_traceback(error):
    """IPython's usual lines for ``error``, its traceback cut after the last frame not hidden."""
    from types import TracebackType  # here, like IPython: only IPython calls this

    from IPython import get_ipython

    frames, tb = [], error.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    while frames and frames[-1].tb_frame.f_locals.get("__tracebackhide__"):
        frames.pop()
    shown = None
    for tb in reversed(frames):  # a copy: the real traceback stays whole for %debug
        shown = TracebackType(shown, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    return get_ipython().InteractiveTB.structured_traceback(type(error), error, shown)


def check_close(got, expected, what, rtol=1e-6, atol=1e-9, warnings="ignore"):
    """Check that ``got`` has the shape of ``expected`` and close values.

    got: an array or number (anything np.asarray accepts), or a function of no arguments that
        computes it, e.g. ``lambda: sigmoid(-1000.0)``, which the check calls.
    expected: the right value, an array or number.
    what: the call being checked, e.g. ``"one_hot([0, 2], 3)"``.
    rtol, atol: an entry passes when |got - expected| <= atol + rtol * |expected|.
    warnings: "fail" to fail on any warning while ``got()`` runs: numpy's RuntimeWarning for an
        overflow, a division by zero or an invalid operation means the computation left the
        floating-point numbers, even when the value it ends with happens to be right.
        "ignore" (the default) checks the value only.
    """
    __tracebackhide__ = True
    if warnings not in ("ignore", "fail"):
        raise ValueError(f"warnings must be 'ignore' or 'fail', not {warnings!r}")
    if warnings == "fail" and not callable(got):  # its warnings were emitted before the check ran
        raise TypeError("check_close(..., warnings='fail') needs got as a function, e.g. lambda: sigmoid(z)")
    if callable(got):
        got = _computed(got, what, fail_on_warnings=warnings == "fail")
    got_a, want = np.asarray(got), np.asarray(expected)
    if got_a.shape != want.shape:
        raise _failed(f"{what}: wrong shape: expected {want.shape}, got {got_a.shape}")
    if got_a.dtype.kind not in "biufc":
        raise _failed(f"{what}: returned {type(got).__name__}, expected numbers")
    if not np.allclose(got_a, want, rtol=rtol, atol=atol, equal_nan=True):
        raise _failed(f"{what}: {_how_wrong(got_a, want, rtol, atol)}\nexpected\n{want}\ngot\n{got_a}")
    print(f"ok  {what}")


def _computed(compute, what, fail_on_warnings):
    """compute(), with numpy's floating-point errors as warnings; with fail_on_warnings, the first one fails."""
    __tracebackhide__ = True
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        value = compute()
    if fail_on_warnings and caught:
        first = caught[0]
        raise _failed(f"{what}: emitted {first.category.__name__} ({first.message}): not numerically stable, "
                      f"there must be no overflow, inf or nan on the way, even if the value comes out right")
    return value


def _how_wrong(got, want, rtol, atol):
    """How many entries are wrong, and the largest error against what was allowed there."""
    kind = np.result_type(got.dtype, want.dtype, np.float64)
    error = np.abs(got.astype(kind) - want.astype(kind))
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    worst = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(error, nan=np.inf), -1)), got.shape)
    allowed = atol + rtol * np.abs(want[worst])
    where = f" at index {tuple(int(i) for i in worst)}" if got.ndim else ""
    count = f"wrong values in {int(bad.sum())} of {got.size} entries"
    if not np.isfinite(error[worst]):
        return f"{count}; got {got[worst]}{where}, expected {want[worst]}"
    return (f"{count}; the largest error is {error[worst]:.1e}{where}, "
            f"allowed there {allowed:.1e} (atol + rtol * |expected|)")


def check_rel_error(got, expected, what, below=1e-7):
    """Check that rel_error(got, expected) < below: the gradient check of the notebooks.

    got: your derivative or gradient (array or number); expected: the same quantity computed
    another way (usually numerical_gradient, centered differences), of the same shape.
    what: what is compared. below: the threshold; 1e-7 suits centered differences in float64
    (see rel_error). Prints the error on success too, so you see how far below it you are.
    """
    __tracebackhide__ = True
    got_a, want = np.asarray(got), np.asarray(expected)
    if got_a.shape != want.shape:
        raise _failed(f"{what}: wrong shape: expected {want.shape}, got {got_a.shape}")
    if got_a.dtype.kind not in "biuf":
        raise _failed(f"{what}: returned {type(got).__name__}, expected numbers")
    with np.errstate(invalid="ignore"):  # inf - inf is nan, and nan fails below
        error = rel_error(got_a, want)
    if not error < below:
        raise _failed(f"{what}: relative error {error:.1e}, should be below {below:.0e}")
    print(f"ok  {what}: relative error {error:.1e} (below {below:.0e})")


def check_equal(got, expected, what):
    """Check exact equality (labels, strings, integer results)."""
    __tracebackhide__ = True
    same = got == expected if isinstance(expected, str) else np.array_equal(got, expected)
    if not same:
        raise _failed(f"{what}: expected {expected!r}, got {got!r}")
    print(f"ok  {what}")


def check_dtype(got, kind, what):
    """Check the dtype kind of an array: kind is e.g. "f" (float), "u" (unsigned), "iu"."""
    __tracebackhide__ = True
    got_kind = np.asarray(got).dtype.kind
    if got_kind not in kind:
        raise _failed(f"{what}: wrong dtype {np.asarray(got).dtype} (expected kind {kind!r})")
    print(f"ok  {what}")


def check_raises(exception, fn, *args, what, **kwargs):
    """Check that ``fn(*args, **kwargs)`` raises ``exception`` (a clear error beats a wrong answer)."""
    __tracebackhide__ = True  # another exception from fn shows fn's frames, not this one
    try:
        fn(*args, **kwargs)
    except exception as exc:
        print(f"ok  {what} raises {exception.__name__}: {exc}")
        return
    raise _failed(f"{what}: expected {exception.__name__}, but it returned normally")


def _only_notebook():
    found = sorted(Path.cwd().glob("*.ipynb"))
    if len(found) != 1:
        raise ValueError(f"{len(found)} notebooks in {Path.cwd()}: say which one, check_notebook(\"name.ipynb\")")
    return found[0]


def check_notebook(path=None, timeout=600):
    """Run a saved notebook from the top in a fresh kernel and say which visible checks pass.

    path: the .ipynb file (default: the only one in the current folder). It runs the saved
    file, so save first. timeout: seconds per cell.
    Prints ``ok`` or ``FAILED`` and the error for each test cell with visible checks, then
    what they do not decide: every autograded point is decided when the notebook is graded,
    by hidden tests, on inputs the notebook does not show. Raises AssertionError if a visible
    check fails, so ``python -c "import helpers; helpers.check_notebook('01_numpy.ipynb')"``
    then exits with status 1 (``nbgrader validate`` exits with 0 either way).
    Under nbgrader, and inside its own run, it does nothing: a call left in a notebook is harmless.
    """
    __tracebackhide__ = True
    if os.environ.get("NBGRADER_EXECUTION"):  # set by nbgrader, and below for the run
        print("(check_notebook does nothing while a notebook is validated or graded)")
        return
    import nbclient  # here: only this check needs Jupyter's machinery
    import nbformat

    path = Path(path) if path else _only_notebook()
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "NBGRADER_EXECUTION": "validate", "NBGRADER_VALIDATING": "1"}  # as nbgrader validate
    nbclient.NotebookClient(nb, timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    points = {"visible": 0, "hidden": 0, "hand": 0}
    failed, visible = [], 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        code = [line for line in cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if meta.get("solution") or cell.cell_type != "code":  # an answer graded by hand
            points["hand"] += meta.get("points", 0)
        elif not code:  # the release keeps only a comment where the hidden tests go
            points["hidden"] += meta.get("points", 0)
        else:
            visible += 1
            points["visible"] += meta.get("points", 0)
            error = next((o for o in cell.outputs if o.output_type == "error"), None)
            if error is None:
                print(f"ok      {meta['grade_id']}")
            else:
                failed.append(meta["grade_id"])
                first_line = (error.evalue.splitlines() or [""])[0]
                print(f"FAILED  {meta['grade_id']}: {error.ename}: {first_line}")
    hand = f"; written answers ({points['hand']:g} points) are graded by hand" if points["hand"] else ""
    print(f"\n{visible - len(failed)} of {visible} cells of visible checks pass in {path.name}. They are examples: "
          f"when the notebook is graded, their {points['visible']:g} points are decided again on inputs the "
          f"notebook does not show, and hidden tests decide the other {points['hidden']:g} points{hand}.")
    if failed:
        raise _failed(f"{len(failed)} of {visible} cells of visible checks fail: {', '.join(failed)}")


# ---------------------------------------------------------------- gradients
# Centered differences: (f(x + h) - f(x - h)) / 2h has error O(h^2), against
# O(h) for the one-sided version, so h = 1e-5 in float64 gives about 10
# correct digits before round-off takes over.


def numerical_gradient(f, x, h=1e-5):
    """Centered-difference gradient of a scalar function.

    f: callable taking an array shaped like x and returning a float.
    x: (any shape) point at which to differentiate; not modified.
    Returns: array shaped like x, float64.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):  # one coordinate at a time: O(x.size) calls of f
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b):
    """Relative error max|a - b| / max(1e-8, |a| + |b|), elementwise maximum.

    How to read it for a gradient check in float64:
      < 1e-7  the gradient is right;
      1e-7 .. 1e-4  suspicious (fine only near kinks such as ReLU at 0);
      > 1e-2  the gradient is wrong.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


# ---------------------------------------------------------------- a network handed in as its parts


#: The hidden activations two_unit_network knows, by name (assignment 06's capacity_net picks one).
HIDDEN_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2)),  # 1 / (1 + e^-z) without overflow
    "tanh": np.tanh,
    "abs": np.abs,
    "square": np.square,
}


def two_unit_network(net, X):
    """The output of a one-hidden-layer network handed in as its parts.

    net: (g, W1, b1, w2, b2), as assignment 06's capacity_net returns it: g the NAME of the hidden
        activation, a key of HIDDEN_ACTIVATIONS; W1 (d, h), b1 (h,), w2 (h,), b2 a number; rows are samples.
    X: (n, d) inputs, one per row.
    Returns sigmoid(g(X @ W1 + b1) @ w2 + b2), shape (n,). A name, not a function, so that the grader
    can run the same network in its own process.
    """
    g, W1, b1, w2, b2 = net
    if not isinstance(g, str) or g not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"g must be one of {', '.join(map(repr, HIDDEN_ACTIVATIONS))}, not {g!r}")
    Z = np.asarray(X, dtype=np.float64) @ np.asarray(W1, dtype=np.float64) + np.asarray(b1, dtype=np.float64)
    score = HIDDEN_ACTIVATIONS[g](Z) @ np.asarray(w2, dtype=np.float64) + float(b2)
    return HIDDEN_ACTIVATIONS["sigmoid"](score)


# ---------------------------------------------------------------- plotting


def show_images(images, titles=None, cols=10, scale=1.2, cmap="gray"):
    """Show a batch of images in a grid and return the figure.

    images: (n, H, W) or (n, H, W, 3) array.
    titles: optional n strings, one per image.
    """
    import matplotlib.pyplot as plt  # imported here: loading data needs no plotting

    n = len(images)
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * scale, rows * scale), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, img) in enumerate(zip(axes.flat, images)):
        ax.imshow(img, cmap=None if np.ndim(img) == 3 else cmap)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout()
    return fig


def plot_decision_regions(predict, X, y, ax=None, title=None, resolution=200, margin=0.3):
    """Draw the regions a classifier assigns to each class in the plane, with the points on top.

    predict: a function from points P (N, 2) to their labels (N,) integers 0..m-1, e.g.
        ``lambda P: net.fprop(P)["o_s"].argmax(axis=1)``; it is called once, on a grid.
    X: (n, 2) points, y: (n,) their labels, drawn coloured by label.
    ax: the matplotlib axes to draw on (default: a new figure). title: its title.
    resolution: grid points per axis; margin: how far the grid extends beyond the points.
    Returns: the axes.
    """
    import matplotlib.pyplot as plt  # imported here: loading data needs no plotting

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    u, v = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    labels = np.asarray(predict(np.column_stack([u.ravel(), v.ravel()]))).reshape(u.shape)
    m = int(max(labels.max(), y.max())) + 1
    colours = plt.get_cmap("coolwarm" if m == 2 else "tab10")
    levels = np.arange(m + 1) - 0.5  # one band per label
    ax.contourf(u, v, labels, levels=levels, cmap=colours, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=colours, vmin=-0.5, vmax=m - 0.5, s=8, edgecolors="k",
               linewidths=0.2)
    ax.set_aspect("equal")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    if title is not None:
        ax.set_title(title, fontsize=9)
    return ax


# ---------------------------------------------------------------- autograder probe
# Hidden test cells call record_for_grader(...). It contains no answers and
# judges nothing: at grading time it runs your functions on inputs the
# grader supplied and writes what they returned to a file; the grader checks
# those values afterwards, in a separate process. Outside grading it does
# nothing, so the notebooks run the same on your machine.
#
# Inputs, inputs/<test_id>.pkl (written by the grader: autograder.cases.HiddenTest.calls), one entry per case:
#   {"call": name, "args": (..), "kwargs": {..}, "seed": int, "timeout": seconds}       one call
#   {"steps": [S, ...], "seed": int, "timeout": seconds}                              a scenario on one object
#   S = {"do": "new", "name": class, "args", "kwargs"} | {"do": "set", "name": attr, "value": ..}
#     | {"do": "call", "name": method, "args", "kwargs"} | {"do": "function", "name": fn, "args", "kwargs"}
#     | {"do": "observe", "name": attr}
#   An argument {"__probe__": ("student", name)} stands for the notebook's own function or class,
#   {"__probe__": ("result", i)} for what step i of the same scenario returned (the live object).
#
# Record format, outputs/<test_id>.json, rewritten after every case (so a cell stopped half-way keeps
# the cases it finished):
#   {"results": [R, ...]}   R = {"value": V, "warnings": [..]} | {"steps": [R, ...]}
#                             | {"raised": "ValueError", "message": "...", "warnings": [..]}
#   V = {"t": "none"} | {"t": "bool"|"int"|"str", "v": ...} | {"t": "float", "v": float.hex}
#     | {"t": "list"|"tuple", "items": [V, ...]} | {"t": "dict", "items": [[key, V], ...]}
#     | {"t": "array"|"scalar", "dtype": "<f8", "shape": [...], "b64": raw bytes}
#     | {"t": "unsupported", "type": name}
# What is recorded is read from the objects' own storage (dict.items, list.copy, a plain ndarray
# view, ...), never through methods a class can override, so a value is what it holds, not what
# it claims. Bounds (autograder/records.py reads no more): nesting depth, items per container,
# nodes and bytes per value; strings are cut to PROBE_MAX_STR characters.

PROBE_DIR_ENV = "COURSE_PROBE_DIR"
PROBE_MAX_DEPTH = 8
PROBE_MAX_ITEMS = 10_000  # per list, tuple or dict
PROBE_MAX_NODES = 20_000  # encoded values per returned value
PROBE_MAX_BYTES = 16 * 2**20  # array and string bytes per returned value
PROBE_MAX_STR = 1000
PROBE_DEFAULT_TIMEOUT = 60.0  # seconds per case, unless the hidden test says otherwise
_NUMERIC = "biufc"


class _TooLarge(Exception):
    """A returned value over the per-value budget: recorded as unsupported, whole."""


class _CaseTimeout(BaseException):
    """Raised by SIGALRM in a case over its time limit; a BaseException so ``except Exception`` keeps it out."""


def _unsupported(what):
    return {"t": "unsupported", "type": str(what)[:80]}


def _encode(value):
    """The record form V of a returned value (see the format above); never raises for a value."""
    budget = [PROBE_MAX_NODES, PROBE_MAX_BYTES]
    try:
        return _encode_node(value, 0, budget)
    except _TooLarge as exc:
        return _unsupported(exc)


def _spend(budget, nodes, nbytes=0):
    budget[0] -= nodes
    budget[1] -= nbytes
    if budget[0] < 0 or budget[1] < 0:
        raise _TooLarge("value too large to record")


def _encode_node(value, depth, budget):
    _spend(budget, 1)
    kind = type(value)  # type() cannot be faked, unlike isinstance (a __class__ property)
    if value is None:
        return {"t": "none"}
    if kind is bool or kind is np.bool_:
        return {"t": "bool", "v": bool(value)}
    if issubclass(kind, np.generic):
        return _encode_scalar(value, kind, budget)
    if issubclass(kind, int):
        number = int.__int__(value)  # the stored number, whatever __int__ says
        # Python's JSON reader refuses ints over 4300 digits: one would spoil the whole record
        return {"t": "int", "v": number} if number.bit_length() < 14_000 else _unsupported("huge int")
    if issubclass(kind, float):
        return {"t": "float", "v": float.__float__(value).hex()}
    if issubclass(kind, str):
        text = str.__str__(value)[:PROBE_MAX_STR]
        _spend(budget, 0, len(text))
        return {"t": "str", "v": text}
    if issubclass(kind, (list, tuple, dict)) and depth >= PROBE_MAX_DEPTH:  # its items would be too deep
        return _unsupported("deeply nested value")
    if issubclass(kind, (list, tuple)):
        items = list.copy(value) if issubclass(kind, list) else tuple.__getitem__(value, slice(None))
        if len(items) > PROBE_MAX_ITEMS:
            return _unsupported(f"{kind.__name__} of more than {PROBE_MAX_ITEMS} items")
        return {"t": "list" if issubclass(kind, list) else "tuple",
                "items": [_encode_node(v, depth + 1, budget) for v in items]}
    if issubclass(kind, dict):
        return _encode_dict(list(dict.items(value)), depth, budget)
    if issubclass(kind, np.ndarray):
        return _encode_array(np.ndarray.view(value, np.ndarray), "array", kind, budget)
    return _unsupported(kind.__name__)


def _encode_dict(items, depth, budget):
    if len(items) > PROBE_MAX_ITEMS:
        return _unsupported(f"dict of more than {PROBE_MAX_ITEMS} items")
    if not all(issubclass(type(k), str) for k, _ in items):
        return _unsupported("dict with keys that are not short strings")
    keys = [str.__str__(k) for k, _ in items]  # the characters, whatever a str subclass's __len__ says
    if any(len(k) > PROBE_MAX_STR for k in keys):
        return _unsupported("dict with keys that are not short strings")
    _spend(budget, 0, sum(map(len, keys)))
    return {"t": "dict", "items": [[k, _encode_node(v, depth + 1, budget)] for k, (_, v) in zip(keys, items)]}


def _encode_scalar(value, kind, budget):
    try:
        builtin = np.dtype(kind).type is kind
    except TypeError:
        builtin = False
    if not builtin:  # a Python subclass of a numpy scalar: its methods could say anything
        return _unsupported(kind.__name__)
    return _encode_array(np.asarray(value), "scalar", kind, budget)  # keeps shape (): 0-d


def _encode_array(array, tag, kind, budget):
    """array: a plain ndarray (or a numpy scalar as a 0-d array)."""
    if array.dtype.kind not in _NUMERIC or array.dtype.fields is not None:
        return _unsupported(f"{kind.__name__} of dtype {array.dtype}")
    _spend(budget, 0, array.nbytes)
    return {"t": tag, "dtype": array.dtype.str, "shape": list(array.shape),
            "b64": base64.b64encode(array.tobytes()).decode("ascii")}


def _resolve(arg, functions, results):
    """An argument with its markers replaced by the live objects they stand for (see the format above)."""
    kind = type(arg)
    if kind is dict and set(arg) == {"__probe__"}:
        what, key = arg["__probe__"]
        return functions[key] if what == "student" else results[key]
    if kind in (list, tuple):
        return kind(_resolve(a, functions, results) for a in arg)
    if kind is dict:
        return {k: _resolve(v, functions, results) for k, v in arg.items()}
    return arg


def _run_step(step, functions, state, results):
    """Perform one step (a call, or a scenario step); returns what it returned (None for new/set)."""
    args, kwargs = copy.deepcopy((step.get("args", ()), step.get("kwargs", {})))
    args = _resolve(args, functions, results)
    kwargs = _resolve(kwargs, functions, results)
    do, name = step.get("do", "function"), step.get("name", step.get("call"))
    if do == "new":
        state["object"] = functions[name](*args, **kwargs)
        return state["object"]
    if do == "set":
        setattr(state["object"], name, _resolve(copy.deepcopy(step["value"]), functions, results))
        return None
    # object.__getattribute__: what the instance holds, or its class defines (a method, a property);
    # never a class's own __getattribute__ or __getattr__, which could answer anything for any name
    if do == "call":
        return object.__getattribute__(state["object"], name)(*args, **kwargs)
    if do == "observe":
        return object.__getattribute__(state["object"], name)
    return functions[name](*args, **kwargs)


def _message(exc):
    try:
        return str(exc)[:300]
    except Exception:  # an exception whose __str__ raises too
        return "(its message cannot be shown)"


def _recorded(step, functions, state, results):
    """The record entry R of one step, with the live result appended to ``results``."""
    # numpy's default error state, whatever the notebook set with np.seterr:
    # overflow and invalid operations are reported, underflow to 0 is not.
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            live = _run_step(step, functions, state, results)
            results.append(live)
            # a new object or a set attribute is not a result: only calls and observations are
            entry = {"value": _encode(None if step.get("do") in ("new", "set") else live)}
        except Exception as exc:  # a crash on one case is that case's result
            entry = {"raised": type(exc).__name__, "message": _message(exc)}
    entry["warnings"] = [w.category.__name__ for w in caught][:100]
    return entry


class _TimeLimit:
    """SIGALRM after ``seconds``, repeated every 0.1 s until the case lets it out (a bare except may swallow one)."""

    def __init__(self, seconds):
        self.seconds, self.armed, self.previous = seconds, False, None

    def _expire(self, signum, frame):
        if self.armed:  # a late signal, after the case ended, is ignored
            raise _CaseTimeout()

    def __enter__(self):
        try:
            self.previous = signal.signal(signal.SIGALRM, self._expire)
        except ValueError:  # not the main thread: no per-case limit, the cell's own timeout still applies
            return self
        self.armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds, 0.1)
        return self

    def __exit__(self, *exc):
        if self.previous is None:
            return False
        try:
            self.armed = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _run_case(case, functions):
    """The record entry of one case: a single call, or a scenario's steps in order, stopping at the
    first step that raised or ran out of the case's time limit."""
    steps = case.get("steps", [case])
    limit = case.get("timeout", PROBE_DEFAULT_TIMEOUT)
    state, results, entries = {}, [], []
    try:
        with _TimeLimit(limit):
            for step in steps:
                entries.append(_recorded(step, functions, state, results))
                if "raised" in entries[-1]:
                    break
    except _CaseTimeout:
        if len(entries) < len(steps) and not (entries and "raised" in entries[-1]):
            entries.append({"raised": "Timeout", "message": f"took longer than its {limit:g} s time limit",
                            "warnings": []})
    return {"steps": entries} if "steps" in case else entries[0]


def _write_record(path, results):
    """Replace the record in one step, so that a kill mid-write leaves the previous one whole."""
    partial = f"{path}.partial"
    with open(partial, "w") as f:
        json.dump({"results": results}, f)
    os.replace(partial, path)


def record_for_grader(test_id, **functions):
    """Run ``functions`` on the grader's inputs for ``test_id`` and save the results.

    test_id: the grade_id of the test cell.
    functions: the notebook functions and classes the hidden test uses, by name.
    Every case starts from the same random state (numpy's global RNG and ``random``
    seeded with the case's seed) and has its own time limit.
    """
    probe_dir = os.environ.get(PROBE_DIR_ENV)
    if not probe_dir and os.environ.get("NBGRADER_EXECUTION") == "autograde":
        # Graded by an nbgrader that did not load the course's nbgrader_config.py:
        # fail loudly rather than let every hidden test pass unchecked.
        raise RuntimeError("hidden tests need the course's grader: run nbgrader from the course "
                           "directory so that nbgrader_config.py is loaded")
    if not probe_dir:
        print("(hidden tests run when the notebook is graded)")
        return
    with open(os.path.join(probe_dir, "inputs", f"{test_id}.pkl"), "rb") as f:
        cases = pickle.load(f)  # written by the grader, read-only here
    out = os.path.join(probe_dir, "outputs", f"{test_id}.json")
    results = []
    for case in cases:
        seed = case.get("seed", 0)
        np.random.seed(seed)
        random.seed(seed)
        results.append(_run_case(case, functions))
        _write_record(out, results)

"""Shared helpers for the course notebooks: data, checks, gradients, plots.

Every notebook does ``from helpers import ...``. You may read all of this
file; it contains no answers. Sections:

* data: the real MNIST and Fashion-MNIST images shipped in ``data/``;
* checks: the visible tests in the notebooks (``check_close`` and friends);
* gradients: a centered-difference numerical gradient and ``rel_error``;
* plotting: ``show_images``;
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


# ---------------------------------------------------------------- checks you can run
# Every visible test in the notebooks is one of these calls. On success they
# print one line; on failure they raise AssertionError with a sentence that
# says what is wrong, so the failing cell tells you where to look.


def check_close(got, expected, what, rtol=1e-6, atol=1e-9):
    """Check that ``got`` has the shape of ``expected`` and close values.

    got, expected: arrays or numbers (anything np.asarray accepts).
    what: the call being checked, e.g. ``"one_hot([0, 2], 3)"``.
    """
    got_a, want = np.asarray(got), np.asarray(expected)
    if got_a.shape != want.shape:
        raise AssertionError(f"{what}: wrong shape: expected {want.shape}, got {got_a.shape}")
    if got_a.dtype.kind not in "biufc":
        raise AssertionError(f"{what}: returned {type(got).__name__}, expected numbers")
    if not np.allclose(got_a, want, rtol=rtol, atol=atol, equal_nan=True):
        raise AssertionError(f"{what}: wrong values:\nexpected\n{want}\ngot\n{got_a}")
    print(f"ok  {what}")


def check_equal(got, expected, what):
    """Check exact equality (labels, strings, integer results)."""
    same = got == expected if isinstance(expected, str) else np.array_equal(got, expected)
    if not same:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")
    print(f"ok  {what}")


def check_dtype(got, kind, what):
    """Check the dtype kind of an array: kind is e.g. "f" (float), "u" (unsigned), "iu"."""
    got_kind = np.asarray(got).dtype.kind
    if got_kind not in kind:
        raise AssertionError(f"{what}: wrong dtype {np.asarray(got).dtype} (expected kind {kind!r})")
    print(f"ok  {what}")


def check_raises(exception, fn, *args, what, **kwargs):
    """Check that ``fn(*args, **kwargs)`` raises ``exception`` (a clear error beats a wrong answer)."""
    try:
        fn(*args, **kwargs)
    except exception as exc:
        print(f"ok  {what} raises {exception.__name__}: {exc}")
        return
    raise AssertionError(f"{what}: expected {exception.__name__}, but it returned normally")


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


# ---------------------------------------------------------------- autograder probe
# Hidden test cells call record_for_grader(...). It contains no answers and
# judges nothing: at grading time it runs your functions on inputs the
# grader supplied and writes what they returned to a file; the grader checks
# those values afterwards, in a separate process. Outside grading it does
# nothing, so the notebooks run the same on your machine.
#
# Record format, outputs/<test_id>.json:
#   {"results": [{"value": V, "warnings": [..]} or
#                {"raised": "ValueError", "message": "...", "warnings": [..]}, ...]}
#   V = {"t": "none"} | {"t": "bool"|"int"|"str", "v": ...} | {"t": "float", "v": float.hex}
#     | {"t": "list"|"tuple", "items": [V, ...]}
#     | {"t": "array"|"scalar", "dtype": "<f8", "shape": [...], "b64": raw bytes}
#     | {"t": "unsupported", "type": name}

PROBE_DIR_ENV = "COURSE_PROBE_DIR"


def _encode(value, depth=0):
    if depth > 8:
        return {"t": "unsupported", "type": "deeply nested value"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int):
        return {"t": "int", "v": value}
    if isinstance(value, float):
        return {"t": "float", "v": float(value).hex()}
    if isinstance(value, str):
        return {"t": "str", "v": value[:1000]}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "items": [_encode(v, depth + 1) for v in value[:10000]]}
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biufc":
        array = np.asarray(value)  # keeps shape () for scalars and 0-d arrays
        return {"t": "array" if isinstance(value, np.ndarray) else "scalar",
                "dtype": array.dtype.str, "shape": list(array.shape),
                "b64": base64.b64encode(array.tobytes()).decode("ascii")}
    return {"t": "unsupported", "type": type(value).__name__}


def record_for_grader(test_id, **functions):
    """Run ``functions`` on the grader's inputs for ``test_id`` and save the results.

    test_id: the grade_id of the test cell.
    functions: the notebook functions the hidden test calls, by name.
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
        calls = pickle.load(f)  # written by the grader, read-only here
    results = []
    for call in calls:
        args, kwargs = copy.deepcopy((call["args"], call["kwargs"]))
        # numpy's default error state, whatever the notebook set with np.seterr:
        # overflow and invalid operations are reported, underflow to 0 is not.
        with warnings.catch_warnings(record=True) as caught, \
                np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            warnings.simplefilter("always")
            try:
                fn = functions[call["call"]]
                result = {"value": _encode(fn(*args, **kwargs))}
            except Exception as exc:  # a crash on one case is that case's result
                result = {"raised": type(exc).__name__, "message": str(exc)[:300]}
        result["warnings"] = [w.category.__name__ for w in caught]
        results.append(result)
    with open(os.path.join(probe_dir, "outputs", f"{test_id}.json"), "w") as f:
        json.dump({"results": results}, f)

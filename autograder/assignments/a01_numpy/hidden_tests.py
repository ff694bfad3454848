"""Hidden tests of assignment 01, one entry per test cell (grade_id).

``test_<name>_basic`` checks the rule of the notebook's visible examples on
inputs of the same kind that the notebook never shows: a visible check runs in
the student's kernel and hands it the expected value, so the visible inputs
themselves prove nothing (the visible points are decided here, out of the
student's reach);
``test_<name>_hidden`` checks the same rule on inputs the student never saw:
other shapes, dtypes, edge cases. Expected values come from an independent
route: explicit Python loops over pixels and columns (``math.fsum``),
``np.eye``, ``np.rot90``; never from the solution notebook.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.cases import Case, Close, Equal, HiddenTest, NoWarnings, Raises, Satisfies

rng = np.random.default_rng(2024)

# ------------------------------------------------------------------ one_hot


def _one_hot(y, k):
    return np.eye(k)[np.asarray(y, dtype=int)]


labels = rng.integers(0, 7, size=50)  # k = 10 below: classes 7..9 never occur

# ------------------------------------------------------------------ standardize


def _standardize(rows):
    """Column by column in plain Python: mean and population std (ddof=0) with math.fsum."""
    out = []
    for col in zip(*rows):
        mu = math.fsum(col) / len(col)
        sigma = math.sqrt(math.fsum((v - mu) ** 2 for v in col) / len(col))
        out.append([0.0 if sigma == 0 else (v - mu) / sigma for v in col])
    return np.array(out).T


mixed = np.column_stack([rng.normal(3, 2, 30), np.full(30, 4.0), rng.integers(0, 255, 30)])
pixels = rng.integers(0, 256, size=(40, 6), dtype=np.uint8)


def _standardized(Z):
    """Every column has mean 0 and std 1 (or is all 0)."""
    Z = np.asarray(Z, dtype=float)
    means, stds = Z.mean(axis=0), Z.std(axis=0)
    return bool(np.all(np.abs(means) < 1e-9) and np.all((np.abs(stds - 1) < 1e-9) | (stds == 0)))


# ------------------------------------------------------------------ pairwise_sq_dists


def _sq_dists(X, Y):
    return np.array([[sum((a - b) ** 2 for a, b in zip(x, y)) for y in Y] for x in X], dtype=float)


P, Q = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
row = rng.normal(size=(1, 3))

# ------------------------------------------------------------------ images


def _gray(img):
    img = np.asarray(img)
    out = [[0.299 * r + 0.587 * g + 0.114 * b for r, g, b in line] for line in img.tolist()]
    return np.round(out) if img.dtype == np.uint8 else np.array(out)


def _flip(img):
    W = img.shape[1]
    return np.stack([img[:, W - 1 - c] for c in range(W)], axis=1)


def _brightness(img, factor):
    high = 255 if img.dtype == np.uint8 else 1.0
    return np.array([min(max(v * factor, 0), high) for v in img.ravel().tolist()]).reshape(img.shape)


def _mosaic(images, rows, cols):
    n, H, W = images.shape
    out = np.zeros((rows * H, cols * W), dtype=images.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * H:(r + 1) * H, c * W:(c + 1) * W] = images[i]
    return out


rgb8 = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
rgbf = rng.random((3, 4, 3))
wide = rng.integers(0, 256, size=(3, 5), dtype=np.uint8)  # not square: catches a swapped H, W
grid = np.arange(30).reshape(5, 6)
batch = rng.integers(0, 256, size=(5, 3, 2), dtype=np.uint8)
ramp = np.arange(0, 256, 15, dtype=np.uint8)

# The basics' inputs: of the same kind as the notebook's visible examples, but never shown there.
few_rows = np.array([[3.0, -1.0], [7.0, -1.0], [5.0, -1.0]])
four_pixels = np.array([[[10, 200, 30], [255, 255, 255]], [[0, 0, 0], [50, 120, 240]]], np.uint8)
small = np.array([[5, 1, 4, 2], [0, 9, 3, 7], [8, 6, 2, 1]])
dots = np.array([10, 20, 30, 40, 50, 60]).reshape(6, 1, 1)  # 1x1 images

TESTS = {
    "test_one_hot_basic": HiddenTest([
        Case("one_hot", (np.array([2, 0, 1, 2]), 3), expect=Close(_one_hot([2, 0, 1, 2], 3)), about="4 labels, k=3"),
        Case("one_hot", (np.array([3, 0]), 5), expect=Close(_one_hot([3, 0], 5)),
             about="2 labels, k=5 (not every class occurs)"),
    ], no_loops_in=("one_hot",)),
    "test_one_hot_hidden": HiddenTest([
        Case("one_hot", (labels, 10), expect=Close(_one_hot(labels, 10), dtype_kind="f"),
             about="50 labels in 0..6 with k=10 (not every class occurs)"),
        Case("one_hot", (np.array([9]), 10), expect=Close(_one_hot([9], 10)), about="the last class"),
        Case("one_hot", (np.array([], dtype=int), 5), expect=Close(np.zeros((0, 5))), about="no labels"),
    ], no_loops_in=("one_hot",)),
    "test_standardize_basic": HiddenTest([
        Case("standardize", (few_rows.tolist(),), expect=Close(_standardize(few_rows.tolist())),
             about="a 3x2 list of lists with a constant column"),
    ], no_loops_in=("standardize",)),
    "test_standardize_hidden": HiddenTest([
        Case("standardize", (mixed,), expect=Close(_standardize(mixed.tolist()), rtol=1e-9, atol=1e-9)
             & NoWarnings(), about="30x3 with a constant column"),
        Case("standardize", (pixels,), expect=Close(_standardize(pixels.astype(float).tolist()), dtype_kind="f"),
             about="uint8 pixels (convert before subtracting)"),
        Case("standardize", (rng.normal(5, 3, (100, 8)),), expect=Satisfies(
            _standardized, "columns do not all have mean 0 and std 1 (population std, ddof=0)"),
             about="100x8 normal data"),
    ], no_loops_in=("standardize",)),
    "test_pairwise_sq_dists_basic": HiddenTest([
        Case("pairwise_sq_dists", ([[1, 2], [0, -1], [2, 2]], [[0, 0], [3, 1]]),
             expect=Close(_sq_dists([[1, 2], [0, -1], [2, 2]], [[0, 0], [3, 1]])), about="3 points vs 2 points"),
    ], no_loops_in=("pairwise_sq_dists",)),
    "test_pairwise_sq_dists_hidden": HiddenTest([
        Case("pairwise_sq_dists", (P, Q), expect=Close(_sq_dists(P, Q)), about="7x5 vs 4x5"),
        Case("pairwise_sq_dists", (Q, P), expect=Close(_sq_dists(Q, P)), about="4x5 vs 7x5"),
        Case("pairwise_sq_dists", (P, P), expect=Satisfies(
            lambda D: np.allclose(np.diag(D), 0, atol=1e-9) and np.allclose(D, np.transpose(D)),
            "distances of a set to itself must be symmetric with a zero diagonal"), about="X vs X"),
        Case("pairwise_sq_dists", (row, row + 2), expect=Close([[12.0]]), about="1x3 vs 1x3"),
    ], no_loops_in=("pairwise_sq_dists",)),
    "test_to_grayscale_basic": HiddenTest([
        Case("to_grayscale", (four_pixels,), expect=Close(_gray(four_pixels), rtol=0, atol=1, dtype_kind="u"),
             about="a 2x2 uint8 image"),
        Case("to_grayscale", (four_pixels / 255,), expect=Close(_gray(four_pixels / 255), dtype_kind="f"),
             about="a 2x2 float image"),
    ]),
    "test_to_grayscale_hidden": HiddenTest([
        Case("to_grayscale", (rgb8,), expect=Close(_gray(rgb8), rtol=0, atol=1, dtype_kind="u"),
             about="a 5x7 uint8 image"),
        Case("to_grayscale", (rgbf,), expect=Close(_gray(rgbf), dtype_kind="f"), about="a 3x4 float image"),
    ]),
    "test_flip_horizontal_basic": HiddenTest([
        Case("flip_horizontal", (small,), expect=Equal(_flip(small)), about="3x4"),
    ]),
    "test_flip_horizontal_hidden": HiddenTest([
        Case("flip_horizontal", (wide,), expect=Equal(_flip(wide)), about="a 3x5 image"),
        Case("flip_horizontal", (rgb8,), expect=Equal(_flip(rgb8)), about="a 5x7 RGB image"),
    ]),
    "test_rotate90_basic": HiddenTest([
        Case("rotate90", (small,), expect=Equal(np.rot90(small)), about="3x4, k=1"),
        Case("rotate90", (small,), {"k": 2}, expect=Equal(np.rot90(small, 2)), about="3x4, k=2"),
    ], banned={"rotate90": ("rot90",)}),
    "test_rotate90_hidden": HiddenTest([
        *[Case("rotate90", (wide,), {"k": k}, expect=Equal(np.rot90(wide, k)), about=f"a 3x5 image, k={k}")
          for k in (1, 2, 3, 4, -1, 5)],
        Case("rotate90", (rgb8,), expect=Equal(np.rot90(rgb8)), about="a 5x7 RGB image (channels stay R, G, B)"),
    ], banned={"rotate90": ("rot90",)}),
    "test_crop_basic": HiddenTest([
        Case("crop", (np.arange(20).reshape(5, 4), 2, 1, 3, 2), expect=Equal([[9, 10], [13, 14], [17, 18]]),
             about="5x4 grid, a 3x2 window touching the bottom edge"),
        Case("crop", (np.arange(20).reshape(5, 4), 4, 0, 2, 2), expect=Raises("ValueError", "window too tall"),
             about="5x4 grid, a window reaching below the image"),
    ]),
    "test_crop_hidden": HiddenTest([
        Case("crop", (grid, 0, 0, 5, 6), expect=Equal(grid), about="the whole 5x6 image"),
        Case("crop", (grid, 4, 5, 1, 1), expect=Equal([[29]]), about="the bottom-right pixel"),
        Case("crop", (rgb8, 1, 2, 3, 4), expect=Equal(rgb8[1:4, 2:6]), about="3x4 from a 5x7 RGB image"),
        Case("crop", (grid, 0, 4, 2, 3), expect=Raises("ValueError", "window too wide"),
             about="5x6 grid, left=4, width=3"),
        Case("crop", (grid, -1, 0, 2, 2), expect=Raises("ValueError", "negative top"),
             about="5x6 grid, top=-1"),
        Case("crop", (grid, 0, 0, 0, 2), expect=Raises("ValueError", "empty window"),
             about="5x6 grid, height=0"),
    ]),
    "test_adjust_brightness_basic": HiddenTest([
        Case("adjust_brightness", (np.array([10, 60, 250], np.uint8), 1.2),
             expect=Close(_brightness(np.array([10, 60, 250], np.uint8), 1.2), rtol=0, atol=0.5, dtype_kind="u"),
             about="3 uint8 pixels, x1.2 (one saturates)"),
        Case("adjust_brightness", (np.array([0.3, 0.7]), 1.5),
             expect=Close(_brightness(np.array([0.3, 0.7]), 1.5), dtype_kind="f"),
             about="2 float pixels, x1.5 (one saturates)"),
    ]),
    "test_adjust_brightness_hidden": HiddenTest([
        Case("adjust_brightness", (ramp, 1.7), expect=Close(_brightness(ramp, 1.7), rtol=0, atol=1, dtype_kind="u"),
             about="a uint8 ramp, x1.7"),
        Case("adjust_brightness", (wide, 0.3), expect=Close(_brightness(wide, 0.3), rtol=0, atol=1, dtype_kind="u"),
             about="a 3x5 uint8 image, x0.3"),
        Case("adjust_brightness", (rgbf, 3.0), expect=Close(_brightness(rgbf, 3.0), dtype_kind="f"),
             about="a float RGB image, x3"),
    ]),
    "test_mosaic_basic": HiddenTest([
        Case("mosaic", (dots, 2, 3), expect=Equal([[10, 20, 30], [40, 50, 60]]), about="six 1x1 images, 2x3"),
        Case("mosaic", (dots[:5], 3, 2), expect=Equal([[10, 20], [30, 40], [50, 0]]), about="five 1x1 images, 3x2"),
    ]),
    "test_mosaic_hidden": HiddenTest([
        Case("mosaic", (batch, 2, 3), expect=Close(_mosaic(batch, 2, 3), rtol=0, atol=0, dtype_kind="u"),
             about="five 3x2 uint8 images in a 2x3 grid"),
        Case("mosaic", (batch, 3, 2), expect=Equal(_mosaic(batch, 3, 2)), about="five 3x2 images in a 3x2 grid"),
        Case("mosaic", (batch, 1, 5), expect=Equal(_mosaic(batch, 1, 5)), about="five images in one row"),
        Case("mosaic", (batch, 2, 2), expect=Raises("ValueError", "5 images do not fit in 2x2"),
             about="five images, 2x2 grid"),
    ]),
}


def _like(img, values):
    """values with the dtype the exercise asks for: uint8 in, uint8 out (rounded); floats otherwise."""
    img = np.asarray(img)
    return np.round(values).astype(np.uint8) if img.dtype == np.uint8 else np.asarray(values, dtype=float)


def _crop(img, top, left, height, width):
    """The window, row by row, after the same checks the exercise states."""
    H, W = np.asarray(img).shape[:2]
    if min(top, left) < 0 or height <= 0 or width <= 0 or top + height > H or left + width > W:
        raise ValueError("the window does not fit in the image")
    return np.array([[img[r][c] for c in range(left, left + width)] for r in range(top, top + height)])


#: Each graded function's independent reference, the route the hidden tests' expected values take.
#: tests/test_visible_checks.py runs the notebook's visible checks with these in place of the
#: answers, so a visible check and the hidden tests cannot come to disagree about a convention.
REFERENCES = {
    "one_hot": _one_hot,
    "standardize": lambda X: _standardize(np.asarray(X, dtype=float).tolist()),
    "pairwise_sq_dists": lambda X, Y: _sq_dists(np.asarray(X), np.asarray(Y)),
    "to_grayscale": lambda img: _like(img, _gray(img)),
    "flip_horizontal": lambda img: _flip(np.asarray(img)),
    "rotate90": lambda img, k=1: np.rot90(img, k),
    "crop": _crop,
    "adjust_brightness": lambda img, factor: _like(img, _brightness(np.asarray(img), factor)),
    "mosaic": _mosaic,
}

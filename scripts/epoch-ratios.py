#!/usr/bin/env python3
"""Per-epoch training time of each run of a sweep over the fp32 run of the same seed.

    python3 scripts/epoch-ratios.py OUT [OUT ...]

reads OUT/runs/*/metrics.jsonl (the "epoch" events' train_s, which leaves out start-up, warm-up
and evaluation) and prints, per run, its epochs' time over fp32's epoch by epoch, its epoch times
in seconds and its final test accuracy: the figures BENCHMARKS.md's numerics tables quote.
summary.md's "epoch / fp32" column is the ratio of the mean epoch times.
"""
import json
import pathlib
import sys


def epochs(run_dir):
    times = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line of an interrupted run
        if event.get("event") == "epoch" and "train_s" in event:
            times[int(event["epoch"])] = float(event["train_s"])  # a resumed run's repeat replaces
    return [times[e] for e in sorted(times)]


def main(dirs):
    if not dirs:
        sys.exit(__doc__)
    for out in map(pathlib.Path, dirs):
        runs = sorted(p for p in (out / "runs").glob("*") if (p / "metrics.jsonl").is_file())
        if not runs:
            sys.exit(f"{out}: no runs (expected {out}/runs/POLICY-sSEED/metrics.jsonl)")
        table = {r.name: epochs(r) for r in runs}
        print(f"{out}:")
        for name, times in table.items():
            seed = name.rsplit("-s", 1)[-1]
            ref = table.get(f"fp32-s{seed}")
            ratios = " / ".join(f"{t / f:.2f}" for t, f in zip(times, ref)) if ref else "(no fp32 run)"
            summary = out / "runs" / name / "summary.json"
            acc = json.loads(summary.read_text()).get("test_accuracy") if summary.is_file() else None
            seconds = " ".join(f"{t:.2f}" for t in times)
            print(f"  {name:20s} {ratios:40s} epochs (s): {seconds}" + (f"  test acc {acc:.4f}" if acc is not None else ""))


if __name__ == "__main__":
    main(sys.argv[1:])

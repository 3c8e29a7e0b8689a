#!/usr/bin/env bash
# Training speed and peak memory of lowbit against the PyTorch peer, back to back in one sitting,
# for BENCHMARKS.md ("Training speed and memory vs PyTorch"). Per round: the peer and lowbit on the
# MLP (3 epochs), then the peer, lowbit (--backend auto) and lowbit --backend java on the CNN
# (1 epoch); batch 128, 2 threads, all 60,000 training images.
#   scripts/bench-train-peers.sh [ROUNDS] [OUT_DIR]      (default: 2 rounds, a temporary directory)
# Needs Debian's dataset-fashion-mnist, python3-torch (/usr/bin/python3) and libopenblas0-pthread (the
# script refuses to time PyTorch on the reference BLAS); about 75 s per round.
# Prints, per run, the samples/s of each epoch and of the whole run (training loops only, as
# both tools report them), its ratio to the peer's of the same round, peak RSS and its ratio,
# wall time and test accuracy; first, how the peer ran (its ATen CPU capability and BLAS libraries).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-2}
out=${2:-$(mktemp -d)}
peers="$here/../shared/peers"
mkdir -p "$out"
. "$here/scripts/peer-blas-check.sh"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$here" rev-parse --short HEAD)"
for r in $(seq 1 "$rounds"); do
  for job in "torch mlp 3" "lowbit mlp 3" "torch cnn 1" "lowbit cnn 1" "java cnn 1"; do
    set -- $job
    tool=$1 model=$2 epochs=$3 name="$out/r$r-$1-$2"
    if [ "$tool" = torch ]; then
      /usr/bin/time -f "%M %e" -o "$name.time" /usr/bin/python3 "$peers/torch_train.py" --model "$model" \
        --epochs "$epochs" --threads 2 >"$name.jsonl" 2>"$name.err"
    else
      backend=auto; [ "$tool" = java ] && backend=java
      rm -rf -- "$name" # each timing starts over (lowbit train refuses to train afresh into a run)
      /usr/bin/time -f "%M %e" -o "$name.time" "$here/lowbit" train --model "$model" --epochs "$epochs" \
        --threads 2 --backend "$backend" --out "$name" >"$name.log" 2>&1
    fi
  done
done
python3 - "$out" "$rounds" <<'PY'
import json, os, sys
out, rounds = sys.argv[1], int(sys.argv[2])

def epochs_of(path):  # [(samples/s, train seconds, test accuracy)] per epoch
    rows = []
    for line in open(path):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("epoch") is not None and "samples_per_s" in o and o.get("event", "epoch") == "epoch":
            rows.append((o["samples_per_s"], o.get("train_s"), o.get("test_accuracy", o.get("test_acc"))))
    return rows

for line in open(f"{out}/r1-torch-mlp.jsonl"):  # how the peer ran: its ATen kernels and BLAS
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("bench") == "env":
        blas = [l for l in o.get("libs", []) if "blas" in l.lower()]
        print(f"PyTorch {o.get('torch')}: cpu capability {o.get('cpu_capability')}, "
              f"BLAS {', '.join(blas) or 'not found'}, OpenBLAS threads {o.get('openblas_threads')}")
        break
for r in range(1, rounds + 1):
    peer = {}
    for tool, model in [("torch", "mlp"), ("lowbit", "mlp"), ("torch", "cnn"), ("lowbit", "cnn"), ("java", "cnn")]:
        base = f"{out}/r{r}-{tool}-{model}"
        rss_kb, wall = open(base + ".time").read().split()[-2:]
        rows = epochs_of(base + ".jsonl" if tool == "torch" else base + "/metrics.jsonl")
        secs = sum(t for _, t, _ in rows if t)
        n = 60000 * len(rows)
        overall = n / secs if secs else float("nan")
        rss = int(rss_kb) / 1024
        if tool == "torch":
            peer[model] = (overall, rss)
        ratio = overall / peer[model][0]
        label = {"torch": "PyTorch", "lowbit": "lowbit (auto)", "java": "lowbit --backend java"}[tool]
        print(f"round {r} {label:22s} {model}: epochs " + "/".join(f"{s / 1e3:.1f}k" for s, _, _ in rows)
              + f"  run {overall / 1e3:.2f}k samples/s ({ratio:.2f}x)  peak RSS {rss:.0f} MB"
              + f" ({rss / peer[model][1]:.2f}x)  wall {float(wall):.1f} s  test acc {rows[-1][2]:.4f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); files in $out"

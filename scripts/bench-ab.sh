#!/usr/bin/env bash
# Training speed of two checkouts of lowbit, alternated in one sitting, for BENCHMARKS.md's A/B
# tables: e.g. the commit before a redesign (OLD) against the redesign (NEW).
#   scripts/bench-ab.sh OLD_CHECKOUT NEW_CHECKOUT [PAIRS] [OUT_DIR]
#     (e.g. git worktree add --detach /tmp/old 549ee81; scripts/bench-ab.sh /tmp/old . 3)
# Per pair, OLD then NEW: the fp32 MLP for one epoch on all 60,000 images and the fp32 CNN for one
# epoch on 10,000 (train_samples_per_s of summary.json), then the CNN sweep over
# fp32,bf16,fp16,fp8,mxfp8,int8 for 2 epochs on 10,000 images (each preset's epoch time over fp32's
# of the same sweep, scripts/epoch-ratios.py). Needs Debian's dataset-fashion-mnist; about 4
# minutes per pair on 2 cores. Each checkout's ./lowbit builds itself before the first timing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
old=$(cd "${1:?usage: bench-ab.sh OLD_CHECKOUT NEW_CHECKOUT [PAIRS] [OUT_DIR]}" && pwd)
new=$(cd "${2:?usage: bench-ab.sh OLD_CHECKOUT NEW_CHECKOUT [PAIRS] [OUT_DIR]}" && pwd)
pairs=${3:-3}
out=${4:-$(mktemp -d)}
mkdir -p "$out"
for side in old new; do # build both before timing anything
  dir=$old; [ "$side" = new ] && dir=$new
  "$dir/lowbit" --version >/dev/null
done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); old $(git -C "$old" rev-parse --short HEAD), new $(git -C "$new" rev-parse --short HEAD)"
for p in $(seq 1 "$pairs"); do
  for side in old new; do
    dir=$old; [ "$side" = new ] && dir=$new
    base="$out/p$p-$side"
    rm -rf -- "$base-mlp" "$base-cnn" "$base-sweep"
    "$dir/lowbit" train --model mlp --epochs 1 --limit-test 1000 --out "$base-mlp" >"$base-mlp.log" 2>&1
    "$dir/lowbit" train --model cnn --epochs 1 --limit-train 10000 --limit-test 1000 --out "$base-cnn" \
      >"$base-cnn.log" 2>&1
    "$dir/lowbit" sweep --model cnn --policies fp32,bf16,fp16,fp8,mxfp8,int8 --epochs 2 --limit-train 10000 \
      --out "$base-sweep" >"$base-sweep.log" 2>&1
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$pairs" "$here/scripts/epoch-ratios.py" <<'PY'
import json, subprocess, sys
out, pairs, ratios = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def rate(run):
    s = json.load(open(f"{run}/summary.json"))
    return s["train_samples_per_s"], s.get("test_accuracy", s.get("final_test_accuracy"))

for model in ("mlp", "cnn"):
    for side in ("old", "new"):
        rows = [rate(f"{out}/p{p}-{side}-{model}") for p in range(1, pairs + 1)]
        print(f"{model} fp32 {side}: samples/s " + ", ".join(f"{r:,.0f}" for r, _ in rows)
              + "; test accuracy " + ", ".join(str(a) for _, a in rows))
for p in range(1, pairs + 1):
    for side in ("old", "new"):
        print(f"--- sweep pair {p} {side}")
        print(subprocess.run(["python3", ratios, f"{out}/p{p}-{side}-sweep"], capture_output=True, text=True,
                             check=True).stdout, end="")
PY
echo "runs in $out"

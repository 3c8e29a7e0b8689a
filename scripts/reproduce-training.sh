#!/usr/bin/env bash
# Full-length training runs and the PyTorch peer on the same machine, for BENCHMARKS.md
# (section "Training speed and memory vs PyTorch") and the acceptance figures the slow tests only check in reduced form.
#   scripts/reproduce-training.sh [OUT_DIR]      (default: runs/reproduce-training)
# Needs Debian's dataset-fashion-mnist and python3-torch (/usr/bin/python3); takes about an hour
# on 2 cores. Prints one line per run: model, epochs, test accuracy, samples/s, peak RSS.
# ./lowbit trains on SerialGC with no -Xmx (the heap follows the live set; see the launcher); set
# LOWBIT_JAVA_OPTS (e.g. "-XX:+UseParallelGC -Xmx4g") to measure another GC or heap.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/runs/reproduce-training}
peers="$here/../shared/peers"
mkdir -p "$out"
. "$here/scripts/peer-blas-check.sh"
threads=${THREADS:-2}
run() { # name epochs extra...
  local model=$1 epochs=$2; shift 2
  # a reproduction starts over: lowbit train refuses to train afresh into a directory holding a run
  rm -rf -- "${out:?}/$model"
  /usr/bin/time -v -o "$out/$model.time" "$here/lowbit" train --model "$model" --epochs "$epochs" \
    --threads "$threads" --out "$out/$model" "$@" >"$out/$model.log" 2>&1
  python3 - "$out/$model" "$out/$model.time" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1)
print(f"lowbit {s['model']:6s} epochs {s['epochs']:2d} test_acc {s['test_accuracy']:.4f} "
      f"samples/s {s['train_samples_per_s']:.0f} peak_rss_MB {int(rss)/1024:.0f} gemm {s['gemm']}")
PY
}
peer() { # model epochs
  /usr/bin/time -v -o "$out/torch-$1.time" /usr/bin/python3 "$peers/torch_train.py" \
    --model "$1" --epochs "$2" --threads "$threads" >"$out/torch-$1.jsonl" 2>"$out/torch-$1.err"
  python3 - "$out/torch-$1.jsonl" "$out/torch-$1.time" "$1" <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"epoch"' in l]
last = rows[-1]
best = max(r["samples_per_s"] for r in rows)
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1)
print(f"torch  {sys.argv[3]:6s} epochs {last['epoch']:2d} test_acc {last['test_acc']:.4f} "
      f"samples/s {best:.0f} (best epoch) peak_rss_MB {int(rss)/1024:.0f}")
PY
}
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  peer mlp 5
  peer cnn 5
fi
run mlp 5
run cnn 5
run resnet 5
run vit 10

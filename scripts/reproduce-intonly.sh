#!/usr/bin/env bash
# Integer-only inference (issue "integer-only inference", acceptance): trains each model in fp32 on
# Fashion-MNIST (skipped when the run exists), compiles it into an integer-only program and classifies
# the test set with both (`lowbit infer --checkpoint RUN --int-only`), and rewrites the measured block of
# REPRODUCTIONS.md (between <!-- intonly:begin --> and <!-- intonly:end -->) from the summary.json files.
#   scripts/reproduce-intonly.sh [OUT_DIR]            (default: runs/reproduce-intonly)
# Environment: MODELS (mlp,cnn,resnet,vit), EPOCHS (2), LIMIT_TRAIN (0 = all images), CALIBRATION (8
# batches of 64), RULE (ema or max), THREADS (2). Uses Debian's dataset-fashion-mnist when installed, else the embedded subset.
# Takes about 15 minutes on 2 cores with the full data.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/runs/reproduce-intonly}
models=${MODELS:-mlp,cnn,resnet,vit}
epochs=${EPOCHS:-2}
limit=${LIMIT_TRAIN:-0}
calibration=${CALIBRATION:-8}
rule=${RULE:-ema}
threads=${THREADS:-2}
mkdir -p "$out"
cmds=()
for model in ${models//,/ }; do
  run="$out/train-$model"
  train=(./lowbit train --model "$model" --epochs "$epochs" --limit-train "$limit" --threads "$threads" --out "$run")
  if [ ! -f "$run/checkpoint.safetensors" ] || [ ! -f "$run/summary.json" ]; then
    (cd "$here" && "${train[@]}")
  fi
  infer=(./lowbit infer --checkpoint "$run" --int-only --calibration-batches "$calibration" --calibration "$rule" --threads "$threads"
    --out "$out/infer-$model")
  (cd "$here" && "${infer[@]}")
  cmds+=("${train[*]}" "${infer[*]}")
done
python3 - "$out" "$here/REPRODUCTIONS.md" "$(printf '%s\n' "${cmds[@]}")" <<'PY'
import datetime, json, os, sys
out, target, commands = sys.argv[1], sys.argv[2], sys.argv[3].strip().splitlines()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
rows, data, matmul = [], "no runs", "?"
for d in sorted(os.listdir(out)):
    if not d.startswith("infer-"):
        continue
    model = d[len("infer-"):]
    s = json.load(open(os.path.join(out, d, "summary.json")))
    t = json.load(open(os.path.join(out, "train-" + model, "summary.json")))
    fa, ia = s["float"]["accuracy"], s["int"]["accuracy"]
    rows.append("| %s | %s | %d | %.2f %% | %.2f %% | %+.2f | %.0f | %.0f | %.2f× |" % (
        model, t["epochs"], s["test_images"], 100 * fa, 100 * ia, 100 * (ia - fa), s["float"]["images_per_s"],
        s["int"]["images_per_s"], s["int"]["images_per_s"] / s["float"]["images_per_s"]))
    data, matmul = s["data"], s["int"]["matmul"]
block = ["<!-- intonly:begin -->",
         "Measured %s on %s, by `scripts/reproduce-intonly.sh`; %s. Models trained in fp32 by `lowbit train`, "
         "compiled with activation ranges calibrated on %s batches of 64 training images (%s rule), "
         "integer products on %s. Images/s: the same batches of 128 on 2 threads, one pass each (see "
         "BENCHMARKS.md for the interleaved bench)."
         % (datetime.date.today().isoformat(), cpu, data, os.environ.get("CALIBRATION", "8"), os.environ.get("RULE", "ema"), matmul),
         "",
         "| model | epochs | test images | float | integer-only | Δ (points) | float img/s | int img/s | ratio |",
         "|---|---|---|---|---|---|---|---|---|"] + rows + ["", "Commands:", "", "```"] + commands + ["```",
         "<!-- intonly:end -->"]
text = open(target).read()
begin, end = text.find("<!-- intonly:begin -->"), text.find("<!-- intonly:end -->")
if begin < 0 or end < 0:
    sys.exit("REPRODUCTIONS.md has no <!-- intonly:begin --> ... <!-- intonly:end --> block")
text = text[:begin] + "\n".join(block) + text[end + len("<!-- intonly:end -->"):]
tmp = target + ".tmp"
open(tmp, "w").write(text)
os.replace(tmp, target)
print("updated", target)
PY

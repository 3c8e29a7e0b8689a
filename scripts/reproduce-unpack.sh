#!/usr/bin/env bash
# IM-Unpack's unpack ratios on trained models (issue "IM-Unpack", acceptance): trains the CNN and the
# tiny ViT in fp32 on Fashion-MNIST (skipped when the run exists), runs `lowbit unpack` on each
# checkpoint for b = 2, 3, 4, 8 with beta = 1 and beta = 0.95, and rewrites the measured block of
# REPRODUCTIONS.md (between <!-- unpack:begin --> and <!-- unpack:end -->) from the unpack.csv files.
#   scripts/reproduce-unpack.sh [OUT_DIR]            (default: runs/reproduce-unpack)
# Environment: MODELS (cnn,vit), EPOCHS (1), LIMIT_TRAIN (0 = all images), DISTINCT (15), BATCH (64),
# THREADS (2). Uses Debian's dataset-fashion-mnist when installed, else the embedded subset.
# Takes about 10 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/runs/reproduce-unpack}
models=${MODELS:-cnn,vit}
epochs=${EPOCHS:-1}
limit=${LIMIT_TRAIN:-0}
distinct=${DISTINCT:-15}
batch=${BATCH:-64}
threads=${THREADS:-2}
mkdir -p "$out"
cmds=()
for model in ${models//,/ }; do
  run="$out/train-$model"
  if [ ! -f "$run/checkpoint.safetensors" ] || [ ! -f "$run/summary.json" ]; then
    (cd "$here" && ./lowbit train --model "$model" --epochs "$epochs" --limit-train "$limit" --threads "$threads" \
      --out "$run")
  fi
  for beta in 1 0.95; do
    cmd=(./lowbit unpack --model "$model" --checkpoint "$run" --bits 2,3,4,8 --beta "$beta" --distinct "$distinct"
      --batch "$batch" --threads "$threads" --out "$out/unpack-$model-beta$beta")
    (cd "$here" && "${cmd[@]}")
    cmds+=("${cmd[*]}")
  done
done
python3 - "$out" "$here/REPRODUCTIONS.md" "$(printf '%s\n' "${cmds[@]}")" <<'PY'
import csv, datetime, json, os, subprocess, sys
out, target, commands = sys.argv[1], sys.argv[2], sys.argv[3].strip().splitlines()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
rows, trained = [], {}
for d in sorted(os.listdir(out)):
    if not d.startswith("unpack-"):
        continue
    model, beta = d[len("unpack-"):].split("-beta")
    trained[model] = json.load(open(os.path.join(out, "train-" + model, "summary.json")))
    per_b = {}
    with open(os.path.join(out, d, "unpack.csv")) as f:
        for r in csv.DictReader(f):
            b = int(r["bits"])
            macs = int(r["macs"])
            t = per_b.setdefault(b, {"macs": 0, "row": 0.0, "column": 0.0, "both": 0.0, "pick": 0.0, "both_macs": 0,
                                     "heavy": 0.0, "n": 0})
            t["macs"] += macs
            for s in ("row", "column"):
                t[s] += macs * float(r["ratio_" + s])
            if r["ratio_both"]:
                t["both"] += macs * float(r["ratio_both"])
                t["both_macs"] += macs
            t["pick"] += macs * float(r["ratio_pick"])
            t["heavy"] += (float(r["heavy_a"]) + float(r["heavy_b"])) / 2
            t["n"] += 1
    for b in sorted(per_b):
        t = per_b[b]
        both = "%.2f" % (t["both"] / t["both_macs"]) if t["both_macs"] else "—"
        rows.append("| %s | %s | %d | %.1f %% | %.2f | %.2f | %s | %.2f |" % (
            model, beta, b, 100 * t["heavy"] / t["n"], t["row"] / t["macs"], t["column"] / t["macs"], both,
            t["pick"] / t["macs"]))
block = ["<!-- unpack:begin -->",
         "Measured %s on %s, by `scripts/reproduce-unpack.sh` (RTN per GEMM operand, D = %s values; "
         "ratios MAC-weighted over every forward, backward-data and backward-weight product of one "
         "training batch; heavy hitters: the mean fraction of entries with |x| ≥ 2^(b−1) over both operands):"
         % (datetime.date.today().isoformat(), cpu, os.environ.get("DISTINCT", "15")),
         "",
         "Models: " + ", ".join("%s trained %s epoch(s) in fp32, test accuracy %.4f" % (m, t["epochs"], t["test_accuracy"])
                                for m, t in sorted(trained.items())) + ".",
         "",
         "| model | β | b | heavy hitters | row | column | both | chooser |",
         "|---|---|---|---|---|---|---|---|"] + rows + ["", "Commands:", "", "```"] + commands + ["```",
         "<!-- unpack:end -->"]
text = open(target).read()
begin, end = text.find("<!-- unpack:begin -->"), text.find("<!-- unpack:end -->")
if begin < 0 or end < 0:
    sys.exit("reproduce-unpack: REPRODUCTIONS.md has no <!-- unpack:begin/end --> block")
text = text[:begin] + "\n".join(block) + text[end + len("<!-- unpack:end -->"):]
tmp = target + ".tmp"
open(tmp, "w").write(text)
os.replace(tmp, target)
print("reproduce-unpack: wrote the measured block of", target)
PY

#!/usr/bin/env bash
# L-Mul accuracy on the tiny ViT (issue "L-Mul", Luo and Sun, arXiv 2410.00907): trains the ViT in
# fp32 on Fashion-MNIST (skipped when the run exists), evaluates its weights with no retraining under
# fp32, fp8 (E4M3), lmul4-attn, lmul3-all and lmul4-all (`lowbit train --init RUN --epochs 0`), then
# fine-tunes them for FT_EPOCHS with L-Mul in every product, forward and backward (lmul3-train,
# lmul4-train), beside fp32 and fp8 fine-tunes of the same length and rate. Rewrites the measured
# block of REPRODUCTIONS.md (between <!-- lmul:begin --> and <!-- lmul:end -->) from the summary.json
# files. Runs that exist (summary.json) are skipped.
#   scripts/reproduce-lmul.sh [OUT_DIR]            (default: runs/reproduce-lmul)
# Environment: EPOCHS (3, fp32 training), FT_EPOCHS (1), LIMIT_TRAIN (0 = all images), LIMIT_TEST
# (0 = all), EVALS (fp32,fp8,lmul4-attn,lmul3-all,lmul4-all), FINETUNES (fp32,fp8,lmul3-train,lmul4-train),
# THREADS (2), SEED (0). Uses Debian's dataset-fashion-mnist when installed, else the embedded subset.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/runs/reproduce-lmul}
epochs=${EPOCHS:-3}
ft_epochs=${FT_EPOCHS:-1}
limit=${LIMIT_TRAIN:-0}
limit_test=${LIMIT_TEST:-0}
evals=${EVALS:-fp32,fp8,lmul4-attn,lmul3-all,lmul4-all}
finetunes=${FINETUNES:-fp32,fp8,lmul3-train,lmul4-train}
threads=${THREADS:-2}
seed=${SEED:-0}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cmds=()
run() { # DIR CMD...: runs CMD unless DIR has a summary.json; lists it either way
  local dir=$1; shift
  cmds+=("$*")
  if [ ! -f "$dir/summary.json" ]; then
    rm -rf "$dir"
    (cd "$here" && "$@")
  fi
}
common=(--model vit --limit-train "$limit" --limit-test "$limit_test" --threads "$threads" --seed "$seed")
run "$out/train-vit" ./lowbit train "${common[@]}" --epochs "$epochs" --out "$out/train-vit"
for p in ${evals//,/ }; do
  run "$out/eval-$p" ./lowbit train "${common[@]}" --init "$out/train-vit" --policy "$p" --epochs 0 --out "$out/eval-$p"
done
for p in ${finetunes//,/ }; do
  run "$out/ft-$p" ./lowbit train "${common[@]}" --init "$out/train-vit" --policy "$p" --epochs "$ft_epochs" \
    --out "$out/ft-$p"
done
python3 - "$out" "$here/REPRODUCTIONS.md" "$(printf '%s\n' "${cmds[@]}")" <<'PY'
import datetime, json, os, sys
out, target, commands = sys.argv[1], sys.argv[2], sys.argv[3].strip().splitlines()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
load = lambda d: json.load(open(os.path.join(out, d, "summary.json")))
base = load("train-vit")
fp32 = base["test_accuracy"]
what = {"fp32": "exact products", "fp8": "E4M3 weights, activations, errors",
        "lmul4-attn": "L-Mul 4-bit in Q·Kᵀ and attention·V, forward",
        "lmul3-all": "L-Mul 3-bit in every forward product", "lmul4-all": "L-Mul 4-bit in every forward product",
        "lmul3-train": "L-Mul 3-bit in every product, forward and backward",
        "lmul4-train": "L-Mul 4-bit in every product, forward and backward"}
rows = []
for d in sorted(os.listdir(out), key=lambda d: (not d.startswith("eval-"), d)):
    if not (d.startswith("eval-") or d.startswith("ft-")) or not os.path.isfile(os.path.join(out, d, "summary.json")):
        continue
    s = load(d)
    kind, policy = d.split("-", 1)
    acc = s["test_accuracy"]
    before = s.get("accuracy_before_finetune")
    rows.append("| %s | %s | %s | %s | %.2f %% | %+.2f |" % (
        "no retraining" if kind == "eval" else "fine-tune %d epoch(s)" % s["epochs"], policy, what.get(policy, ""),
        "—" if kind == "eval" or before is None else "%.2f %%" % (100 * before), 100 * acc, 100 * (acc - fp32)))
block = ["<!-- lmul:begin -->",
         "Measured %s on %s, by `scripts/reproduce-lmul.sh`; %s. The ViT trained %d epoch(s) in fp32 "
         "(%d training images), test accuracy %.2f %% on %s test images; Δ against it. Fine-tunes start "
         "from its weights at 0.1× the rate (AdamW, fresh optimizer state)."
         % (datetime.date.today().isoformat(), cpu, base["data"], base["epochs"],
            base["config"].get("train_limit", 0) or 60000, 100 * fp32,
            base["config"].get("test_limit", 0) or "all"),
         "",
         "| run | policy | products | before fine-tune | test accuracy | Δ (points) |",
         "|---|---|---|---|---|---|"] + rows + ["", "Commands:", "", "```"] + commands + ["```", "<!-- lmul:end -->"]
text = open(target).read()
begin, end = text.find("<!-- lmul:begin -->"), text.find("<!-- lmul:end -->")
if begin < 0 or end < 0:
    sys.exit("reproduce-lmul: REPRODUCTIONS.md has no <!-- lmul:begin/end --> block")
text = text[:begin] + "\n".join(block) + text[end + len("<!-- lmul:end -->"):]
tmp = target + ".tmp"
open(tmp, "w").write(text)
os.replace(tmp, target)
print("reproduce-lmul: wrote the measured block of", target)
PY

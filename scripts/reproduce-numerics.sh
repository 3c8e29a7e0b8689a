#!/usr/bin/env bash
# The acceptance runs of the low-precision training presets (issue "Low-precision training"):
# one `lowbit sweep` of the CNN on the full Fashion-MNIST set, then REPRODUCTIONS.md's measured
# table is rewritten from the sweep's runs (scripts/reproductions.py).
#   scripts/reproduce-numerics.sh [OUT_DIR]          (default: runs/reproduce-numerics)
# Environment: EPOCHS (5), SEEDS (1), POLICIES (the list below), MODEL (cnn), THREADS (2).
# Needs Debian's dataset-fashion-mnist. Takes about an hour on 2 cores (acc12's emulated
# accumulator dominates); a killed run resumes where it stopped (finished runs are skipped).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/runs/reproduce-numerics}
epochs=${EPOCHS:-5}
seeds=${SEEDS:-1}
model=${MODEL:-cnn}
policies=${POLICIES:-fp32,bf16,fp16,fp8,mxfp8,int8,dfp16,shiftquant4,acc12}
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "reproduce-numerics: needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)" >&2
  exit 2
fi
cmd=(./lowbit sweep --model "$model" --policies "$policies" --epochs "$epochs" --seeds "$seeds"
  --limit-train 0 --limit-test 0 --threads "${THREADS:-2}" --out "$out")
(cd "$here" && "${cmd[@]}")
python3 "$here/scripts/reproductions.py" "$out" "$here/REPRODUCTIONS.md" "scripts/reproduce-numerics.sh  # = ${cmd[*]}"

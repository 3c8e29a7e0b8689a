#!/usr/bin/env bash
# Measures lowbit's GEMMs and PyTorch's on the same shapes, back to back in one sitting, so the
# ratios in BENCHMARKS.md compare like with like. Needs Debian's python3-torch and
# libopenblas0-pthread (see ../shared/peers/README.md). Usage: scripts/bench-peers.sh [SIZE] [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size=${1:-1024}
out=${2:-$(mktemp -d)}
peers="$here/../shared/peers"
mkdir -p "$out"
. "$here/scripts/peer-blas-check.sh"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$peers/torch_gemm.py" --threads 2 --sizes "$size" --backends blas bf16 --out "$out/torch_gemm.jsonl"
/usr/bin/python3 "$peers/torch_qlinear.py" --threads 2 --shapes "${size}x${size}x${size}" --engines onednn --out "$out/torch_qlinear.jsonl"
"$here/lowbit" bench gemm --sizes "$size" --threads 2 --backend auto --json "$out/lowbit_gemm.jsonl"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "JSON lines in $out"

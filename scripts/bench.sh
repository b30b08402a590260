#!/usr/bin/env bash
# The performance table of the README: GEMM against OpenBLAS and CLBlast, and the training
# workloads A–D against PyTorch CPU, a 100-α path against scikit-learn's enet_path, and
# compare's K runs one by one against one stacked model, on both devices, all peers measured
# in this same run. Needs libclblast-dev for the CLBlast column, `pip install torch` for the
# PyTorch column and `pip install scikit-learn` for enet_path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.pocl-cache}"
swift build -c release --product shrink >/dev/null
shrink=.build/release/shrink
echo "## GEMM (m n k), µs per call"
for shape in "32 50 10" "800 50 10" "10000 100 100" "1024 1024 1024" "4096 1024 1024"; do
    set -- $shape
    for device in cpu opencl:0:0; do
        $shrink bench matmul --m "$1" --n "$2" --k "$3" --device "$device" --repeat "${REPEAT:-5}" 2>/dev/null || true
    done
done
echo "## Training workloads, µs per step"
$shrink bench train --device cpu --repeat "${REPEAT:-3}"
$shrink bench train --device opencl:0:0 --repeat "${REPEAT:-3}" --no-torch
echo "## Regularization path (100 α) against scikit-learn's enet_path"
for device in cpu opencl:0:0; do $shrink bench path --device "$device" 2>/dev/null || true; done
echo "## compare: K runs one by one against one stacked model"
for device in cpu opencl:0:0; do
    $shrink bench compare --device "$device" --repeat "${REPEAT:-3}" 2>/dev/null || true
    $shrink bench compare --device "$device" --models 16 --repeat "${REPEAT:-3}" 2>/dev/null || true
done

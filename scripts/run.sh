#!/usr/bin/env bash
# The main job: list the devices, then the reference PyTorch script's L1-vs-L2 experiment on the GPU
# (or the first OpenCL device, or the CPU, with a notice). Extra arguments go to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.pocl-cache}"
swift build -c release --product shrink
.build/release/shrink devices
mkdir -p out
.build/release/shrink compare --device gpu --plot out/compare.svg "$@"

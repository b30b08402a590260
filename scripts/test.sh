#!/usr/bin/env bash
# The tests: installs what is missing, builds, runs every suite (PoCL as the OpenCL device),
# then the kernels and an end-to-end run under Oclgrind (scripts/oclgrind.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.pocl-cache}"
clinfo -l || true
swift build --build-tests
swift test --skip-build "$@"
scripts/oclgrind.sh

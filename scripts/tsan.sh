#!/usr/bin/env bash
# The concurrency suite under the thread sanitizer (its own build folder).
set -euo pipefail
cd "$(dirname "$0")/.."
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.pocl-cache}"
swift test --scratch-path .build-tsan --sanitize=thread --filter ConcurrencyTests

#!/usr/bin/env bash
# Builds a folder that runs Shrink and its OpenCL tests on a machine with an OpenCL GPU driver
# and no Swift: the release binary linked with --static-swift-stdlib, the OpenBLAS and OpenCL
# loader libraries (and what they need) copied beside it, the ShrinkComputeTests binary with
# the Swift runtime it needs (XCTest is only shared on Linux), the PyTorch fixtures, the
# torch peer script and scripts/gpu-check.sh. Wrappers set LD_LIBRARY_PATH to the bundle's lib/.
#   scripts/gpu-bundle.sh [OUT]     (default: gpu-bundle; copy the folder, run OUT/gpu-check.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu-bundle}"
swift build -c release --static-swift-stdlib --product shrink
swift build --build-tests
bin=.build/release/shrink
tests=.build/debug/ShrinkPackageTests.xctest
rm -rf "$out"
mkdir -p "$out/lib" "$out/test-lib" "$out/fixtures" "$out/Benchmarks"
cp "$bin" "$out/lib/shrink"
cp "$tests" "$out/lib/ShrinkPackageTests.xctest"

# Shared libraries resolved by ldd, except the C library itself (glibc's and the dynamic
# loader's, which the target machine has and must use) — $2 is the destination folder.
copy_libraries() {
    ldd "$1" | awk '/=> \// { print $3 }' | while read -r lib; do
        case "$(basename "$lib")" in
            libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libresolv.so*|libutil.so*) ;;
            libstdc++.so*|libgcc_s.so*) ;;  # the machine's: its OpenCL driver is loaded against them
            *) cp -Ln "$lib" "$2/" ;;
        esac
    done
}
copy_libraries "$bin" "$out/lib"
copy_libraries "$tests" "$out/test-lib"
# libOpenCL.so.1 is the ICD loader; the vendor driver (libnvidia-opencl.so.1) stays the machine's.
ls "$out/lib" | grep -q '^libOpenCL' || { echo "gpu-bundle: libOpenCL not found by ldd" >&2; exit 1; }

cp -R Tests/ShrinkTests/Fixtures/torch/. "$out/fixtures/"
cp Benchmarks/torch_workloads.py "$out/Benchmarks/"
cp scripts/gpu-check.sh "$out/gpu-check.sh"
cat > "$out/shrink" <<'WRAP'
#!/bin/sh
here=$(cd "$(dirname "$0")" && pwd)
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" SHRINK_SCRIPTS="${SHRINK_SCRIPTS:-$here}" \
    exec "$here/lib/shrink" "$@"
WRAP
cat > "$out/run-tests" <<'WRAP'
#!/bin/sh
# The compute tests (every kernel and variant against Double loops) on every OpenCL device.
# Arguments: XCTest specifiers (Module.Class[/test], comma-separated); default every class of
# ShrinkComputeTests.
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/lib:$here/test-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
tests="$here/lib/ShrinkPackageTests.xctest"
[ $# -gt 0 ] || set -- "$("$tests" --list-tests | grep '^ShrinkComputeTests\.' | cut -d/ -f1 | sort -u | paste -sd, -)"
exec "$tests" "$@"
WRAP
chmod +x "$out/shrink" "$out/run-tests" "$out/gpu-check.sh"
du -sh "$out"
echo "bundle: $out (run $out/gpu-check.sh on the GPU machine)"

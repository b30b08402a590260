#!/usr/bin/env bash
# One check of Shrink on a machine with a real GPU and an OpenCL driver, run from the folder
# scripts/gpu-bundle.sh makes (no Swift needed there): lists the OpenCL devices, runs the
# compute tests (every kernel and forced variant against Double loops) on every device, trains
# each PyTorch fixture on the GPU and compares with PyTorch's weights and losses (1e-4, as
# FixtureTests), and prints `bench matmul` and `bench train` on the GPU next to the CPU device.
#   ./gpu-check.sh      (DEVICE=opencl:P:D picks a device, default gpu; WORKLOADS=A,B bench train's, default all)
# NVIDIA's OpenCL driver is libnvidia-opencl.so.1; when no ICD file names it, one is made in a
# temporary vendors folder (OCL_ICD_VENDORS), PoCL's added when present.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shrink="$here/shrink"
device="${DEVICE:-gpu}"
status=0
section() { printf '\n== %s\n' "$*"; }

if [ -z "${OCL_ICD_VENDORS:-}" ] && ! grep -qs nvidia /etc/OpenCL/vendors/*.icd \
   && ldconfig -p 2>/dev/null | grep -q 'libnvidia-opencl.so.1'; then
    vendors=$(mktemp -d)
    echo libnvidia-opencl.so.1 > "$vendors/nvidia.icd"
    cp /etc/OpenCL/vendors/pocl.icd "$vendors/" 2>/dev/null || true
    export OCL_ICD_VENDORS="$vendors"
    echo "gpu-check: made an ICD file for libnvidia-opencl.so.1 in $vendors"
fi
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$(mktemp -d)}"

section "devices"
"$shrink" devices || { echo "gpu-check: no OpenCL device"; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv

section "compute tests (every OpenCL device)"
log=$(mktemp)
"$here/run-tests" >"$log" 2>&1 || { echo "gpu-check: compute tests FAILED (log: $log)"; status=1; }
grep -E "error|Executed|skipping" "$log" | tail -40

section "PyTorch fixtures on $device (weights and losses within 1e-4)"
for case in "$here"/fixtures/*/; do
    name=$(basename "$case")
    out=$(mktemp -d)
    # shellcheck disable=SC2046
    if ! "$shrink" train --data "$case/X.npy" --targets "$case/y.npy" --init "$case/init.safetensors" \
            $(cat "$case/args.txt") --device "$device" --save "$out/out.safetensors" --metrics "$out/m.jsonl" >/dev/null; then
        echo "$name: train FAILED"; status=1; continue
    fi
    python3 - "$case" "$out" "$name" <<'PY' || status=1
import json, struct, sys
case, out, name = sys.argv[1:4]
def tensors(path):  # safetensors, float32 only (the fixtures' format), standard library only
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size)); data = f.read()
    return {k: struct.unpack("<%df" % ((v["data_offsets"][1] - v["data_offsets"][0]) // 4),
                             data[v["data_offsets"][0]:v["data_offsets"][1]])
            for k, v in header.items() if k != "__metadata__"}
expected, actual = tensors(case + "/expected.safetensors"), tensors(out + "/out.safetensors")
worst = max(abs(a - e) - (1e-4 + 1e-4 * abs(e)) for k in expected for a, e in zip(actual[k], expected[k]))
losses = json.load(open(case + "/expected_losses.json"))
got = [json.loads(l)["loss"] for l in open(out + "/m.jsonl") if l.strip()]
loss_ok = len(got) == len(losses) and all(abs(g - e) <= 1e-4 * abs(e) for g, e in zip(got, losses))
ok = worst <= 0 and loss_ok and set(actual) == set(expected)
print(f"{name}: {'ok' if ok else 'FAILED'} (weights: worst excess over 1e-4 {worst:.2e}; losses {'ok' if loss_ok else 'differ'})")
sys.exit(0 if ok else 1)
PY
    rm -rf "$out"
done

section "bench matmul ($device, then the CPU device)"
for shape in "32 50 10" "800 50 10" "10000 100 100" "1024 1024 1024" "10 100 10000 --transpose-a" \
             "1 1024 1024 --transpose-a" "10000 10 100 --transpose-b"; do
    set -- $shape
    for d in "$device" cpu; do
        "$shrink" bench matmul --m "$1" --n "$2" --k "$3" "${@:4}" --device "$d" 2>/dev/null || status=1
    done
done

section "bench train ($device, then the CPU device; PyTorch CPU when python3 has torch)"
workloads="${WORKLOADS:-A,B,C,D}"
"$shrink" bench train --workload "$workloads" --device "$device" || status=1
"$shrink" bench train --workload "$workloads" --device cpu --no-torch || status=1

section "result"
[ "$status" -eq 0 ] && echo "gpu-check: all passed" || echo "gpu-check: FAILURES above"
exit "$status"

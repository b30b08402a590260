#!/usr/bin/env bash
# Installs the Debian packages Shrink needs, when missing: the OpenCL ICD loader and
# headers, PoCL (a CPU OpenCL device), Oclgrind (a GPU-type OpenCL simulator that checks
# every work-item), OpenBLAS, clinfo for diagnostics, and Open MPI (mpirun, libmpi.so.40:
# Shrink loads it at run time under mpirun; the tests run jobs of 2 and 3 ranks).
set -euo pipefail
packages=(ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libopenblas-dev clinfo oclgrind openmpi-bin libopenmpi-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

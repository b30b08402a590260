#!/bin/bash
# fit and path under mpirun, as in the README's "Several processes: MPI" table: each workload
# without mpirun, with -np 1 and with -np 2, twice each (the README gives the lesser time).
# Needs a release build (swift build -c release), Open MPI (scripts/setup.sh) and numpy (for
# the dense data only). Usage: scripts/bench_mpi_solvers.sh [folder for the data, default /tmp/shrink-mpi-bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shrink=$root/.build/release/shrink
dir=${1:-/tmp/shrink-mpi-bench}
mkdir -p "$dir"
mpi=(mpirun --allow-run-as-root --oversubscribe)
if [ ! -f "$dir/dX.npy" ]; then
    python3 - "$dir" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
r = np.random.default_rng(0)
n, p = 400000, 200      # mse, badly scaled columns: the Gram route
X = (r.standard_normal((n, p)) * r.uniform(0.1, 100, p) + r.uniform(-50, 50, p)).astype(np.float32)
w = r.standard_normal(p) * (r.uniform(size=p) < 0.2)
np.save(f"{d}/dX.npy", X)
np.save(f"{d}/dy.npy", ((X - X.mean(0)) / X.std(0) @ w + r.standard_normal(n)).astype(np.float32))
n, p = 200000, 500      # bce, badly scaled columns: the row route
X = (r.standard_normal((n, p)) * r.uniform(0.1, 100, p)).astype(np.float32)
w = r.standard_normal(p) * (r.uniform(size=p) < 0.05)
y = (r.uniform(size=n) < 1 / (1 + np.exp(-(X / X.std(0)) @ w * 0.5))).astype(np.float32)
np.save(f"{d}/cX.npy", X); np.save(f"{d}/cy.npy", y)
np.save(f"{d}/c2X.npy", X[:50000, :200]); np.save(f"{d}/c2y.npy", y[:50000])
PY
fi
if [ ! -f "$dir/mX.npy" ]; then
    python3 - "$dir" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
r = np.random.default_rng(1)
n, p, k = 40000, 50, 10     # ce, badly scaled columns: the joint Newton step over all classes
X = (r.standard_normal((n, p)) * r.uniform(0.1, 100, p)).astype(np.float32)
W = r.standard_normal((p, k)) * (r.uniform(size=(p, k)) < 0.1)
logits = (X / X.std(0)) @ W
P = np.exp(logits - logits.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
y = (P.cumsum(1) > r.uniform(size=(n, 1))).argmax(1).astype(np.float32)
np.save(f"{d}/mX.npy", X); np.save(f"{d}/my.npy", y)
PY
fi
if [ ! -f "$dir/sparse/X.npz" ]; then  # the tf-idf problem of `shrink bench sparse`
    "$shrink" bench sparse --no-peers --keep "$dir/sparse" --devices cpu --workloads logistic --reference-tolerance 1e-7 >/dev/null
fi
alpha=$(cat "$dir/sparse/alphas_logistic.txt")
run() {
    echo "== $1: $2"
    for ranks in 0 1 2; do
        for _ in 1 2; do
            if [ "$ranks" = 0 ]; then prefix=(); label="no mpirun"; else prefix=("${mpi[@]}" -np "$ranks"); label="-np $ranks"; fi
            start=$(date +%s%N)
            line=$("${prefix[@]}" "$shrink" $2 | grep '^time ')
            echo "$label: $line  command $(( ($(date +%s%N) - start) / 1000000 )) ms"
        done
    done
}
run gram "fit --data $dir/dX.npy --targets $dir/dy.npy --loss mse --alpha 0.05 --standardize"
run rows-bce "fit --data $dir/cX.npy --targets $dir/cy.npy --loss bce --alpha 0.002 --standardize"
run rows-ce "fit --data $dir/mX.npy --targets $dir/my.npy --loss ce --alpha 0.01 --standardize"
run sparse-bce "fit --data $dir/sparse/X.npz --targets $dir/sparse/y_logistic.npy --loss bce --alpha $alpha"
run path-cv "path --data $dir/c2X.npy --targets $dir/c2y.npy --loss bce --standardize --cv 5 --n-alphas 10 --eps 0.05 --test-split 0 --out $dir/path.json"

"""scikit-learn peer for `shrink bench path`: times enet_path on X.npy / y.npy in a folder.
run: python3 sklearn_path.py FOLDER L1_RATIO EPS N_ALPHAS   prints: seconds=<best of 3>
With FOLDER/alphas.npy the grid is Shrink's (so the coefficients compare point by point);
the last timed run's coefficients (tol 1e-6) go to FOLDER/coefs.npy and, untimed, the exact
path (tol 1e-14) to FOLDER/exact.npy, both [n_alphas, p], so both libraries' errors can be shown.
"""
import os, sys, time
import numpy as np
from sklearn.linear_model import enet_path

folder, l1_ratio, eps, n_alphas = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
X = np.load(f"{folder}/X.npy").astype(np.float64); y = np.load(f"{folder}/y.npy").astype(np.float64)
X = X - X.mean(axis=0); y = y - y.mean()          # enet_path fits no intercept: center, as Lasso does
grid = np.load(f"{folder}/alphas.npy").astype(np.float64) if os.path.exists(f"{folder}/alphas.npy") else None
best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    _, coefs, _ = enet_path(X, y, l1_ratio=l1_ratio, eps=eps, alphas=grid if grid is not None else n_alphas, tol=1e-6)
    best = min(best, time.perf_counter() - t0)
np.save(f"{folder}/coefs.npy", np.ascontiguousarray(coefs.T, dtype=np.float32))
_, exact, _ = enet_path(X, y, l1_ratio=l1_ratio, eps=eps, alphas=grid if grid is not None else n_alphas, tol=1e-14,
                        max_iter=1_000_000)
np.save(f"{folder}/exact.npy", np.ascontiguousarray(exact.T, dtype=np.float32))
print(f"seconds={best:.6f}")

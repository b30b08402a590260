"""scikit-learn peer for `shrink bench path`: times enet_path on X.npy / y.npy in a folder.
run: python3 sklearn_path.py FOLDER L1_RATIO EPS N_ALPHAS   prints: seconds=<best of 3>
"""
import sys, time
import numpy as np
from sklearn.linear_model import enet_path

folder, l1_ratio, eps, n_alphas = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
X = np.load(f"{folder}/X.npy").astype(np.float64); y = np.load(f"{folder}/y.npy").astype(np.float64)
X = X - X.mean(axis=0); y = y - y.mean()          # enet_path fits no intercept: center, as Lasso does
best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    enet_path(X, y, l1_ratio=l1_ratio, eps=eps, n_alphas=n_alphas, tol=1e-6)
    best = min(best, time.perf_counter() - t0)
print(f"seconds={best:.6f}")

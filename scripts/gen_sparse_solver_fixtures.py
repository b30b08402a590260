#!/usr/bin/env python3
"""Fixtures for SparseSolverTests: scikit-learn's solutions of penalized linear problems on
sparse input (SciPy CSR), for `fit` (CoordinateDescentSolver) on a sparse Dataset.

Data sets (each NAME.indptr.npy int64, NAME.indices.npy int32, NAME.data.npy float32,
NAME.y.npy / NAME.ybin.npy float32):
  digits  real data: the first 600 images of scikit-learn's digits, scaled by 1/16 (about half
          the entries are zero); y the digit, ybin digit >= 5.
  text    seeded text-like counts: 400 x 1500, power-law column frequencies, log(1 + count)
          times a random weight in [0.5, 1.5] (tf-idf-like; without it, words seen once in the same
          document give tied columns and a non-unique L1 solution), rows 0-9 empty and the last 300 columns (and every 7th from 1000 on) empty;
          a sparse true model (12 non-zeros) gives y and ybin.

Standardized text problems are elastic nets: standardizing makes such proportional columns
equal, and only a strictly convex problem has one solution to compare.
Cases in expected.json: {data, loss, alpha, l1_ratio, standardize, coef, intercept, kkt}.
  mse: Lasso / ElasticNet(alpha, l1_ratio, fit_intercept, tol 1e-12) on the sparse matrix;
  bce: LogisticRegression(C = 1/(n alpha), l1_ratio, solver saga, tol 1e-12) on it (saga does
       not penalize the intercept, unlike liblinear).
  standardize: the same estimators on the sparse X/s (s the population standard deviation,
       1 for a constant column; scikit-learn centers sparse input implicitly), coef mapped back
       w = w_s/s (the intercept is already in the original units).
kkt: the solution's relative violation of the optimality conditions, checked here in float64
(relative to ||grad f(0)||_inf, as KKTCheck) -- every case must be below 2e-8 (saga converges linearly: 1e-12 is its tol here).
Run: python3 scripts/gen_sparse_solver_fixtures.py
"""
import json, os
import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "ShrinkTests", "Fixtures", "sparse_solver")
os.makedirs(out, exist_ok=True)


def save(name, X, y, ybin):
    X = sp.csr_matrix(X, dtype=np.float32)
    X.sort_indices()
    X.eliminate_zeros()
    np.save(os.path.join(out, name + ".indptr.npy"), X.indptr.astype(np.int64))
    np.save(os.path.join(out, name + ".indices.npy"), X.indices.astype(np.int32))
    np.save(os.path.join(out, name + ".data.npy"), X.data.astype(np.float32))
    np.save(os.path.join(out, name + ".y.npy"), np.asarray(y, dtype=np.float32))
    np.save(os.path.join(out, name + ".ybin.npy"), np.asarray(ybin, dtype=np.float32))
    # What Swift reads: float32 values and targets.
    return X.astype(np.float64), np.asarray(y, np.float32).astype(np.float64), np.asarray(ybin, np.float32).astype(np.float64)


def digits():
    d = load_digits()
    X = sp.csr_matrix(d.data[:600] / 16.0)
    y = d.target[:600].astype(np.float64)
    return save("digits", X, y, (y >= 5).astype(np.float64))


def text(rng):
    n, p = 400, 1500
    freq = 1.0 / np.arange(1, p + 1) ** 1.1
    freq[1200:] = 0
    freq[1000::7] = 0
    freq /= freq.sum()
    rows, cols, vals = [], [], []
    for i in range(10, n):
        k = rng.poisson(12) + 1
        words = rng.choice(p, size=k, p=freq)
        u, c = np.unique(words, return_counts=True)
        rows += [i] * len(u)
        cols += u.tolist()
        vals += (np.log1p(c) * rng.uniform(0.5, 1.5, size=len(u))).tolist()  # tf-idf-like: no tied columns
    X = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(n, p))
    truth = np.zeros(p)
    support = rng.choice(200, size=12, replace=False)
    truth[support] = rng.normal(0, 2, size=12)
    signal = X @ truth
    y = 1.0 + signal + 0.3 * rng.normal(size=n)
    ybin = (signal + 0.3 * rng.normal(size=n) > np.median(signal)).astype(np.float64)
    return save("text", X, y, ybin)


def scales_of(X):
    n = X.shape[0]
    mean = np.asarray(X.mean(axis=0)).ravel()
    sq = np.asarray(X.multiply(X).sum(axis=0)).ravel() / n - mean ** 2
    # As Swift: sum over stored entries of (x - mean)^2 plus (n - count) mean^2.
    Xc = X.tocsc()
    s = np.ones(X.shape[1])
    for j in range(X.shape[1]):
        col = Xc.data[Xc.indptr[j]:Xc.indptr[j + 1]]
        squares = ((col - mean[j]) ** 2).sum() + (n - len(col)) * mean[j] ** 2
        s[j] = np.sqrt(squares / n) if squares > 0 else 1.0
    return mean, s


def grad_at_zero(X, y, loss):
    """||X~^T (y - ybar)||_inf / n on the problem's columns (X given scaled when standardized)."""
    n = X.shape[0]
    return np.abs(X.T @ (y - y.mean())).max() / n


def kkt(X, y, loss, alpha, l1_ratio, w, b):
    n = X.shape[0]
    z = X @ w + b
    if loss == "mse":
        r = (z - y) / n
    else:
        r = (1 / (1 + np.exp(-z)) - y) / n
    g = X.T @ r
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    viol = np.where(w != 0, np.abs(g + l2 * w + l1 * np.sign(w)), np.maximum(np.abs(g) - l1, 0))
    return max(viol.max(), abs(r.sum())) / grad_at_zero(X, y, loss)


def solve(X, y, loss, alpha, l1_ratio):
    n = X.shape[0]
    if loss == "mse":
        if l1_ratio == 1:
            m = Lasso(alpha=alpha, tol=1e-12, max_iter=1_000_000)
        else:
            m = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=1_000_000)
        m.fit(X, y)
        return m.coef_.astype(np.float64), float(m.intercept_)
    m = LogisticRegression(C=1.0 / (n * alpha), l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=2_000_000)
    m.fit(X, y)
    return m.coef_.ravel().astype(np.float64), float(m.intercept_[0])


def main():
    rng = np.random.default_rng(2026)
    sets = {"digits": digits(), "text": text(rng)}
    cases = [  # name, data, loss, fraction of alpha_max, l1_ratio, standardize
        ("digits-lasso", "digits", "mse", 0.05, 1.0, False),
        ("digits-enet", "digits", "mse", 0.05, 0.5, False),
        ("digits-lasso-std", "digits", "mse", 0.05, 1.0, True),
        ("digits-l1-logistic", "digits", "bce", 0.1, 1.0, False),
        ("digits-enet-logistic-std", "digits", "bce", 0.1, 0.5, True),
        ("text-lasso", "text", "mse", 0.005, 1.0, False),
        ("text-enet-std", "text", "mse", 0.01, 0.7, True),
        ("text-l1-logistic", "text", "bce", 0.03, 1.0, False),
        ("text-enet-logistic-std", "text", "bce", 0.1, 0.8, True),
    ]
    expected = {}
    for name, data, loss, fraction, l1_ratio, standardize in cases:
        X, y, ybin = sets[data]
        target = y if loss == "mse" else ybin
        s = scales_of(X)[1] if standardize else np.ones(X.shape[1])
        Xs = sp.csr_matrix(X @ sp.diags(1 / s))
        alpha = fraction * grad_at_zero(Xs, target, loss) / l1_ratio
        ws, b = solve(Xs, target, loss, alpha, l1_ratio)
        violation = kkt(Xs, target, loss, alpha, l1_ratio, ws, b)
        assert violation < 2e-8, f"{name}: the reference's KKT violation is {violation:.3g}"
        w = ws / s
        expected[name] = dict(data=data, loss=loss, alpha=alpha, l1_ratio=l1_ratio, standardize=standardize,
                              coef=w.tolist(), intercept=b, kkt=violation)
        print(f"{name:26} alpha {alpha:.4g} nnz {np.count_nonzero(w):4}/{len(w)} kkt {violation:.2g}", flush=True)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()

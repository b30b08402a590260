#!/usr/bin/env python3
"""Real-data reference solutions for `shrink fit` (a test-only tool; Shrink never imports it).

Writes Tests/ShrinkTests/Fixtures/realdata/:
  <data>/X.npy, <data>/y.npy   raw (NOT standardized) float32 C-order arrays of four data sets
                               bundled with scikit-learn (no download):
      breast_cancer 569x30 (y 0/1), diabetes 442x10 (load_diabetes(scaled=False), raw units),
      wine 178x13 (y 0,1,2), iris 150x4 (y 0,1,2); labels stored as float32.
  expected.json                {case: {data, loss, alpha, l1_ratio, standardize, coef, intercepts,
                               objective, kkt, nonzeros, solver, agreement}}

Objective (scikit-learn convention, intercepts unpenalized), l1 = alpha*l1_ratio,
l2 = alpha*(1 - l1_ratio):
  mse: (1/2n)||y - Xw - b||^2                  + l1||w||_1 + l2/2 ||w||^2
  bce: (1/n) sum logloss(y_i, x_i'w + b)       + same penalty
  ce : (1/n) sum -log softmax(W x_i + b)_{y_i} + l1||W||_1 + l2/2 ||W||_F^2   (W is k x p)
standardize=true poses the problem on Xs = X / s (s_j = population std, ddof=0, 1 for a constant
column; X NOT centered) and reports w = ws / s, b = bs in original units. Every reference is computed
from the stored float32 values converted to float64, so Shrink sees exactly the same numbers.
coef is row-major (for ce: class 0's p coefficients, then class 1's, ...); ce intercepts are
centered (mean 0; softmax ignores a common shift). "objective" is the standardized-space objective.

How each reference is made (all float64, on the standardized problem):
  1. scikit-learn: ElasticNet(alpha, l1_ratio, tol=1e-12, max_iter=1e6) for mse;
     LogisticRegression(C=1/(n*alpha), l1_ratio=...) for bce/ce, solver "saga" (tol 1e-14,
     max_iter 1e6, random_state 0) when l1_ratio > 0; for pure L2 "newton-cholesky" (binary) or
     "newton-cg" (multinomial), tol 1e-12 (lbfgs stalls at a KKT violation of ~1e-7 on iris-l2).
  2. An independent solver written here: proximal Newton (exact Hessian; the quadratic model
     minimized by coordinate descent, accelerated by exact solves on the current support;
     backtracking line search) started from zero, then polished by Newton's method on the smooth
     problem restricted to the support with the signs held fixed (kept only if no sign flips and
     the KKT violation goes down). It reaches KKT ~1e-16 and wins every case.
  The two must agree to 1e-7 per coefficient (|a - b| <= 1e-7 * (1 + |b|), standardized space,
  intercepts included), and the one with the smaller KKT violation is stored ("solver").
Verification (asserted, float64): with g the gradient of the data term in standardized space,
  kkt = max( |dF/db| (every intercept),  |g_j + l2 w_j + l1 sign(w_j)| for w_j != 0,
             max(|g_j| - l1, 0) for w_j == 0 ) / (||Xs'(Y - mean Y)||_inf / n)
  (Y = y, or one-hot for ce), and must be <= 1e-9. Cases are also checked for uniqueness
  ([Xs 1] full rank, so the data term is strictly convex up to the softmax shift) and for a
  non-trivial (not all-zero) solution. The summary table also shows min|w| (smallest nonzero,
  standardized) and zmargin = min over zero coefficients of 1 - |g_j|/l1 (how safe the zeros are).

Usage: python3 scripts/gen_realdata_fixtures.py   (needs numpy, scipy, scikit-learn; ~5 CPU-minutes,
almost all of it saga; deterministic: the X/y files and the stored solutions are reproduced exactly)
"""
import json
import os
import sys
import time
import warnings

import numpy as np
from scipy.special import expit, logsumexp, softmax
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LogisticRegression

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ShrinkTests", "Fixtures", "realdata")
KKT_TOL = 1e-9
AGREE_TOL = 1e-7

DATASETS = {
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "diabetes": lambda: load_diabetes(return_X_y=True, scaled=False),
    "wine": lambda: load_wine(return_X_y=True),
    "iris": lambda: load_iris(return_X_y=True),
}

# name -> (data, loss, alpha, l1_ratio, standardize)
CASES = {
    "diabetes-lasso": ("diabetes", "mse", 0.1, 1.0, True),
    "diabetes-enet": ("diabetes", "mse", 0.5, 0.5, True),
    "diabetes-lasso-small": ("diabetes", "mse", 0.001, 1.0, True),
    "diabetes-lasso-raw": ("diabetes", "mse", 1.0, 1.0, False),
    "bc-l1": ("breast_cancer", "bce", 0.01, 1.0, True),
    "bc-l1-small": ("breast_cancer", "bce", 0.001, 1.0, True),
    "bc-enet": ("breast_cancer", "bce", 0.01, 0.5, True),
    "bc-l2": ("breast_cancer", "bce", 0.01, 0.0, True),
    "wine-l1": ("wine", "ce", 0.01, 1.0, True),
    "wine-enet": ("wine", "ce", 0.02, 0.5, True),
    "iris-l1": ("iris", "ce", 0.01, 1.0, True),
    "iris-l2": ("iris", "ce", 0.05, 0.0, True),
}


# ----------------------------------------------------------------------------------------------
# Problem: parameters theta is a (k, p+1) array, column p holding the intercepts.
class Problem:
    def __init__(self, Xs, y, loss, alpha, l1_ratio):
        self.n, self.p = Xs.shape
        self.loss = loss
        self.Xh = np.c_[Xs, np.ones(self.n)]
        if loss == "ce":
            self.classes = np.unique(y)
            self.k = len(self.classes)
            self.Y = (y[:, None] == self.classes[None, :]).astype(np.float64)
        else:
            self.k = 1
            self.Y = y[:, None].astype(np.float64)
        self.l1 = alpha * l1_ratio
        self.l2 = alpha * (1.0 - l1_ratio)
        self.q = self.p + 1
        self.pen = np.ones((self.k, self.q), dtype=bool)
        self.pen[:, self.p] = False  # intercepts unpenalized
        # ||grad f(0)||_inf with the intercepts at their optimum = ||Xs'(Y - mean Y)||_inf / n
        self.gscale = np.abs(Xs.T @ (self.Y - self.Y.mean(0))).max() / self.n

    def predict(self, theta):
        Z = self.Xh @ theta.T
        if self.loss == "mse":
            return Z, Z
        if self.loss == "bce":
            return Z, expit(Z)
        return Z, softmax(Z, axis=1)

    def f(self, theta):
        Z, P = self.predict(theta)
        if self.loss == "mse":
            return 0.5 * np.sum((Z - self.Y) ** 2) / self.n
        if self.loss == "bce":
            return np.sum(np.logaddexp(0.0, Z) - self.Y * Z) / self.n
        return np.sum(logsumexp(Z, axis=1) - np.sum(self.Y * Z, axis=1)) / self.n

    def penalty(self, theta):
        W = theta[:, : self.p]
        return self.l1 * np.abs(W).sum() + 0.5 * self.l2 * np.sum(W * W)

    def objective(self, theta):
        return self.f(theta) + self.penalty(theta)

    def grad(self, theta):
        _, P = self.predict(theta)
        return ((P - self.Y) / self.n).T @ self.Xh  # (k, q)

    def hess(self, theta):
        _, P = self.predict(theta)
        if self.loss == "mse":
            D = np.ones((self.n, 1, 1))
        elif self.loss == "bce":
            D = (P * (1 - P))[:, :, None]
        else:
            D = np.einsum("ia,ac->iac", P, np.eye(self.k)) - P[:, :, None] * P[:, None, :]
        H = np.einsum("iac,ij,il->ajcl", D / self.n, self.Xh, self.Xh)
        return H.reshape(self.k * self.q, self.k * self.q)

    def kkt(self, theta):
        g = self.grad(theta)
        W, gW = theta[:, : self.p], g[:, : self.p]
        viol = [np.abs(g[:, self.p]).max()]
        nz = W != 0
        if nz.any():
            viol.append(np.abs(gW[nz] + self.l2 * W[nz] + self.l1 * np.sign(W[nz])).max())
        if (~nz).any():
            viol.append(np.maximum(np.abs(gW[~nz]) - self.l1, 0).max())
        return max(viol) / self.gscale

    def center(self, theta):
        if self.loss == "ce":
            theta = theta.copy()
            theta[:, self.p] -= theta[:, self.p].mean()
        return theta


# ----------------------------------------------------------------------------------------------
# Independent solver: proximal Newton + active-set Newton polish.
def soft(x, t):
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def support_solve(pb, theta, g, H, u):
    """Exact minimizer of the quadratic model on u's support with u's signs; None if inconsistent."""
    pen = pb.pen.ravel()
    free = (~pen) | (u != 0)
    Z = ~free
    s = np.sign(u) * pen
    t = theta.ravel()
    rhs = (H @ t)[free] - g.ravel()[free] - pb.l1 * s[free]
    A = H[np.ix_(free, free)] + np.diag(pb.l2 * pen[free])
    uf = np.linalg.lstsq(A, rhs, rcond=None)[0]
    v = np.zeros_like(t)
    v[free] = uf
    if np.any(np.sign(v[free & pen]) != s[free & pen]):
        return None
    c = g.ravel() + H @ (v - t)
    if Z.any() and np.abs(c[Z]).max() > pb.l1 * (1 + 1e-12):
        return None
    return v


def cd_quadratic(pb, theta, g, H, sweeps=20000):
    """min_u g'(u - theta) + 1/2 (u - theta)'H(u - theta) + penalty(u) by coordinate descent;
    every 20 sweeps the model is solved exactly on the current support (kept if consistent)."""
    u = theta.ravel().copy()
    gv = g.ravel()
    pen = pb.pen.ravel()
    diag = np.diag(H).copy()
    Hd = np.zeros_like(u)
    l1, l2 = pb.l1, pb.l2
    for sweep in range(1, sweeps + 1):
        maxch = 0.0
        for m in range(len(u)):
            if diag[m] <= 0:
                continue
            c = gv[m] + Hd[m]  # derivative of the smooth model at u, coordinate m
            if pen[m]:
                new = soft(diag[m] * u[m] - c, l1) / (diag[m] + l2)
            else:
                new = u[m] - c / diag[m]
            delta = new - u[m]
            if delta != 0.0:
                u[m] = new
                Hd += delta * H[:, m]
                maxch = max(maxch, abs(delta))
        if maxch <= 1e-15 * (1.0 + np.abs(u).max()):
            break
        if sweep % 20 == 0:
            v = support_solve(pb, theta, g, H, u)
            if v is not None:
                return v.reshape(theta.shape)
    return u.reshape(theta.shape)


def prox_newton(pb, max_outer=300):
    theta = np.zeros((pb.k, pb.q))
    ybar = pb.Y.mean(0)
    if pb.loss == "mse":
        theta[0, pb.p] = ybar[0]
    elif pb.loss == "bce":
        theta[0, pb.p] = np.log(ybar[0] / (1 - ybar[0]))
    else:
        theta[:, pb.p] = np.log(ybar) - np.log(ybar).mean()
    F = pb.objective(theta)
    for it in range(max_outer):
        g = pb.grad(theta)
        H = pb.hess(theta)
        u = cd_quadratic(pb, theta, g, H)
        d = u - theta
        if np.abs(d).max() == 0.0:
            break
        decrease = np.sum(g * d) + pb.penalty(u) - pb.penalty(theta)
        t = 1.0
        while True:
            cand = theta + t * d
            Fc = pb.objective(cand)
            if Fc <= F + 1e-4 * t * decrease or t < 1e-12:
                break
            t *= 0.5
        theta, Fold, F = pb.center(cand), F, Fc
        if pb.kkt(theta) < 1e-13 or (Fold - F <= 1e-17 * abs(F) and t < 1e-10):
            break
    return theta


def polish(pb, theta, iters=50):
    """Newton's method on the support (signs fixed); returns theta unchanged if it does not help."""
    best, best_kkt = theta, pb.kkt(theta)
    th = theta.copy()
    free = (~pb.pen) | (th != 0)
    fidx = np.flatnonzero(free.ravel())
    penf = pb.pen.ravel()[fidx]
    s = np.sign(th.ravel()[fidx])
    for _ in range(iters):
        g = pb.grad(th).ravel()[fidx]
        x = th.ravel()[fidx]
        r = g + penf * (pb.l2 * x + pb.l1 * s)
        H = pb.hess(th)[np.ix_(fidx, fidx)] + np.diag(penf * pb.l2)
        step = np.linalg.lstsq(H, r, rcond=None)[0]
        new = th.ravel().copy()
        new[fidx] = x - step
        new = pb.center(new.reshape(th.shape))
        if np.any(np.sign(new.ravel()[fidx]) * s < 0) or np.any((new.ravel()[fidx] == 0) & penf):
            break  # sign change: the support guess is wrong, stop
        th = new
        k = pb.kkt(th)
        if k < best_kkt:
            best, best_kkt = th, k
        elif k > 10 * best_kkt:
            break
    return best


# ----------------------------------------------------------------------------------------------
def sklearn_solve(pb, Xs, y, loss, alpha, l1_ratio):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if loss == "mse":
            m = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=1_000_000).fit(Xs, y)
            return np.r_[m.coef_, m.intercept_][None, :], "sklearn-cd"
        n = len(y)
        if l1_ratio > 0:
            solver = "saga"
        else:
            # lbfgs stops at KKT ~1e-7 on iris-l2 even with tol=1e-12; the Newton solvers do not
            solver = "newton-cholesky" if loss == "bce" else "newton-cg"
        # saga converges linearly: tol 1e-14 costs ~25% more epochs than 1e-12 and is 100x closer
        tol = 1e-14 if solver == "saga" else 1e-12
        m = LogisticRegression(C=1.0 / (n * alpha), l1_ratio=l1_ratio, solver=solver, tol=tol,
                               max_iter=1_000_000, random_state=0).fit(Xs, y.astype(np.int64))
        theta = np.c_[np.atleast_2d(m.coef_), np.ravel(m.intercept_)]
        return pb.center(theta), "sklearn-" + solver


def agreement(a, b):
    return float(np.max(np.abs(a - b) / (1.0 + np.abs(b))))


def main():
    os.makedirs(OUT, exist_ok=True)
    data = {}
    for name, load in DATASETS.items():
        X, y = load()
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        y32 = np.ascontiguousarray(y, dtype=np.float32)
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "X.npy"), X32)
        np.save(os.path.join(d, "y.npy"), y32)
        data[name] = (X32.astype(np.float64), y32.astype(np.float64))

    results, rows, failures = {}, [], []
    for case, (dname, loss, alpha, l1_ratio, standardize) in CASES.items():
        t0 = time.time()
        X, y = data[dname]
        if standardize:
            s = X.std(axis=0)
            s[s == 0] = 1.0
        else:
            s = np.ones(X.shape[1])
        Xs = X / s
        pb = Problem(Xs, y, loss, alpha, l1_ratio)
        # uniqueness: [Xs 1] full column rank
        sv = np.linalg.svd(pb.Xh, compute_uv=False)
        assert sv[-1] > 1e-8 * sv[0], f"{case}: [Xs 1] is rank deficient, solution not unique"

        ts = time.time()
        th_sk, sk_name = sklearn_solve(pb, Xs, y, loss, alpha, l1_ratio)
        t_sk = time.time() - ts
        ts = time.time()
        th_pn = polish(pb, prox_newton(pb))
        t_pn = time.time() - ts
        k_sk, k_pn = pb.kkt(th_sk), pb.kkt(th_pn)
        agree = agreement(th_sk, th_pn)
        if k_pn <= k_sk:
            theta, solver, kkt = th_pn, "prox-newton", k_pn
        else:
            theta, solver, kkt = th_sk, sk_name, k_sk
        W = theta[:, : pb.p]
        nnz = int(np.count_nonzero(W))
        obj = pb.objective(theta)
        # support margins (how robust the sparsity pattern is)
        g = pb.grad(theta)[:, : pb.p]
        zmargin = float(np.min(1 - np.abs(g[W == 0]) / pb.l1)) if (W == 0).any() and pb.l1 > 0 else float("nan")
        wmin = float(np.min(np.abs(W[W != 0]))) if nnz else 0.0
        runtime = time.time() - t0

        ok = True
        if kkt > KKT_TOL:
            failures.append(f"{case}: KKT {kkt:.3g} > {KKT_TOL}")
            ok = False
        if agree > AGREE_TOL:
            failures.append(f"{case}: solvers disagree by {agree:.3g} > {AGREE_TOL} "
                            f"(kkt {sk_name} {k_sk:.3g}, prox-newton {k_pn:.3g})")
            ok = False
        if nnz == 0:
            failures.append(f"{case}: all-zero solution")
            ok = False

        coef = (W / s[None, :]).ravel()
        results[case] = {
            "data": dname, "loss": loss, "alpha": alpha, "l1_ratio": l1_ratio, "standardize": standardize,
            "coef": coef.tolist(), "intercepts": theta[:, pb.p].tolist(),
            "objective": float(obj), "kkt": float(kkt), "nonzeros": nnz, "solver": solver,
            "agreement": agree,
        }
        rows.append((case, loss, alpha, l1_ratio, f"{nnz}/{W.size}", kkt, k_sk, k_pn, agree, wmin, zmargin,
                     solver, t_sk, t_pn, ok))
        print(f"  {case}: done in {runtime:.1f}s", file=sys.stderr, flush=True)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")

    hdr = (f"{'case':22} {'loss':4} {'alpha':>6} {'l1r':>4} {'nnz':>6} {'kkt':>9} {'kkt_skl':>9} {'kkt_pn':>9} "
           f"{'agree':>9} {'min|w|':>9} {'zmargin':>8} {'solver':18} {'t_skl':>7} {'t_pn':>6} ok")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r[0]:22} {r[1]:4} {r[2]:6g} {r[3]:4g} {r[4]:>6} {r[5]:9.2e} {r[6]:9.2e} {r[7]:9.2e} {r[8]:9.2e} "
              f"{r[9]:9.2e} {r[10]:8.3f} {r[11]:18} {r[12]:7.1f} {r[13]:6.1f} {'yes' if r[14] else 'NO'}")
    assert not failures, "\n".join(failures)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`shrink bench sparse`'s peers: L1 solvers on one sparse (CSR) problem, at equal accuracy.

A developer tool: nothing in Shrink imports it. `shrink bench sparse` runs it on the data it
generated (X.npz from scipy.sparse.save_npz's format, y.npy) and passes Shrink's own solutions
and times; it also runs standalone on any such pair:

  python3 scripts/bench_sparse_peers.py X.npz y.npy --task logistic [--alpha A | --alpha-fraction 0.02]
  python3 scripts/bench_sparse_peers.py X.npz y.npy --task lasso [--alphas alphas.npy | --n-alphas 50 --eps 1e-2]
      [--repeats 1] [--peers liblinear,sklearn-liblinear,sklearn-saga | celer,skglm,sklearn]
      [--candidate 'LABEL=W.npy[:SECONDS]' ...] [--reference-candidate 'LABEL=W.npy' ...] [--floor 1e-7]
      [--json-out FILE]

Objectives (Shrink's, scikit-learn's `Lasso` / `LogisticRegression(C = 1/(n·α))`, intercept unpenalized):
  lasso     F(w, b) = ½·mean((y − Xw − b)²) + α‖w‖₁, b = ȳ − x̄ᵀw (the best intercept for w: every peer
            fits it by implicit centering, X is never densified)
  logistic  F(w, b) = mean(log(1 + exp(−(2y − 1)(Xw + b)))) + α‖w‖₁, each solver's own b.
Intercepts: liblinear-official runs `-s 6 -B 1 -R` (its bias column 1, *not* regularized: the same
objective exactly); scikit-learn's liblinear cannot leave it unpenalized and gets
intercept_scaling = 1e4 (an intercept penalty α|b|/1e4; its cost counts in its gap); saga, celer,
skglm and scikit-learn's Lasso fit it unpenalized.

Peers: logistic: liblinear-official, sklearn LogisticRegression (liblinear, saga; CSR, their own
layout) and skglm SparseLogisticRegression; lasso: celer `celer_path` and sklearn `lasso_path` (both
warm-started down the grid, implicit centering by X_offset as `Lasso.fit` passes it for sparse X) and
skglm `Lasso.path` (the intercept an unpenalized coordinate). The column-wise solvers (celer, skglm,
sklearn's lasso_path) get a CSC copy and liblinear its problem struct, each built once, untimed (as
the float64 copy of X). Each at a ladder of tolerances (loosest first); a peer that is not installed
prints "not installed". One untimed warm-up on the first 2,000 rows (numba JIT, imports), then
`--repeats` timed runs of the full problem (min reported), each in a forked child stopped after
--time-limit (600 s; reported as unfinished); tighter settings are skipped after one taking over 120 s.
Threads: 2 (OMP/OPENBLAS/MKL/NUMBA and threadpoolctl).

Equal accuracy: the reference is, per α, the solution with the lowest objective among the tight runs
(logistic: skglm tol 1e-12 and liblinear -e 1e-10; lasso: skglm tol 1e-10 and celer tol 1e-10) and any
--reference-candidate (Shrink at tolerance 1e-10). Each run reports gap = (F − F_ref)/F_ref (the
largest over the path) and err = max |w − w_ref|/(1 + |w_ref|). A run is "at Shrink's accuracy" when
gap ≤ τ = max(Shrink's gap, --floor 1e-7); the summary names each peer's fastest such setting and its
time ÷ Shrink's (> 1: Shrink faster).
"""
import argparse, json, math, os, time, warnings

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "2")
warnings.filterwarnings("ignore")

import numpy as np
import scipy.sparse as sp

SKIP_S = 120.0
AUG = 1e4            # sklearn liblinear's intercept_scaling


# ----------------------------------------------------------------------------- problem
class Problem:
    def __init__(self, X, y, task, alphas):
        self.X, self.y, self.task = X.tocsr().astype(np.float64), y.astype(np.float64), task
        self.alphas = np.asarray(alphas, dtype=np.float64)
        self.n, self.p = X.shape
        self.Xc = self.X.tocsc()                        # the column-wise solvers' layout, built once, untimed
        self.xbar = np.asarray(self.X.mean(axis=0)).ravel()
        self.ybar = float(self.y.mean())

    def head(self, rows):
        """The first `rows` rows, for warm-ups (numba JIT)."""
        return Problem(self.X[:rows], self.y[:rows], self.task, self.alphas)

    def objective(self, alpha, w, b=None):
        if self.task == "lasso":
            b = self.ybar - self.xbar @ w
            r = self.y - self.X @ w - b
            return float(0.5 * np.mean(r * r) + alpha * np.abs(w).sum())
        z = self.X @ w + b
        return float(np.mean(np.logaddexp(0, -(2 * self.y - 1) * z)) + alpha * np.abs(w).sum())

    def objectives(self, W, B):
        """W [K, p], B [K] (ignored for lasso) → [K]."""
        return np.array([self.objective(a, w, b) for a, w, b in zip(self.alphas, W, B)])


def alpha_max(X, y):
    """‖Xᵀ(y − ȳ)‖∞ / n · (1 + 10⁻⁴), as Shrink's RegularizationPath.alphaMax (unstandardized)."""
    g = X.T @ (y - y.mean())
    return float(np.abs(g).max() / X.shape[0] * (1 + 1e-4))


def as_solution(a, K, p):
    """A candidate array: [p + 1] or [K, p + 1] (the intercept last) → W [K, p], B [K]."""
    a = np.asarray(a, dtype=np.float64).reshape(K, -1)
    if a.shape[1] != p + 1:
        raise ValueError(f"expected {p + 1} values per α (coefficients, then the intercept), got {a.shape[1]}")
    return a[:, :p], a[:, p]


# ----------------------------------------------------------------------------- peers
def liblinear_problem(P):
    import liblinear.liblinearutil as ll
    t0 = time.perf_counter(); prob = ll.problem(P.y, P.X); return prob, time.perf_counter() - t0


def liblinear_fit(P, prob, alpha, eps):
    import liblinear.liblinearutil as ll
    m = ll.train(prob, ll.parameter(f"-s 6 -c {1 / (P.n * alpha):.17g} -e {eps:g} -B 1 -R -q"))
    W = np.array([m.w[i] for i in range(P.p + 1)])
    sgn = 1.0 if m.get_labels()[0] == 1 else -1.0      # liblinear's w is for its first label
    return sgn * W[:P.p], sgn * W[P.p]


def sk_logreg(X, y, alpha, solver, tol):
    from sklearn.linear_model import LogisticRegression
    kw = {"intercept_scaling": AUG} if solver == "liblinear" else {}
    m = LogisticRegression(C=1 / (len(y) * alpha), l1_ratio=1.0, solver=solver, tol=tol, max_iter=100_000,
                           random_state=0, **kw)
    m.fit(X, y)
    return m.coef_.ravel().copy(), float(m.intercept_[0])


def skglm_logreg(X, y, alpha, tol):
    from skglm import SparseLogisticRegression
    m = SparseLogisticRegression(alpha=alpha, tol=tol, max_iter=1000, fit_intercept=True).fit(X, y)
    return m.coef_.ravel().copy(), float(np.ravel(m.intercept_)[0])


def sk_lasso(P, alphas, tol):
    """lasso_path on the CSC copy with implicit centering (X_offset), as Lasso.fit calls it for sparse X."""
    from sklearn.linear_model import lasso_path
    return lasso_path(P.Xc, P.y - P.ybar, alphas=np.asarray(alphas), tol=tol, max_iter=100_000, X_offset=P.xbar,
                      X_scale=np.ones(P.p))[1].T


def skglm_lasso(P, alphas, tol):
    """skglm's Lasso.path (AndersonCD, working sets, warm starts), the intercept as an unpenalized coordinate."""
    from skglm import Lasso
    coefs = Lasso(tol=tol, max_iter=1000, fit_intercept=True).path(P.Xc, P.y, np.asarray(alphas))[1]
    return np.asarray(coefs)[:P.p].T


def celer_lasso(P, alphas, tol):
    from celer import celer_path
    coefs = celer_path(P.Xc, P.y - P.ybar, "lasso", alphas=np.asarray(alphas), tol=tol, prune=1,
                       X_offset=P.xbar, X_scale=np.ones(P.p))[1]
    return np.asarray(coefs).T


def run_limited(fn, limit):
    """fn() timed in a forked child (the parent's imports and JIT-compiled code inherited), killed
    after `limit` seconds (TimeoutError): a C solver cannot be interrupted otherwise. → (seconds, output)."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child():
        try:
            t0 = time.perf_counter(); out = fn(); send.send(("ok", time.perf_counter() - t0, out))
        except BaseException as e:                      # noqa: B036 (reported to the parent)
            send.send(("error", 0.0, repr(e)))

    process = ctx.Process(target=child)
    process.start()
    send.close()
    if not receive.poll(limit):
        process.kill(); process.join()
        raise TimeoutError
    status, seconds, out = receive.recv()
    process.join()
    if status != "ok":
        raise RuntimeError(out)
    return seconds, out


def installed(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


# ----------------------------------------------------------------------------- the run
class Bench:
    def __init__(self, P, repeats, floor, limit):
        self.P, self.repeats, self.floor, self.limit = P, repeats, floor, limit
        self.rows, self.ref = [], None

    def score(self, W, B):
        F = self.P.objectives(W, B)
        gap = float(np.max((F - self.ref["F"]) / np.abs(self.ref["F"])))
        err = float(np.max(np.abs(W - self.ref["W"]) / (1 + np.abs(self.ref["W"]))))
        return {"gap": gap, "err": err, "nnz_last": int(np.count_nonzero(W[-1]))}

    def print_row(self, r):
        if "skipped" in r:
            print(f"   {r['solver']:34s} {r['setting']:24s} {r['skipped']}", flush=True); return
        t = f"{r['seconds']:9.3f} s" if r.get("seconds") is not None and math.isfinite(r["seconds"]) else "    (untimed)"
        print(f"   {r['solver']:34s} {r['setting']:24s} {t}  gap {r['gap']:+.1e}  err {r['err']:.1e}"
              f"  nnz {r['nnz_last']}{'  ' + r['note'] if r.get('note') else ''}", flush=True)

    def candidate(self, label, path, seconds, kind):
        W, B = as_solution(np.load(path), len(self.P.alphas), self.P.p)
        r = {"solver": label, "setting": "", "kind": kind, "seconds": seconds, **self.score(W, B)}
        self.rows.append(r); self.print_row(r)

    def peer(self, solver, module, settings, to_solution, warm):
        """settings: [(label, fn)] loosest first; fn() -> raw output; to_solution(raw) -> (W, B)."""
        if not installed(module):
            r = {"solver": solver, "setting": "", "kind": "peer", "skipped": "not installed"}
            self.rows.append(r); self.print_row(r); return
        try:
            warm()
        except Exception as e:
            r = {"solver": solver, "setting": "", "kind": "peer", "skipped": f"FAILED (warm-up): {e!r}"[:200]}
            self.rows.append(r); self.print_row(r); return
        for label, fn in settings:
            try:
                times = []
                for _ in range(self.repeats):
                    seconds, out = run_limited(fn, self.limit)
                    times.append(seconds)
                    if seconds > SKIP_S:
                        break
                W, B = to_solution(out)
                r = {"solver": solver, "setting": label, "kind": "peer", "seconds": min(times), "times": times,
                     **self.score(W, B)}
            except TimeoutError:
                r = {"solver": solver, "setting": label, "kind": "peer", "seconds_over": self.limit,
                     "skipped": f"stopped after {self.limit:.0f} s (--time-limit), unfinished"}
            except Exception as e:
                r = {"solver": solver, "setting": label, "kind": "peer", "skipped": f"FAILED: {e!r}"[:200]}
            self.rows.append(r); self.print_row(r)
            if "skipped" in r or r["seconds"] > SKIP_S:
                if "skipped" not in r:
                    print(f"   {solver}: over {SKIP_S:.0f} s, tighter settings skipped", flush=True)
                return

    def summary(self):
        shrink = [r for r in self.rows if r["kind"] == "shrink" and r.get("seconds") is not None]
        peers = [r for r in self.rows if r["kind"] == "peer" and "skipped" not in r]
        out = {}
        if not shrink:
            print("   SUMMARY: no Shrink run to compare with")
            return out
        for s in shrink:
            tau = max(s["gap"], self.floor)
            print(f"   SUMMARY vs {s['solver']}: {s['seconds']:.3f} s, gap {s['gap']:+.1e} → τ = {tau:.1e}")
            out[s["solver"]] = {"seconds": s["seconds"], "gap": s["gap"], "tau": tau, "peers": {}}
            unfinished = [r for r in self.rows if r["kind"] == "peer" and "seconds_over" in r]
            for solver in dict.fromkeys(r["solver"] for r in peers + unfinished):
                runs = [r for r in peers if r["solver"] == solver]
                ok = [r for r in runs if r["gap"] <= tau]
                if not runs:
                    over = next(r for r in unfinished if r["solver"] == solver)
                    out[s["solver"]]["peers"][solver] = {"setting": over["setting"], "unfinished_after": over["seconds_over"],
                                                         "ratio_at_least": over["seconds_over"] / s["seconds"]}
                    print(f"      {solver:34s} {over['setting']}: unfinished after {over['seconds_over']:.0f} s → "
                          f"≥ {over['seconds_over'] / s['seconds']:.2f}×")
                    continue
                if ok:
                    best = min(ok, key=lambda r: r["seconds"])
                    line = f"{best['setting']}: {best['seconds']:.3f} s (gap {best['gap']:+.1e}) → {best['seconds'] / s['seconds']:.2f}×"
                else:
                    best = min(runs, key=lambda r: r["gap"])
                    line = (f"never at gap ≤ τ; its most accurate ({best['setting']}): {best['seconds']:.3f} s, gap "
                            f"{best['gap']:+.1e} → {best['seconds'] / s['seconds']:.2f}× (≥)")
                out[s["solver"]]["peers"][solver] = {"setting": best["setting"], "seconds": best["seconds"],
                                                     "gap": best["gap"], "reached": bool(ok),
                                                     "ratio": best["seconds"] / s["seconds"]}
                print(f"      {solver:34s} {line}")
        print("      (ratio = peer time ÷ Shrink time; > 1: Shrink faster)", flush=True)
        return out


def reference(bench, P, extra):
    """The lowest objective per α among the tight runs and the --reference-candidate files."""
    K = len(P.alphas)
    cands = []
    t0 = time.perf_counter()
    if P.task == "logistic":
        a = P.alphas[0]
        if installed("skglm"):
            w, b = skglm_logreg(P.Xc, P.y, a, 1e-12); cands.append(("skglm tol 1e-12", w[None], np.array([b])))
        if installed("liblinear"):
            prob, _ = liblinear_problem(P)
            w, b = liblinear_fit(P, prob, a, 1e-10); cands.append(("liblinear -e 1e-10", w[None], np.array([b])))
    else:
        if installed("skglm"):
            cands.append(("skglm tol 1e-10", skglm_lasso(P, P.alphas, 1e-10), np.zeros(K)))
        if installed("celer"):
            cands.append(("celer tol 1e-10", celer_lasso(P, P.alphas, 1e-10), np.zeros(K)))
    seconds = time.perf_counter() - t0
    for label, path in extra:
        W, B = as_solution(np.load(path), K, P.p); cands.append((label, W, B))
    if not cands:
        raise SystemExit("no reference: install skglm, celer or liblinear-official, or pass --reference-candidate")
    Fs = [P.objectives(W, B) for _, W, B in cands]
    best = np.argmin(np.array(Fs), axis=0)                       # per α
    W = np.array([cands[best[k]][1][k] for k in range(K)])
    B = np.array([cands[best[k]][2][k] for k in range(K)])
    F = np.array([Fs[best[k]][k] for k in range(K)])
    spread = {label: float(np.max((f - F) / np.abs(F))) for (label, _, _), f in zip(cands, Fs)}
    bench.ref = {"W": W, "B": B, "F": F}
    used = sorted({cands[i][0] for i in best})
    print(f"   reference: lowest objective per α among {', '.join(c[0] for c in cands)} (peers' tight runs "
          f"{seconds:.1f} s, untimed); chosen: {', '.join(used)}; each one's gap above it: "
          + ", ".join(f"{k} {v:.1e}" for k, v in spread.items()), flush=True)
    print(f"   reference: F {F[-1]:.12g} at α {P.alphas[-1]:.6g}, nnz {np.count_nonzero(W[-1])}", flush=True)
    return {"candidates": spread, "chosen": used, "F": F.tolist(), "nnz": [int(np.count_nonzero(w)) for w in W]}


def run_logistic(P, bench, peers, warm_rows):
    a = P.alphas[0]
    Xs, ys = P.X[:warm_rows], P.y[:warm_rows]
    one = lambda wb: (wb[0][None], np.array([wb[1]]))
    if "liblinear" in peers:
        prob = None
        if installed("liblinear"):
            prob, t = liblinear_problem(P)
            print(f"   (liblinear's problem struct built untimed: {t:.2f} s)", flush=True)
        bench.peer("liblinear-official -s 6 -B 1 -R", "liblinear",
                   [(f"-e {e:g}", lambda e=e: liblinear_fit(P, prob, a, e)) for e in (1e-2, 1e-3, 1e-4, 1e-6)],
                   one, lambda: None)
    if "sklearn-liblinear" in peers:
        bench.peer("sklearn LogReg liblinear", "sklearn",
                   [(f"tol {t:g}, int_scaling 1e4", lambda t=t: sk_logreg(P.X, P.y, a, "liblinear", t))
                    for t in (1e-3, 1e-4, 1e-6)], one, lambda: sk_logreg(Xs, ys, a, "liblinear", 1e-2))
    if "sklearn-saga" in peers:
        bench.peer("sklearn LogReg saga", "sklearn",
                   [(f"tol {t:g}", lambda t=t: sk_logreg(P.X, P.y, a, "saga", t)) for t in (1e-3, 1e-4, 1e-5)],
                   one, lambda: sk_logreg(Xs, ys, a, "saga", 1e-2))
    if "skglm" in peers:
        bench.peer("skglm SparseLogisticRegression", "skglm",
                   [(f"tol {t:g}", lambda t=t: skglm_logreg(P.Xc, P.y, a, t)) for t in (1e-5, 1e-6, 1e-8)],
                   one, lambda: skglm_logreg(Xs.tocsc(), ys, a, 1e-4))


def run_lasso(P, bench, peers, warm_rows):
    S, A = P.head(warm_rows), P.alphas
    path = lambda W: (W, np.zeros(len(A)))
    if "celer" in peers:
        bench.peer("celer celer_path", "celer", [(f"tol {t:g}", lambda t=t: celer_lasso(P, A, t)) for t in (1e-2, 1e-4, 1e-6)],
                   path, lambda: celer_lasso(S, A[:3], 1e-4))
    if "skglm" in peers:
        bench.peer("skglm Lasso.path", "skglm", [(f"tol {t:g}", lambda t=t: skglm_lasso(P, A, t)) for t in (1e-5, 1e-7, 1e-9)],
                   path, lambda: skglm_lasso(S, A[:3], 1e-4))
    if "sklearn" in peers:
        bench.peer("sklearn lasso_path", "sklearn", [(f"tol {t:g}", lambda t=t: sk_lasso(P, A, t)) for t in (1e-4, 1e-6, 1e-8)],
                   path, lambda: sk_lasso(S, A[:3], 1e-4))


def labelled_files(items):
    out = []
    for item in items:
        label, _, rest = item.rpartition("=")
        path, _, seconds = rest.partition(":")
        out.append((label or os.path.basename(path), path, float(seconds) if seconds else None))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("X"); ap.add_argument("y")
    ap.add_argument("--task", choices=("logistic", "lasso"), required=True)
    ap.add_argument("--alpha", type=float, help="logistic: α (default: --alpha-fraction × α_max)")
    ap.add_argument("--alpha-fraction", type=float, default=0.02)
    ap.add_argument("--alphas", help="lasso: the grid as a float64 .npy (default: --n-alphas from α_max to --eps·α_max)")
    ap.add_argument("--n-alphas", type=int, default=50)
    ap.add_argument("--eps", type=float, default=1e-2)
    ap.add_argument("--peers", help="comma-separated (default: all of the task's)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--floor", type=float, default=1e-7, help="the least gap τ asked of a peer")
    ap.add_argument("--warm-rows", type=int, default=2000)
    ap.add_argument("--time-limit", type=float, default=600, help="seconds: a run still going is stopped (reported as such)")
    ap.add_argument("--candidate", action="append", default=[], help="LABEL=W.npy[:SECONDS]: a Shrink solution to score")
    ap.add_argument("--reference-candidate", action="append", default=[], help="LABEL=W.npy: a tight solution for the reference")
    ap.add_argument("--json-out")
    args = ap.parse_args()

    X = sp.load_npz(args.X).tocsr(); y = np.load(args.y).astype(np.float64)
    if args.task == "logistic":
        alphas = [args.alpha if args.alpha is not None else float(f"{args.alpha_fraction * alpha_max(X, y):.6g}")]  # as bench sparse
        default_peers = "liblinear,sklearn-liblinear,sklearn-saga,skglm"
    else:
        if args.alphas:
            alphas = np.load(args.alphas).astype(np.float64)
        else:
            amax = alpha_max(X, y)
            alphas = amax * args.eps ** (np.arange(args.n_alphas) / max(1, args.n_alphas - 1))
        default_peers = "celer,skglm,sklearn"
    peers = (args.peers or default_peers).split(",")
    P = Problem(X, y, args.task, alphas)
    import importlib.metadata as md
    versions = {}
    for pkg in ("numpy", "scipy", "scikit-learn", "celer", "skglm", "liblinear-official"):
        try:
            versions[pkg] = md.version(pkg)
        except Exception:
            versions[pkg] = "not installed"
    print(f"== peers, {args.task}: n {P.n}, p {P.p}, nnz {X.nnz} ({X.nnz / P.n:.1f}/row), "
          + (f"α {alphas[0]:.6g}" if args.task == "logistic" else f"{len(alphas)} α {alphas[0]:.6g} … {alphas[-1]:.4g}")
          + f"; repeats {args.repeats}; " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
    bench = Bench(P, args.repeats, args.floor, args.time_limit)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=2):
        ref = reference(bench, P, [(l, p) for l, p, _ in labelled_files(args.reference_candidate)])
        for label, path, seconds in labelled_files(args.candidate):
            bench.candidate(label, path, seconds, "shrink")
        (run_logistic if args.task == "logistic" else run_lasso)(P, bench, peers, args.warm_rows)
    summary = bench.summary()
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"task": args.task, "alphas": list(map(float, alphas)), "versions": versions, "reference": ref,
                       "rows": bench.rows, "summary": summary, "floor": args.floor}, f, indent=1, default=float)


if __name__ == "__main__":
    main()

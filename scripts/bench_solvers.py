#!/usr/bin/env python3
"""Shrink's exact solvers (`shrink path`, `shrink fit`) against public L1 solvers, all measured in this run.

A developer tool: nothing in Shrink imports it.

usage:
  python3 scripts/bench_solvers.py [--only 1a,1b,1c,2a,2b,3,cv] [--repeats 3] [--devices cpu,gpu]
                                   [--shrink .build/release/shrink] [--data DIR] [--json-out FILE]

Workloads (seeded numpy data stored as float32 .npy, so every solver sees the same numbers; the
peers get exact float64 copies):
  1a/1b/1c  Lasso path, 100 α (Shrink's grid, eps 1e-3): n×p = 1000×100, 10000×1000, 500×5000
  2a/2b     L1 logistic at one α = 0.05·α_max: 10000×100, 20000×1000
  3         L1-logistic path, 100 α: 10000×100
  cv        L1-logistic path with 5-fold CV, 100 α, on scikit-learn's breast_cancer
            (StandardScaler, float32)
Peers (skipped when not installed): scikit-learn, celer, skglm, liblinear-official, each at several
tolerances, all solving Shrink's objective (mean loss + α‖w‖₁, unpenalized intercept) on Shrink's
α grid. Where a peer cannot leave the intercept unpenalized (celer logistic, sklearn's liblinear) it
gets a constant column of AUG = 1e4, i.e. an intercept penalty α|b|/1e4; that bias counts in its error.

What is timed:
  * Shrink, two ways: (a) wall time of the whole `shrink …` process (start-up, .npy load, device
    set-up, solve, output) after one untimed warm-up; (b) its in-process solve time, from the path
    JSON's "timing"."solve_seconds" or fit's stdout line "solve <s> s" (NaN when the binary does not
    report it).
  * Peers: in-process wall time (perf_counter) of the solve with the data already in memory as
    float64; centering (Lasso peers) is inside the timed region, building liblinear's problem
    struct is not (it is printed). One untimed warm-up per setting (numba JIT, page faults).
  * R repeats (serially), min and median. Settings whose warm-up exceeds 20 s are timed once;
    a solver's tighter tolerances are skipped after a setting exceeding 120 s.
Threads: OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS=2 and threadpoolctl limit 2.
Accuracy: err = max over the grid and coefficients of |w − w_ref|/(1 + |w_ref|), w_ref an exact
  reference computed untimed and cached on disk per grid: Lasso, sklearn enet_path on centered float64
  data (tol 1e-14, max_iter 1e6); logistic, skglm (ProxNewton, tol 1e-12, warm-started along the path),
  cross-checked against liblinear-official -e 1e-12. One-α logistic also reports the relative objective
  gap (F − F_ref)/F_ref (negative: below the reference). Summary: the fastest peer with err ≤ max(Shrink's err, 1e-5);
  ratio = peer min time ÷ Shrink whole-command min time (> 1: Shrink faster).
"""
import argparse, json, math, os, re, struct, subprocess, tempfile, time, warnings, zlib

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "2"
os.environ.setdefault("POCL_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pocl-cache-bench"))
warnings.filterwarnings("ignore")

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUG = 1e4            # constant column standing in for an intercept (celer logistic, sklearn liblinear)
SLOW_S, SKIP_S = 20.0, 120.0
NAN = float("nan")


# ----------------------------------------------------------------------------- timing and helpers
def timeit(fn, repeats):
    """One untimed warm-up, then `repeats` timed calls. Returns (times, last output, warm-up seconds)."""
    t0 = time.perf_counter(); out = fn(); warm = time.perf_counter() - t0
    times = []
    for _ in range(1 if warm > SLOW_S else repeats):
        t0 = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t0)
    return times, out, warm


def mm(times):
    t = [x for x in times if x is not None and math.isfinite(x)]
    return (float(np.min(t)), float(np.median(t))) if t else (NAN, NAN)


def rel_err(w, ref):
    w, ref = np.asarray(w, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if w.shape != ref.shape:
        return NAN
    return float(np.max(np.abs(w - ref) / (1 + np.abs(ref))))


def fmt(x, spec=".2e"):
    return "—" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def read_safetensors(path):
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(hlen))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name != "__metadata__":
            a, b = meta["data_offsets"]
            dt = {"F32": np.float32, "F64": np.float64}[meta["dtype"]]
            out[name] = np.frombuffer(data[a:b], dtype=dt).reshape(meta["shape"]).astype(np.float64)
    return out


def cached(folder, tag, key_arrays, compute):
    """compute() -> dict of arrays, cached in folder/ref_<tag>_<crc>.npz keyed by the given arrays."""
    crc = 0
    for a in key_arrays:
        crc = zlib.crc32(np.ascontiguousarray(a).tobytes(), crc)
    path = f"{folder}/ref_{tag}_{crc:08x}.npz"
    if os.path.exists(path):
        return dict(np.load(path))
    t0 = time.perf_counter(); out = compute(); out["seconds"] = np.array(time.perf_counter() - t0)
    np.savez(path, **out)
    return out


# ----------------------------------------------------------------------------- Shrink
class Shrink:
    def __init__(self, exe):
        self.exe = exe
        h = subprocess.run([exe, "path", "--help"], capture_output=True, text=True)
        self.has_alphas = "--alphas" in h.stdout + h.stderr

    def run(self, args):
        r = subprocess.run([self.exe] + args, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"shrink {' '.join(args[:1])} failed ({r.returncode}): {r.stderr.strip()[-400:]}")
        return r.stdout

    def timed(self, args, repeats, inproc):
        """Whole-process wall times and in-process solve times (inproc(stdout) -> seconds or None)."""
        walls, solves = [], []
        def once():
            t0 = time.perf_counter(); out = self.run(args); walls.append(time.perf_counter() - t0)
            solves.append(inproc(out))
        once()                                              # untimed warm-up
        n = 1 if walls[0] > SLOW_S else repeats
        walls.clear(); solves.clear()
        for _ in range(n):
            once()
        return walls, solves


def json_solve_seconds(path):
    try:
        v = json.load(open(path)).get("timing", {}).get("solve_seconds")
        return float(v) if v is not None else None
    except Exception:
        return None


def stdout_solve_seconds(out):
    m = re.search(r"solve ([0-9.eE+-]+) s", out)
    return float(m.group(1)) if m else None


def path_points(path):
    pts = json.load(open(path))["path"]
    alphas = np.array([p["alpha"] for p in pts], dtype=np.float64)
    coefs = np.array([p["coefficients"] for p in pts], dtype=np.float64)
    conv = [p.get("converged") for p in pts]
    kkt = [p.get("kkt_violation") for p in pts]
    its = [p.get("iterations") for p in pts]
    info = {"not_converged": sum(1 for c in conv if c is False) if any(c is not None for c in conv) else None,
            "kkt_max": max((k for k in kkt if k is not None), default=None),
            "iterations": sum(i for i in its if i is not None) if any(i is not None for i in its) else None}
    return alphas, coefs, info


# ----------------------------------------------------------------------------- data
def make_data(folder, n, p, k, seed, kind):
    """Gaussian X, k nonzero true coefficients; stored as float32 .npy, returned as float64 copies."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(np.float32)
    w = np.zeros(p); idx = rng.choice(p, k, replace=False)
    if kind == "regression":
        w[idx] = rng.uniform(0.5, 2.0, k) * rng.choice([-1, 1], k)
        y = (X.astype(np.float64) @ w + 1.0 + rng.standard_normal(n)).astype(np.float32)
    else:
        w[idx] = rng.uniform(0.5, 1.5, k) * rng.choice([-1, 1], k)
        z = X.astype(np.float64) @ w + 0.3
        y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.float32)
    return save_data(folder, X, y)


def save_data(folder, X, y):
    os.makedirs(folder, exist_ok=True)
    np.save(f"{folder}/X.npy", X); np.save(f"{folder}/y.npy", y)
    return X.astype(np.float64), y.astype(np.float64)


# ----------------------------------------------------------------------------- peers and references
def centered(X, y):
    return X - X.mean(axis=0), y - y.mean()


def sk_lasso_path(X, y, alphas, tol, max_iter=100_000):
    from sklearn.linear_model import enet_path
    Xc, yc = centered(X, y)
    return enet_path(Xc, yc, l1_ratio=1.0, alphas=alphas, tol=tol, max_iter=max_iter)[1].T


def celer_lasso_path(X, y, alphas, tol):
    from celer import celer_path
    Xc, yc = centered(X, y)
    return celer_path(Xc, yc, "lasso", alphas=alphas, tol=tol)[1].T


def skglm_lasso_path(X, y, alphas, tol):
    from skglm import Lasso
    Xc, yc = centered(X, y)
    return Lasso(tol=tol, fit_intercept=False).path(Xc, yc, alphas)[1].T   # (alphas, coefs, crit, n_iter)


def logistic_objective(X, y, alpha, w, b):
    return float(np.mean(np.logaddexp(0, -(2 * y - 1) * (X @ w + b))) + alpha * np.abs(w).sum())


def skglm_logreg(X, y, alpha, tol, model=None):
    from skglm import SparseLogisticRegression
    m = model or SparseLogisticRegression(alpha=alpha, tol=tol, max_iter=1000, fit_intercept=True)
    m.alpha = alpha
    m.fit(X, y)
    return m.coef_.ravel().copy(), float(np.ravel(m.intercept_)[0])


def skglm_logreg_path(X, y, alphas, tol):
    from skglm import SparseLogisticRegression
    m = SparseLogisticRegression(alpha=alphas[0], tol=tol, max_iter=1000, fit_intercept=True, warm_start=True)
    return np.array([skglm_logreg(X, y, a, tol, m)[0] for a in alphas])


def liblinear_fit(prob, p, n, alpha, eps):
    import liblinear.liblinearutil as ll
    m = ll.train(prob, ll.parameter(f"-s 6 -c {1 / (n * alpha):.17g} -e {eps:g} -B 1 -R -q"))
    W = np.array([m.w[i] for i in range(p + 1)])
    sgn = 1.0 if m.get_labels()[0] == 1 else -1.0      # liblinear's w is for its first label
    return sgn * W[:p], sgn * W[p]


def liblinear_problem(X, y):
    import liblinear.liblinearutil as ll
    t0 = time.perf_counter(); prob = ll.problem(y, X)
    return prob, time.perf_counter() - t0


def celer_logreg_path(Xa, y, alphas, tol):
    """celer's logistic objective is Σ loss + λ‖w‖₁ (no intercept): λ = n·α, y in ±1, constant column."""
    from celer import celer_path
    n = Xa.shape[0]
    coefs = celer_path(Xa, 2 * y - 1, "logreg", alphas=n * np.asarray(alphas), tol=tol)[1].T
    return coefs[:, :-1], coefs[:, -1] * AUG


def sk_logreg(X, y, alpha, solver, tol):
    from sklearn.linear_model import LogisticRegression
    kw = {"intercept_scaling": AUG} if solver == "liblinear" else {}
    m = LogisticRegression(C=1 / (len(y) * alpha), l1_ratio=1.0, solver=solver, tol=tol, max_iter=100_000,
                           random_state=0, **kw)       # seeded: liblinear / saga shuffle coordinates
    m.fit(X, y)
    return m.coef_.ravel().copy(), float(m.intercept_[0])


def logistic_path_reference(folder, X, y, alphas):
    def compute():
        ref = skglm_logreg_path(X, y, alphas, 1e-12)
        prob, _ = liblinear_problem(X, y)
        idx = np.arange(0, len(alphas), 10)
        ll = np.array([liblinear_fit(prob, X.shape[1], len(y), alphas[i], 1e-12)[0] for i in idx])
        return {"ref": ref, "crosscheck": np.array(rel_err(ll, ref[idx]))}
    return cached(folder, "logpath", [alphas, X[:50], y], compute)


def lasso_reference(folder, X, y, alphas):
    return cached(folder, "lasso", [alphas, X[:50], y],
                  lambda: {"ref": sk_lasso_path(X, y, alphas, 1e-14, max_iter=1_000_000)})


# ----------------------------------------------------------------------------- recording
class Workload:
    def __init__(self, name, desc, **info):
        self.res = {"name": name, "desc": desc, **info, "runs": [], "summary": {}}
        print(f"\n== {name}: {desc}", flush=True)

    def note(self, msg, **kv):
        self.res.update(kv)
        print(f"   {msg}", flush=True)

    def record(self, row):
        self.res["runs"].append(row)
        if "failed" in row:
            print(f"   {row['solver']:38s} {row['setting']:30s} FAILED: {row['failed'][:160]}", flush=True)
            return
        extra = ""
        if row.get("inproc_min") is not None:
            extra += f"  in-process {fmt(row['inproc_min'], '.4f')}/{fmt(row['inproc_median'], '.4f')}s"
        if "gap" in row:
            extra += f"  gap {fmt(row['gap'], '+.1e')}"
        for k in ("kkt_max", "not_converged", "note"):
            if row.get(k) is not None:
                extra += f"  {k} {row[k] if not isinstance(row[k], float) else fmt(row[k], '.1e')}"
        print(f"   {row['solver']:38s} {row['setting']:30s} min {row['min']:8.4f}s med {row['median']:8.4f}s"
              f"  err {fmt(row['err'])}{extra}", flush=True)

    def peer(self, solver, settings, repeats, score):
        """settings: [(label, fn)] loosest first; score(out) -> dict with 'err' (and more)."""
        for label, fn in settings:
            try:
                times, out, warm = timeit(fn, repeats)
            except ImportError as e:                   # peer not installed: skipped silently
                self.res["runs"].append({"solver": solver, "setting": label, "kind": "skipped", "reason": repr(e)})
                return
            except Exception as e:
                self.record({"solver": solver, "setting": label, "kind": "peer", "failed": repr(e)})
                return
            lo, med = mm(times)
            self.record({"solver": solver, "setting": label, "kind": "peer", "min": lo, "median": med,
                         "times": times, **score(out)})
            if warm > SKIP_S:
                print(f"   {solver}: warm-up {warm:.0f}s > {SKIP_S:.0f}s, tighter settings skipped", flush=True)
                return

    def shrink(self, shrink, device, args, repeats, inproc, score):
        try:
            walls, solves = shrink.timed(args, repeats, inproc)
            lo, med = mm(walls); ilo, imed = mm(solves)
            row = {"solver": "shrink " + args[0], "setting": f"--device {device}", "kind": "shrink",
                   "device": device, "min": lo, "median": med, "times": walls, "inproc_min": ilo,
                   "inproc_median": imed, "inproc_times": solves, **score()}
        except Exception as e:
            row = {"solver": "shrink " + args[0], "setting": f"--device {device}", "kind": "shrink",
                   "device": device, "failed": repr(e)}
        self.record(row)

    def summarize(self, devices):
        runs = self.res["runs"]
        peers = [r for r in runs if r["kind"] == "peer" and "failed" not in r and math.isfinite(r.get("err", NAN))]
        for dev in devices:
            sh = next((r for r in runs if r.get("device") == dev and r["kind"] == "shrink" and "failed" not in r), None)
            if sh is None:
                print(f"   SUMMARY {dev}: Shrink failed or not run", flush=True)
                continue
            e = sh.get("err", NAN)
            thr = max(e if math.isfinite(e) else 0.0, 1e-5)
            ok = [r for r in peers if r["err"] <= thr]
            best = min(ok, key=lambda r: r["min"]) if ok else (min(peers, key=lambda r: r["err"]) if peers else None)
            s = {"device": dev, "shrink_whole_min": sh["min"], "shrink_whole_median": sh["median"],
                 "shrink_inproc_min": sh["inproc_min"], "shrink_err": e, "threshold": thr,
                 "peer_reached": bool(ok)}
            line = (f"   SUMMARY {dev}: Shrink whole {sh['min']:.4f}s (med {sh['median']:.4f}), in-process "
                    f"{fmt(sh['inproc_min'], '.4f')}s, err {fmt(e)}; ")
            if best is None:
                line += "no peer ran"
            else:
                s.update(peer=f"{best['solver']} {best['setting']}", peer_min=best["min"], peer_err=best["err"],
                         ratio=best["min"] / sh["min"])
                line += ("fastest peer with err ≤ " if ok else f"NO peer reaches err ≤ {thr:.1e}; most accurate: ")
                line += (f"{fmt(thr, '.1e') + ': ' if ok else ''}{s['peer']} {best['min']:.4f}s (err "
                         f"{fmt(best['err'])}); ratio {s['ratio']:.3g} (>1: Shrink faster)")
            self.res["summary"][dev] = s
            print(line, flush=True)
        return self.res


# ----------------------------------------------------------------------------- workloads
def grid_args(shrink, alphas):
    return ["--alphas", ",".join(repr(float(a)) for a in alphas)] if shrink.has_alphas else []


def path_workload(wl, shrink, folder, X, y, loss, devices, repeats, reference, extra_args=(), peers=None):
    """Shared by the Lasso, logistic-path and cv workloads. reference(alphas) -> [K, p]."""
    base = ["path", "--data", f"{folder}/X.npy", "--targets", f"{folder}/y.npy", "--loss", loss, "--l1-ratio", "1",
            "--eps", "1e-3", "--n-alphas", "100", "--test-split", "0", *extra_args]
    shrink.run(base + ["--device", "cpu", "--out", f"{folder}/grid.json"])
    alphas = path_points(f"{folder}/grid.json")[0]
    ref = reference(alphas)
    wl.note(f"grid α_max {alphas[0]:.6g} … {alphas[-1]:.4g} ({len(alphas)} α, Shrink's; "
            f"{'passed to Shrink with --alphas' if shrink.has_alphas else 'Shrink computes it itself'}); "
            f"reference max|w| {np.abs(ref).max():.3g}, nnz at α_min {np.count_nonzero(ref[-1])}",
            alphas=alphas.tolist())
    for dev in devices:
        out = f"{folder}/shrink_{dev}.json"
        def score(out=out):
            a, coefs, info = path_points(out)
            same = a.shape == alphas.shape and np.allclose(a, alphas, rtol=1e-12, atol=0)
            r = ref if same else reference(a)           # own grid differs (old binary, other device)
            cv = json.load(open(out)).get("cv") or {}
            return {"err": rel_err(coefs, r), **info, "alpha_min_cv": cv.get("alpha_min"),
                    "note": None if same else "own grid"}
        wl.shrink(shrink, dev, base + grid_args(shrink, alphas) + ["--device", dev, "--out", out], repeats,
                  lambda _s, out=out: json_solve_seconds(out), score)
    if peers:
        peers(alphas, ref)
    return alphas, ref


def workload_lasso(name, n, p, k, seed, shrink, args):
    folder = f"{args.data}/{name}_{n}x{p}"
    X, y = make_data(folder, n, p, k, seed, "regression")
    wl = Workload(name, f"Lasso path, 100 α, n={n} p={p} (k={k})", n=n, p=p, k=k)
    tols = (1e-4, 1e-6, 1e-8, 1e-10)

    def reference(alphas):
        r = lasso_reference(folder, X, y, alphas)
        wl.note(f"reference: sklearn enet_path tol 1e-14 ({float(r['seconds']):.1f}s when computed)")
        return r["ref"]

    def peers(alphas, ref):
        score = lambda c: {"err": rel_err(c, ref)}
        for solver, fn in (("sklearn enet_path", sk_lasso_path), ("celer celer_path", celer_lasso_path),
                           ("skglm Lasso.path", skglm_lasso_path)):
            wl.peer(solver, [(f"tol {t:g}", lambda t=t, fn=fn: fn(X, y, alphas, t)) for t in tols], args.repeats, score)

    path_workload(wl, shrink, folder, X, y, "mse", args.devices, args.repeats, reference, peers=peers)
    return wl.summarize(args.devices)


def workload_logistic(name, n, p, k, seed, shrink, args):
    folder = f"{args.data}/{name}_{n}x{p}"
    X, y = make_data(folder, n, p, k, seed, "classification")
    amax = float(np.abs(X.T @ (y - y.mean())).max() / n)
    alpha = 0.05 * amax
    wl = Workload(name, f"L1 logistic, one α = 0.05·α_max = {alpha:.6g}, n={n} p={p} (k={k})", n=n, p=p, k=k,
                  alpha=alpha, alpha_max=amax)
    F = lambda w, b: logistic_objective(X, y, alpha, w, b)
    prob, t_prob = liblinear_problem(X, y)

    def compute():
        w1, b1 = skglm_logreg(X, y, alpha, 1e-12)
        w2, b2 = liblinear_fit(prob, p, n, alpha, 1e-12)
        return {"w_skglm": w1, "b_skglm": np.array(b1), "w_ll": w2, "b_ll": np.array(b2)}
    r = cached(folder, f"logreg_{alpha!r}", [X[:50], y], compute)
    cands = [(F(r["w_skglm"], float(r["b_skglm"])), r["w_skglm"], "skglm tol 1e-12"),
             (F(r["w_ll"], float(r["b_ll"])), r["w_ll"], "liblinear -e 1e-12")]
    f_ref, w_ref, which = min(cands, key=lambda c: c[0])
    wl.note(f"reference {which} (F {f_ref:.14f}); skglm vs liblinear at 1e-12: err {rel_err(r['w_skglm'], r['w_ll']):.1e},"
            f" ΔF {abs(cands[0][0] - cands[1][0]):.1e}; nnz {np.count_nonzero(w_ref)}", ref_objective=f_ref)
    score = lambda wb: {"err": rel_err(wb[0], w_ref), "objective": F(*wb), "gap": (F(*wb) - f_ref) / abs(f_ref)}

    for dev in args.devices:
        out = f"{folder}/shrink_{dev}.safetensors"
        cmd = ["fit", "--data", f"{folder}/X.npy", "--targets", f"{folder}/y.npy", "--loss", "bce", "--alpha",
               repr(alpha), "--l1-ratio", "1", "--test-split", "0", "--device", dev, "--save", out]
        def sscore(out=out):
            st = read_safetensors(out)
            w = st.get("0.weight", st.get("weight")).ravel(); b = float(st.get("0.bias", st.get("bias")).ravel()[0])
            return score((w, b))
        wl.shrink(shrink, dev, cmd, args.repeats, stdout_solve_seconds, sscore)
    Xa = np.hstack([X, np.full((n, 1), AUG)])
    wl.peer(f"liblinear-official -s 6 -R", [(f"-e {e:g}", lambda e=e: liblinear_fit(prob, p, n, alpha, e))
                                            for e in (1e-2, 1e-4, 1e-6, 1e-8)], args.repeats, score)
    wl.note(f"(liblinear problem struct built untimed: {t_prob:.3f}s)", liblinear_problem_seconds=t_prob)
    wl.peer("skglm SparseLogisticRegression", [(f"tol {t:g}", lambda t=t: skglm_logreg(X, y, alpha, t))
                                               for t in (1e-4, 1e-6, 1e-8, 1e-10)], args.repeats, score)
    def celer_one(t):
        w, b = celer_logreg_path(Xa, y, [alpha], t)
        return w[0], float(b[0])
    wl.peer("celer logreg", [(f"tol {t:g}, col {AUG:g}", lambda t=t: celer_one(t)) for t in (1e-4, 1e-6, 1e-8)],
            args.repeats, score)
    wl.peer("sklearn LogReg liblinear", [(f"tol {t:g}, int_scaling {AUG:g}", lambda t=t: sk_logreg(X, y, alpha, "liblinear", t))
                                         for t in (1e-4, 1e-6, 1e-8)], args.repeats, score)
    wl.peer("sklearn LogReg saga", [(f"tol {t:g}", lambda t=t: sk_logreg(X, y, alpha, "saga", t))
                                    for t in (1e-4, 1e-6)], args.repeats, score)
    return wl.summarize(args.devices)


def workload_logistic_path(name, n, p, k, seed, shrink, args):
    folder = f"{args.data}/{name}_{n}x{p}"
    X, y = make_data(folder, n, p, k, seed, "classification")
    wl = Workload(name, f"L1-logistic path, 100 α, n={n} p={p} (k={k})", n=n, p=p, k=k)

    def reference(alphas):
        r = logistic_path_reference(folder, X, y, alphas)
        wl.note(f"reference: skglm tol 1e-12 warm loop ({float(r['seconds']):.1f}s when computed); vs liblinear "
                f"-e 1e-12 every 10th α: err {float(r['crosscheck']):.1e}")
        return r["ref"]

    def peers(alphas, ref):
        score = lambda c: {"err": rel_err(c, ref)}
        wl.peer("skglm SparseLogReg warm loop", [(f"tol {t:g}", lambda t=t: skglm_logreg_path(X, y, alphas, t))
                                                 for t in (1e-6, 1e-8, 1e-10)], args.repeats, score)
        Xa = np.hstack([X, np.full((n, 1), AUG)])
        wl.peer("celer celer_path logreg", [(f"tol {t:g}, col {AUG:g}", lambda t=t: celer_logreg_path(Xa, y, alphas, t)[0])
                                            for t in (1e-6, 1e-8)], args.repeats, score)
        prob, t_prob = liblinear_problem(X, y)
        wl.peer("liblinear-official -s 6 -R cold", [(f"-e {e:g}", lambda e=e: np.array(
            [liblinear_fit(prob, p, n, a, e)[0] for a in alphas])) for e in (1e-4, 1e-6, 1e-8)], args.repeats, score)

    path_workload(wl, shrink, folder, X, y, "bce", args.devices, args.repeats, reference, peers=peers)
    return wl.summarize(args.devices)


def workload_cv(name, shrink, args):
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler
    Xr, yr = load_breast_cancer(return_X_y=True)
    folder = f"{args.data}/{name}_breast_cancer"
    X, y = save_data(folder, StandardScaler().fit_transform(Xr).astype(np.float32), yr.astype(np.float32))
    n, p, K = X.shape[0], X.shape[1], 5
    wl = Workload(name, f"L1-logistic path + 5-fold CV, 100 α, breast_cancer standardized (n={n} p={p})", n=n, p=p)
    wl.note("folds differ (Shrink's seeded folds vs StratifiedKFold(5)); equal work: 5 fold paths of 100 α "
            "+ Shrink's full-data path / the peer's refit at its chosen α")

    def reference(alphas):
        r = logistic_path_reference(folder, X, y, alphas)
        wl.note(f"reference: skglm tol 1e-12 warm loop; vs liblinear -e 1e-12: err {float(r['crosscheck']):.1e}")
        return r["ref"]

    def peers(alphas, ref):
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.model_selection import StratifiedKFold
        n_train = n * (K - 1) / K
        Cs = 1 / (n_train * alphas)

        def lrcv(tol):
            # refit=False: sklearn 1.9's refit ignores intercept_scaling for liblinear (intercept 0, wrong w);
            # refit here at the chosen α with Shrink's full-data objective (C = 1/(n·α)).
            m = LogisticRegressionCV(Cs=Cs, l1_ratios=(1.0,), solver="liblinear", cv=StratifiedKFold(K),
                                     scoring="neg_log_loss", tol=tol, intercept_scaling=AUG, max_iter=100_000,
                                     refit=False, use_legacy_attributes=False, random_state=0).fit(X, y)
            i = int(np.argmax(np.asarray(m.scores_).reshape(K, -1).sum(axis=0)))
            return i, sk_logreg(X, y, alphas[i], "liblinear", tol)[0]
        wl.peer("sklearn LogisticRegressionCV liblinear", [(f"tol {t:g}, int_scaling {AUG:g}", lambda t=t: lrcv(t))
                                                           for t in (1e-4, 1e-6, 1e-8)], args.repeats,
                lambda o: {"err": rel_err(o[1], ref[o[0]]), "alpha_min_cv": float(alphas[o[0]])})

    path_workload(wl, shrink, folder, X, y, "bce", args.devices, args.repeats, reference, ["--cv", str(K)], peers)
    chosen = {f"{r['solver'].split()[0]} {r['setting']}": r.get("alpha_min_cv") for r in wl.res["runs"]}
    wl.note("α chosen by CV: " + ", ".join(f"{k}: {fmt(v, '.4g')}" for k, v in chosen.items()))
    return wl.summarize(args.devices)


# ----------------------------------------------------------------------------- main
def versions():
    import importlib.metadata as md
    out = {}
    for pkg in ("numpy", "scipy", "scikit-learn", "celer", "skglm", "liblinear-official", "numba"):
        try:
            out[pkg] = md.version(pkg)
        except Exception:
            out[pkg] = None
    return out


def table(results, devices):
    lines = ["| workload | fastest peer at ≤ Shrink's error | Shrink CPU whole / in-process | ratio | Shrink PoCL whole |",
             "|---|---|---|---|---|"]
    for r in results:
        c, g = r["summary"].get("cpu", {}), r["summary"].get("gpu", {})
        if "peer" in c:
            peer = (f"{c['peer']}: {c['peer_min']:.3f} s (err {c['peer_err']:.1e})" if c["peer_reached"] else
                    f"none ≤ {c['threshold']:.0e}; most accurate {c['peer']}: {c['peer_min']:.3f} s (err {c['peer_err']:.1e})")
        else:
            peer = "—"
        sh = f"{c['shrink_whole_min']:.3f} / {fmt(c['shrink_inproc_min'], '.3f')} s (err {fmt(c['shrink_err'], '.0e')})" if c else "—"
        ratio = f"{c['ratio']:.3g}×" if "ratio" in c else "—"
        gpu = (f"{g['shrink_whole_min']:.3f} s (err {fmt(g['shrink_err'], '.0e')})" if g else "—")
        lines.append(f"| {r['name']} {r['desc'].split(',')[0]} | {peer} | {sh} | {ratio} | {gpu} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="1a,1b,1c,2a,2b,3,cv")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--devices", default="cpu,gpu")
    ap.add_argument("--shrink", default=os.environ.get("SHRINK", os.path.join(ROOT, ".build/release/shrink")))
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "bench_solvers_data"))
    ap.add_argument("--json-out")
    ap.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)  # smoke tests: n, p, k × scale
    args = ap.parse_args()
    args.devices = [d for d in args.devices.split(",") if d]
    shrink = Shrink(args.shrink)

    def sz(n, p, k):
        s = args.scale
        return max(50, round(n * s)), max(5, round(p * s)), max(2, round(k * s))
    jobs = {"1a": lambda: workload_lasso("1a", *sz(1000, 100, 10), 1, shrink, args),
            "1b": lambda: workload_lasso("1b", *sz(10000, 1000, 50), 2, shrink, args),
            "1c": lambda: workload_lasso("1c", *sz(500, 5000, 50), 3, shrink, args),
            "2a": lambda: workload_logistic("2a", *sz(10000, 100, 10), 4, shrink, args),
            "2b": lambda: workload_logistic("2b", *sz(20000, 1000, 20), 5, shrink, args),
            "3": lambda: workload_logistic_path("3", *sz(10000, 100, 10), 6, shrink, args),
            "cv": lambda: workload_cv("cv", shrink, args)}
    keys = [k for k in args.only.split(",") if k]
    unknown = [k for k in keys if k not in jobs]
    if unknown:
        ap.error(f"unknown workloads {unknown}; choose from {','.join(jobs)}")
    print(f"shrink: {args.shrink} ({'--alphas' if shrink.has_alphas else 'no --alphas'}); peers: {versions()}; "
          f"repeats {args.repeats}; devices {args.devices}; scale {args.scale:g}", flush=True)
    results = []
    with threadpool_limits(limits=2):
        for key in keys:
            t0 = time.perf_counter()
            res = jobs[key]()
            res["wall_s"] = time.perf_counter() - t0
            results.append(res)
    md = table(results, args.devices)
    print("\n" + md)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"versions": versions(), "args": {k: v for k, v in vars(args).items()}, "shrink_has_alphas":
                       shrink.has_alphas, "results": results, "table": md}, f, indent=1, default=float)


if __name__ == "__main__":
    main()

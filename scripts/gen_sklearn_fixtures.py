#!/usr/bin/env python3
"""scikit-learn reference solutions for `shrink fit` (a test-only tool; Shrink never imports it).

Writes Tests/ShrinkTests/Fixtures/sklearn/: X.npy [200, 10], y.npy (regression), ybin.npy (0/1)
yclass.npy (3 classes)
and expected.json with coef_/intercept_ of Lasso, ElasticNet (l1_ratio 0.5), Ridge (as
ElasticNet's l1_ratio 0 objective: (1/2n)||y - Xw - b||^2 + alpha/2 ||w||^2, i.e. sklearn's
Ridge with alpha*n), L1 LogisticRegression (saga, C = 1/(n*alpha), unpenalized intercept) and
multinomial LogisticRegression on 3 classes with L1, elastic-net (l1_ratio 0.5) and L2 penalties.
Softmax is unchanged by adding one constant to every class's intercept, so the multinomial
intercepts are written centered (mean 0), the convention Shrink's solver keeps.
Usage: python3 scripts/gen_sklearn_fixtures.py   (needs numpy, scikit-learn)
"""
import json, os
import numpy as np
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "ShrinkTests", "Fixtures", "sklearn")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(42)
n, p = 200, 10
X = rng.standard_normal((n, p)).astype(np.float32)
w = np.zeros(p); w[:4] = [3.0, -2.0, 1.5, 0.5]
y = (X @ w + 0.7 + 0.3 * rng.standard_normal(n)).astype(np.float32)
ybin = ((X @ w + 0.5 * rng.standard_normal(n)) > 0).astype(np.float32)
W3 = np.zeros((3, p)); W3[0, :3] = [2.0, -1.0, 0.5]; W3[1, 2:5] = [1.5, 1.0, -1.0]
yclass = np.argmax(X @ W3.T + 0.7 * rng.standard_normal((n, 3)), axis=1).astype(np.float32)
np.save(os.path.join(out, "yclass.npy"), yclass)
np.save(os.path.join(out, "X.npy"), X); np.save(os.path.join(out, "y.npy"), y); np.save(os.path.join(out, "ybin.npy"), ybin)
Xd, yd = X.astype(np.float64), y.astype(np.float64)
cases = {}
def add(name, loss, alpha, l1_ratio, model):
    case = dict(loss=loss, alpha=alpha, l1_ratio=l1_ratio, coef=np.ravel(model.coef_).tolist())
    if loss == "ce":
        case["intercepts"] = (model.intercept_ - model.intercept_.mean()).tolist()
    else:
        case["intercept"] = float(np.ravel(model.intercept_)[0])
    cases[name] = case
add("lasso", "mse", 0.1, 1.0, Lasso(alpha=0.1, tol=1e-10, max_iter=1_000_000).fit(Xd, yd))
add("elasticnet", "mse", 0.1, 0.5, ElasticNet(alpha=0.1, l1_ratio=0.5, tol=1e-10, max_iter=1_000_000).fit(Xd, yd))
add("ridge", "mse", 0.5, 0.0, Ridge(alpha=0.5 * n, tol=1e-12).fit(Xd, yd))
add("logistic-l1", "bce", 0.02, 1.0, LogisticRegression(l1_ratio=1.0, C=1 / (n * 0.02), solver="saga", tol=1e-12,
                                                        max_iter=1_000_000).fit(Xd, ybin.astype(np.float64)))
yc = yclass.astype(np.int64)
for name, alpha, l1_ratio, solver in [("multinomial-l1", 0.02, 1.0, "saga"), ("multinomial-elasticnet", 0.02, 0.5, "saga"),
                                      ("multinomial-l2", 0.05, 0.0, "lbfgs")]:
    model = LogisticRegression(l1_ratio=l1_ratio, C=1 / (n * alpha), solver=solver, tol=1e-12, max_iter=1_000_000)
    add(name, "ce", alpha, l1_ratio, model.fit(Xd, yc))
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(cases, f, indent=1)
print("wrote", out)

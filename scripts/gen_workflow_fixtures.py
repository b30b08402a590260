#!/usr/bin/env python3
"""The predict/evaluate workflow's references (a test-only tool; Shrink never imports it).

Writes Tests/ShrinkTests/Fixtures/workflow/: three real data sets bundled with scikit-learn,
exported as a data scientist would (pandas-style CSV with a header, no index), split once by
scikit-learn's train_test_split (25 % test, stratified for classes, random_state 0) into
<name>_train.csv and <name>_test.csv, and expected.json: scikit-learn's solution of the same
problem `shrink fit --standardize` solves on the train file, and the metrics of its predictions
on the test file (sklearn.metrics).

  breast_cancer  30 features named as sklearn names them ("mean radius", ...), target
                 "diagnosis" as text: malignant / benign (LabelEncoder: benign = 0, malignant = 1,
                 the reverse of sklearn's own 0 = malignant coding), bce, L1, alpha 0.01
  wine           13 features, target "cultivar" as the UCI file has it: 1, 2, 3 (three classes,
                 not four), ce, L2, alpha 0.01
  diabetes       raw units (scaled=False), target "progression", mse, L1, alpha 0.1

The standardized problem (as Shrink's --standardize and gen_realdata_fixtures.py): Xs = X / s,
s the population std of the train rows (ddof 0), not centered; coefficients reported as w / s.
"""
import json
import os

import numpy as np
from sklearn import datasets, metrics
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.model_selection import train_test_split

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ShrinkTests", "Fixtures", "workflow")


def write_csv(path, names, target, X, y):
    with open(path, "w") as f:
        f.write(",".join(names + [target]) + "\n")
        for row, label in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + str(label) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    cases = [
        ("breast_cancer", datasets.load_breast_cancer(), "diagnosis", "bce", 0.01, 1.0),
        ("wine", datasets.load_wine(), "cultivar", "ce", 0.01, 0.0),
        ("diabetes", datasets.load_diabetes(scaled=False), "progression", "mse", 0.1, 1.0),
    ]
    for name, bunch, target, loss, alpha, l1_ratio in cases:
        X = bunch.data  # written to the CSV as is; read back below as float32, as Shrink reads it
        if name == "breast_cancer":
            labels = np.array([bunch.target_names[t] for t in bunch.target])
        elif name == "wine":
            labels = bunch.target + 1
        else:
            labels = bunch.target
        stratify = labels if loss != "mse" else None
        Xtr, Xte, ytr, yte = train_test_split(X, labels, test_size=0.25, random_state=0, stratify=stratify)
        names = list(bunch.feature_names)
        write_csv(os.path.join(OUT, f"{name}_train.csv"), names, target, Xtr, ytr)
        write_csv(os.path.join(OUT, f"{name}_test.csv"), names, target, Xte, yte)
        # Read back exactly what Shrink reads (float32 features).
        Xtr = Xtr.astype(np.float32).astype(np.float64)
        Xte = Xte.astype(np.float32).astype(np.float64)
        s = Xtr.std(axis=0)
        s[s == 0] = 1
        n = len(Xtr)
        case = {"train": f"{name}_train.csv", "test": f"{name}_test.csv", "loss": loss, "alpha": alpha,
                "l1_ratio": l1_ratio, "target": target, "train_rows": n, "test_rows": len(Xte)}
        if loss == "mse":
            model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=1_000_000).fit(Xtr / s, ytr.astype(np.float32))
            pred = model.predict(Xte / s)
            yt = yte.astype(np.float32).astype(np.float64)
            case["metrics"] = {"mse": metrics.mean_squared_error(yt, pred), "r2": metrics.r2_score(yt, pred),
                               "mae": metrics.mean_absolute_error(yt, pred)}
            case["coef"] = list(model.coef_ / s)
            case["intercepts"] = [float(model.intercept_)]
            case["predictions"] = list(pred)
        else:
            classes = sorted(set(ytr))  # LabelEncoder order
            kw = dict(C=1 / (n * alpha), max_iter=1_000_000, fit_intercept=True)
            if l1_ratio > 0:
                model = LogisticRegression(l1_ratio=l1_ratio, solver="saga", tol=1e-14, random_state=0, **kw)
            else:
                model = LogisticRegression(l1_ratio=0, solver="newton-cg" if loss == "ce" else "newton-cholesky", tol=1e-12, **kw)
            model.fit(Xtr / s, ytr)
            assert [str(c) for c in model.classes_] == [str(c) for c in classes]
            proba = model.predict_proba(Xte / s)
            pred = model.classes_[proba.argmax(axis=1)]
            case["classes"] = [str(c) for c in model.classes_]
            case["metrics"] = {"accuracy": metrics.accuracy_score(yte, pred),
                               "log_loss": metrics.log_loss(yte, proba, labels=model.classes_)}
            if loss == "bce":
                case["metrics"]["roc_auc"] = metrics.roc_auc_score(yte, proba[:, 1])
            case["confusion_matrix"] = metrics.confusion_matrix(yte, pred, labels=model.classes_).tolist()
            case["coef"] = list((model.coef_ / s).ravel())
            b = model.intercept_
            case["intercepts"] = list(b - b.mean()) if loss == "ce" else list(b)
            case["predictions"] = [str(p) for p in pred]
            case["probabilities"] = proba.ravel().tolist()
            # How close the nearest test row is to a decision boundary (labels are exact if > ~1e-4).
            top = np.sort(proba, axis=1)
            case["min_margin"] = float((top[:, -1] - top[:, -2]).min())
        expected[name] = case
        print(name, case["metrics"], case.get("min_margin"))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""scikit-learn reference numbers for Shrink's evaluation metrics (a test-only tool; Shrink never imports it).

Writes Tests/ShrinkTests/Fixtures/metrics/metrics.json, read by Tests/ShrinkTests/MetricsTests.swift:
  regression   [{name, predicted, actual, r2, mse, mae}]        r2_score, mean_squared_error, mean_absolute_error
  accuracy     [{name, predicted, actual, expected}]            accuracy_score
  log_loss     [{name, probabilities (flat rows x k), classes, actual, expected}]
                                                                log_loss(actual, P, labels=range(k))
  log_loss_binary [{name, positive, actual, expected}]          log_loss(actual, p, labels=[0, 1]) (1-D p)
  roc_auc      [{name, scores, actual, expected}]               roc_auc_score
  confusion    [{name, predicted, actual, classes, expected}]   confusion_matrix(labels=range(k))
  evaluation   [{name, loss, outputs (flat rows x k), targets, metrics, confusion_matrix}]
      what `Evaluation` must report for raw model outputs, computed here by scikit-learn on the same
      predictions: bce: P = [expit(-z), expit(z)], prediction z > 0, roc_auc on the logits z;
      ce: P = softmax(z), prediction argmax (first max); mse: the outputs are the predictions.
NaN (r2 of one sample) is written as null. Floats are written by repr (shortest round trip), so the
Swift side reads exactly the numbers scikit-learn saw.

Real data (bundled with scikit-learn, no download): logits of fixed linear models (coefficients
fitted once here and rounded to 3 decimals, deliberately weak so that there are errors) on
breast_cancer (bce), wine (ce, 3 classes) and diabetes (mse).

Usage: python3 scripts/gen_metrics_fixtures.py   (needs numpy, scipy, scikit-learn; deterministic)
"""
import json
import os
import warnings

import numpy as np
import sklearn
from scipy.special import expit, softmax
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (accuracy_score, confusion_matrix, log_loss, mean_absolute_error,
                             mean_squared_error, r2_score, roc_auc_score)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ShrinkTests", "Fixtures", "metrics")
warnings.simplefilter("ignore")  # "do not sum to one", "one sample": the cases are meant


def num(x):
    x = float(x)
    return None if np.isnan(x) else x


def floats(a):
    return [float(v) for v in np.ravel(np.asarray(a, dtype=np.float64))]


def ints(a):
    return [int(v) for v in np.ravel(a)]


rng = np.random.default_rng(20260)
cases = {k: [] for k in ["regression", "accuracy", "log_loss", "log_loss_binary", "roc_auc", "confusion", "evaluation"]}


def standardized(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)


# Real data: fixed, weak linear models.
xb, yb = load_breast_cancer(return_X_y=True)
xbs = standardized(xb)[:, :4]
m = LogisticRegression(C=0.01).fit(xbs, yb)
logits_bc = xbs @ np.round(m.coef_[0], 3) + round(float(m.intercept_[0]), 3)

xw, yw = load_wine(return_X_y=True)
xws = standardized(xw)[:, [0, 1]]
m = LogisticRegression(C=0.1).fit(xws, yw)
logits_wine = xws @ np.round(m.coef_, 3).T + np.round(m.intercept_, 3)

xd, yd = load_diabetes(return_X_y=True, scaled=False)
m = LinearRegression().fit(xd[:, [2, 8]], yd)
pred_diabetes = xd[:, [2, 8]] @ np.round(m.coef_, 3) + round(float(m.intercept_), 3)


# Regression.
def regression(name, predicted, actual):
    predicted, actual = np.asarray(predicted, float), np.asarray(actual, float)
    cases["regression"].append(dict(name=name, predicted=floats(predicted), actual=floats(actual),
                                    r2=num(r2_score(actual, predicted)), mse=num(mean_squared_error(actual, predicted)),
                                    mae=num(mean_absolute_error(actual, predicted))))


regression("small", [2.5, 0.0, 2, 8], [3, -0.5, 2, 7])
regression("negative-r2", [3, 2, 1], [1, 2, 3])
regression("random", rng.normal(0.3, 2, 37), rng.normal(0, 2, 37))
regression("constant-perfect", [-2, -2, -2], [-2, -2, -2])
regression("constant-imperfect", [-2, -2, -2 + 1e-8], [-2, -2, -2])
regression("perfect", [1.5, -3.25, 7], [1.5, -3.25, 7])
regression("one-sample", [1.0], [2.0])
regression("diabetes", pred_diabetes, yd)


# Accuracy.
def accuracy(name, predicted, actual):
    cases["accuracy"].append(dict(name=name, predicted=ints(predicted), actual=ints(actual),
                                  expected=num(accuracy_score(actual, predicted))))


accuracy("small", [0, 2, 1, 3], [0, 1, 2, 3])
accuracy("imbalanced", [0] * 97 + [1] * 3, [0] * 95 + [1] * 5)
accuracy("breast_cancer", (logits_bc > 0).astype(int), yb)
accuracy("wine", np.argmax(logits_wine, axis=1), yw)


# Log loss.
def multiclass_log_loss(name, probabilities, actual):
    p = np.asarray(probabilities, float)
    cases["log_loss"].append(dict(name=name, probabilities=floats(p), classes=p.shape[1], actual=ints(actual),
                                  expected=num(log_loss(actual, p, labels=list(range(p.shape[1]))))))


def binary_log_loss(name, positive, actual):
    cases["log_loss_binary"].append(dict(name=name, positive=floats(positive), actual=ints(actual),
                                         expected=num(log_loss(actual, np.asarray(positive, float), labels=[0, 1]))))


multiclass_log_loss("docs", [[.9, .1], [.1, .9], [.2, .8], [.65, .35]], [0, 1, 1, 0])
multiclass_log_loss("exact-zero-and-one", [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0.2, 0.3, 0.5]], [0, 0, 1, 2])
multiclass_log_loss("rows-not-summing-to-one", [[0.5, 0.7], [0.1, 0.2]], [0, 1])
multiclass_log_loss("one-class-present", [[0.3, 0.5, 0.2], [0.1, 0.1, 0.8]], [2, 2])
multiclass_log_loss("wine", softmax(logits_wine, axis=1), yw)
binary_log_loss("docs", [.1, .9, .8, .35], [0, 1, 1, 0])
binary_log_loss("exact-zero-and-one", [0.0, 1.0, 1.0, 0.0, 0.5, 1e-300], [0, 1, 0, 1, 1, 1])
binary_log_loss("near-one", [1 - 1e-17, 1 - 3e-16, 0.9999999, 1e-20], [1, 1, 0, 1])
binary_log_loss("one-class-present", [0.2, 0.9, 0.6], [1, 1, 1])
binary_log_loss("breast_cancer", expit(logits_bc), yb)


# ROC AUC.
def roc_auc(name, scores, actual):
    cases["roc_auc"].append(dict(name=name, scores=floats(scores), actual=ints(actual),
                                 expected=num(roc_auc_score(actual, np.asarray(scores, float)))))


roc_auc("docs", [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
roc_auc("ties", [0.5, 0.5, 0.5, 0.2, 0.9, 0.2, 0.5, 0.9, 0.1], [1, 0, 1, 0, 1, 1, 0, 1, 0])
roc_auc("all-tied", [3.0] * 6, [0, 1, 0, 1, 1, 0])
roc_auc("perfect", [-2, -1, 0.5, 3, 4], [0, 0, 1, 1, 1])
roc_auc("inverted", [-2, -1, 0.5, 3, 4], [1, 1, 0, 0, 0])
roc_auc("imbalanced", rng.normal(0, 1, 200).round(1), [1] * 7 + [0] * 193)
roc_auc("signed-zero-tie", [0.0, -0.0, 1.0, -1.0], [1, 0, 1, 0])
roc_auc("breast_cancer", logits_bc, yb)


# Confusion matrices.
def confusion(name, predicted, actual, classes):
    cases["confusion"].append(dict(name=name, predicted=ints(predicted), actual=ints(actual), classes=classes,
                                   expected=confusion_matrix(actual, predicted, labels=list(range(classes))).tolist()))


confusion("binary", [0, 1, 1, 0, 1, 1], [0, 1, 0, 1, 1, 1], 2)
confusion("3-class-never-predicted", [0, 0, 2, 2, 0, 2, 0], [0, 1, 2, 2, 1, 0, 0], 3)
confusion("4-class-never-predicted-never-present", [0, 1, 2, 1, 0, 2, 1], [0, 1, 3, 3, 0, 2, 2], 4)
confusion("wine", np.argmax(logits_wine, axis=1), yw, 3)


# Evaluation end to end: raw outputs → metrics.
def evaluation(name, loss, outputs, targets):
    outputs = np.asarray(outputs, float)
    case = dict(name=name, loss=loss, outputs=floats(outputs))
    if loss == "mse":
        targets = np.asarray(targets, float)
        case["metrics"] = dict(mse=num(mean_squared_error(targets, outputs)), r2=num(r2_score(targets, outputs)),
                               mae=num(mean_absolute_error(targets, outputs)))
        case["targets"] = floats(targets)
    else:
        targets = np.asarray(targets, int)
        if loss == "bce":
            z = outputs.ravel()
            probabilities, predicted, k = np.column_stack([expit(-z), expit(z)]), (z > 0).astype(int), 2
        else:
            probabilities, predicted, k = softmax(outputs, axis=1), np.argmax(outputs, axis=1), outputs.shape[1]
        metrics = dict(log_loss=num(log_loss(targets, probabilities, labels=list(range(k)))),
                       accuracy=num(accuracy_score(targets, predicted)))
        if loss == "bce":
            metrics["roc_auc"] = num(roc_auc_score(targets, outputs.ravel())) if len(set(targets)) == 2 else None
        case.update(metrics=metrics, targets=ints(targets),
                    confusion_matrix=confusion_matrix(targets, predicted, labels=list(range(k))).tolist())
    cases["evaluation"].append(case)


evaluation("bce-breast_cancer", "bce", logits_bc, yb)
evaluation("bce-extreme-logits", "bce", [-50, -40, -37, 0, 36, 40, 50, 3.2, -0.7, 800, -800],
           [1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0])   # sigmoid ties 40, 50 and 800 at 1.0: roc_auc must use the logits
evaluation("bce-one-class", "bce", [0.3, -1.2, 2.5], [1, 1, 1])
evaluation("ce-wine", "ce", logits_wine, yw)
z4 = rng.normal(0, 1.5, (40, 4)); z4[:, 3] -= 10; z4[5] = [1.0, 1.0, 0.5, -3.0]   # class 3 never predicted; a tie
evaluation("ce-4-class-never-predicted", "ce", z4, rng.integers(0, 4, 40))
evaluation("ce-extreme-logits", "ce", [[800, 0, -800], [0, 40, 0], [-1, 2, 1]], [2, 0, 1])
evaluation("mse-diabetes", "mse", pred_diabetes, yd)
evaluation("mse-constant-targets", "mse", [1.0, 1.0, 1.5], [1.0, 1.0, 1.0])

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "metrics.json"), "w") as f:
    json.dump(dict(sklearn_version=sklearn.__version__, **cases), f, indent=1, allow_nan=False)
    f.write("\n")
print("wrote", OUT, {k: len(v) for k, v in cases.items()})

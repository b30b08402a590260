#!/usr/bin/env python3
"""Sparse-format fixtures for SparseLoaderTests, made with scikit-learn's and SciPy's own writers
and read back with their own loaders (the expected values).

Writes Tests/ShrinkTests/Fixtures/sparse/:
  NAME.svm|.svmlight|.libsvm|.npz   the file under test
  NAME.indptr.npy, NAME.indices.npy, NAME.data.npy, NAME.y.npy
                                     what scikit-learn / SciPy load from it, as canonical CSR
                                     (int64, int32, float32) and float32 labels
  expected.json                      per file: shape, nnz, zero_based (svmlight)
  bad_*.npz                          malformed SciPy files, each breaking one rule
Run: python3 scripts/gen_sparse_fixtures.py
"""
import io, json, os, zipfile
import numpy as np
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file, load_digits

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "ShrinkTests", "Fixtures", "sparse")
os.makedirs(out, exist_ok=True)
expected = {}

def save_expected(name, X, y, **extra):
    X = sp.csr_matrix(X).sorted_indices()
    np.save(os.path.join(out, name + ".indptr.npy"), X.indptr.astype(np.int64))
    np.save(os.path.join(out, name + ".indices.npy"), X.indices.astype(np.int32))
    np.save(os.path.join(out, name + ".data.npy"), X.data.astype(np.float32))
    np.save(os.path.join(out, name + ".y.npy"), np.asarray(y, dtype=np.float32))
    expected[name] = dict(shape=list(X.shape), nnz=int(X.nnz), **extra)

rng = np.random.default_rng(13)

# Real data: digits (600 × 64, about half zeros), one-based with a header comment, multi-class.
digits = load_digits()
Xd = sp.csr_matrix(digits.data[:600])  # the first 600 images: real data, small fixtures
digits_y = digits.target[:600]
path = os.path.join(out, "digits.svm")
dump_svmlight_file(Xd, digits_y, path, zero_based=False, comment="digits, scikit-learn")
X, y = load_svmlight_file(path)
save_expected("digits.svm", X, y, zero_based=False)

# Text-like: power-law column use, empty rows, negative and tiny values, zero-based, qid, .libsvm.
n, p = 300, 2000
rows = []
for i in range(n):
    k = 0 if i % 37 == 0 else int(rng.integers(1, 30))
    cols = np.unique(np.minimum((rng.pareto(1.2, k) * 20).astype(int), p - 1))
    rows.append(cols)
indptr = np.cumsum([0] + [len(c) for c in rows])
indices = np.concatenate(rows).astype(np.int32)
data = rng.normal(size=len(indices)) * 10.0 ** rng.integers(-6, 3, size=len(indices))
Xt = sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=(n, p))
yt = rng.integers(-1, 2, size=n) * 2 - 1  # labels -3, -1, 1
path = os.path.join(out, "text.libsvm")
dump_svmlight_file(Xt, yt, path, zero_based=True, query_id=rng.integers(1, 5, size=n))
X, y = load_svmlight_file(path)  # auto: zero-based, since index 0 occurs
assert X.shape[1] <= p
save_expected("text.libsvm", X, y, zero_based=True)

# Hand-written: comments, blank lines, CRLF, tabs, exponents, a row with no features.
path = os.path.join(out, "hand.svmlight")
with open(path, "wb") as f:
    f.write(b"# a comment line\r\n1.5 1:2 3:-4e-1 # trailing comment\r\n\r\n-2\t2:1E3\t7:0.25\n0\n   # indented comment\n3 7:-1\n")
X, y = load_svmlight_file(path)
save_expected("hand.svmlight", X, y, zero_based=False)

# SciPy .npz: CSR compressed, CSC uncompressed (the same real data), int64 indices.
save = lambda name, M, compressed: sp.save_npz(os.path.join(out, name), M, compressed=compressed)
save("digits_csr.npz", Xd.astype(np.float64), True)
save_expected("digits_csr.npz", sp.load_npz(os.path.join(out, "digits_csr.npz")), digits_y)
save("text_csc.npz", Xt.tocsc(), False)
save_expected("text_csc.npz", sp.load_npz(os.path.join(out, "text_csc.npz")), yt)
M = Xt.copy(); M.indices = M.indices.astype(np.int64); M.indptr = M.indptr.astype(np.int64)
save("text_int64.npz", M, True)
save_expected("text_int64.npz", sp.load_npz(os.path.join(out, "text_int64.npz")), yt)

# Malformed .npz files, one broken rule each (written array by array, as save_npz does).
def write_npz(name, arrays, drop=None):
    with zipfile.ZipFile(os.path.join(out, name), "w", zipfile.ZIP_DEFLATED) as z:
        for key, value in arrays.items():
            if key == drop:
                continue
            b = io.BytesIO(); np.save(b, value); z.writestr(key + ".npy", b.getvalue())

good = dict(format=np.array("csr"), shape=np.array([3, 4]), data=np.array([1.0, 2.0, 3.0], dtype=np.float32),
            indices=np.array([0, 2, 1], dtype=np.int32), indptr=np.array([0, 2, 2, 3], dtype=np.int32))
write_npz("bad_indptr_decreasing.npz", {**good, "indptr": np.array([0, 2, 1, 3], dtype=np.int32)})
write_npz("bad_indptr_end.npz", {**good, "indptr": np.array([0, 2, 2, 2], dtype=np.int32)})
write_npz("bad_index_range.npz", {**good, "indices": np.array([0, 4, 1], dtype=np.int32)})
write_npz("bad_unsorted.npz", {**good, "indices": np.array([2, 0, 1], dtype=np.int32)})
write_npz("bad_duplicate.npz", {**good, "indices": np.array([1, 1, 1], dtype=np.int32)})
write_npz("bad_format.npz", {**good, "format": np.array("coo")})
write_npz("bad_missing.npz", good, drop="indptr")
write_npz("bad_float_indices.npz", {**good, "indices": np.array([0.0, 2.0, 1.0])})
write_npz("bad_shape.npz", {**good, "shape": np.array([3])})
write_npz("bad_nan.npz", {**good, "data": np.array([1.0, np.nan, 3.0], dtype=np.float32)})
write_npz("good.npz", good)
raw = open(os.path.join(out, "good.npz"), "rb").read()
open(os.path.join(out, "bad_truncated.npz"), "wb").write(raw[: len(raw) // 2])
assert sp.load_npz(os.path.join(out, "good.npz")).toarray().tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [0, 3, 0, 0]]

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
print("wrote", len(expected), "loadable files and the malformed ones to", os.path.normpath(out))

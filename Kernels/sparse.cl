// sparse.cl — products with a sparse matrix in CSR form (SciPy's csr_matrix layout).
//
// sparse_matmul: C = alpha·A·op(B) + beta·C for A CSR m×k (row_starts [m + 1], col_idx and vals
// [nnz]), B dense k×n (n×k when trans_b), C m×n. 2-D NDRange (n, m): item (j, r) sums its row's
// non-zeros in stored order, acc = fma(vals[i], op(B)[col_idx[i], j], acc), then stores as
// matmul.cl's store_c (beta == 0 ignores C's old contents). X·Wᵀ is A = X; Xᵀ·G is A = Xᵀ in
// CSR (a transposed copy built once: no atomics).
// A bad structure — a row's range decreasing or past nnz, a column index outside 0..<k — is never
// followed outside the arrays: that C entry is NaN and the first such item records
// (4, r, offending value, 1, bound) in `failure` (see elementwise.cl's failure record).

// a·b + c stays two roundings unless written fma().
#pragma OPENCL FP_CONTRACT OFF

__kernel void sparse_matmul(const int M, const int N, const int K, const int nnz, const float alpha,
                            __global const int *row_starts, __global const int *col_idx,
                            __global const float *vals, __global const float *B, const int b_off, const int ldb,
                            const int trans_b, const float beta, __global float *C, const int c_off, const int ldc,
                            __global int *failure) {
    const int j = get_global_id(0), r = get_global_id(1);
    if (j >= N || r >= M) return;
    const int start = row_starts[r], end = row_starts[r + 1];
    float acc = 0.0f;
    int failed = 0, bad = 0, bound = 0;
    if (start < 0 || start > end || end > nnz) {
        failed = 1; bad = end; bound = nnz;
    } else {
        for (int i = start; i < end; i++) {
            const int c = col_idx[i];
            if (c < 0 || c >= K) { failed = 1; bad = c; bound = K; break; }
            const float b = trans_b ? B[b_off + j * ldb + c] : B[b_off + c * ldb + j];
            acc = fma(vals[i], b, acc);
        }
    }
    const int idx = c_off + r * ldc + j;
    if (failed) {
        C[idx] = NAN;
        if (j == 0 && atomic_cmpxchg(failure, 0, 4) == 0) {
            failure[1] = r; failure[2] = bad; failure[3] = 1; failure[4] = bound;
        }
        return;
    }
    C[idx] = beta == 0.0f ? alpha * acc : alpha * acc + beta * C[idx];
}

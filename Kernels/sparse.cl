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
//
// sparse_matmul_sel / sparse_matmul_sel_group: the same product over a selection (the sparse
// first layer of a training step, Sources/ShrinkCompute/DeviceOps.swift `SparseSelection`):
// product row i is A's stored row row_first + i (use_idx 0) or row_idx[row_first + i] (use_idx 1,
// 0 ≤ it < a_rows); A's column c meets B's row c (b_mode 0), c − b_first when that is in
// 0..<b_rows (b_mode 1, else nothing), or b_map[c] when ≥ 0 (b_mode 2, < b_rows; negative:
// nothing); C is [M, N], or [N, M] when trans_c. 2-D NDRange:
//   sparse_matmul_sel        (N, M), item (j, i) sums its row in stored order (CPU-type devices);
//   sparse_matmul_sel_group  (N·SP_LOCAL, M), local (SP_LOCAL, 1): work-group (j, i), item t sums
//                            entries start + t, start + t + SP_LOCAL, … in order, then a fixed
//                            pairwise tree in __local adds the partials (GPU-type devices, long rows).
// A selected row outside A records (5, i, row, 1, a_rows); a bad row range or column (4, i, …);
// a mapped row ≥ b_rows (6, i, row, 1, b_rows); that C entry is NaN.
// scatter_positions: map[idx[idx_off + i]] = i, or −1 when reset, for i < rows (distinct indices,
// each in 0..<count, else (7, i, index, 1, count) and nothing written for it).
//
// sparse_matmul_tn: C = beta·C + Σ_i alpha·B[i, j]·A_S[i, :] written [N, K], i.e. Bᵀ·A_S for B
// [M, N] and the M selected rows of A (as above): the weight gradient δᵀ·X_b straight from the
// batch's CSR rows. 2-D NDRange (slices, N): item (s, j) owns columns K·s/slices ..<
// K·(s+1)/slices of C's row j — it scales them by beta (0: ignores their contents), then for each
// selected row in order finds its first column in the slice by binary search and adds
// fma(vals[e], alpha·B[i, j], C) over the row's entries in the slice. Every C entry has one
// writer: no atomics, a fixed order. Rows must hold strictly increasing columns (SparseMatrix's
// rule): a row that does not is never followed outside C or the item's slice, but its sum is
// then unspecified. A bad selected row or row range, or a row starting below column 0 or ending
// at or past K, records (5 or 4, i, …) and makes C's row j NaN in every slice.

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

// Row i's stored range: 0, or the failure code with *bad and *bound.
int sel_row(const int i, const int a_rows, const int nnz, __global const int *row_starts,
            __global const int *row_idx, const int row_first, const int use_idx,
            int *start, int *end, int *bad, int *bound) {
    const int ar = use_idx ? row_idx[row_first + i] : row_first + i;
    if (ar < 0 || ar >= a_rows) { *bad = ar; *bound = a_rows; return 5; }
    *start = row_starts[ar]; *end = row_starts[ar + 1];
    if (*start < 0 || *start > *end || *end > nnz) { *bad = *end; *bound = nnz; return 4; }
    return 0;
}

// Σ fma(vals[e], op(B)[B row of col_idx[e], j]) over e = from, from + step, … < end, in that
// order, into *acc: 0, or the failure code with *bad and *bound.
int sel_sum(const int from, const int end, const int step, const int j, const int K,
            __global const int *col_idx, __global const float *vals,
            __global const int *b_map, const int b_mode, const int b_first, const int b_rows,
            __global const float *B, const int b_off, const int ldb, const int trans_b,
            float *acc, int *bad, int *bound) {
    float sum = 0.0f;
    for (int e = from; e < end; e += step) {
        const int c = col_idx[e];
        if (c < 0 || c >= K) { *bad = c; *bound = K; *acc = sum; return 4; }
        int br = c;
        if (b_mode == 1) {
            br = c - b_first;
            if (br < 0 || br >= b_rows) continue;
        } else if (b_mode == 2) {
            br = b_map[c];
            if (br < 0) continue;
            if (br >= b_rows) { *bad = br; *bound = b_rows; *acc = sum; return 6; }
        }
        const float b = trans_b ? B[b_off + j * ldb + br] : B[b_off + br * ldb + j];
        sum = fma(vals[e], b, sum);
    }
    *acc = sum;
    return 0;
}

void sel_record(__global int *failure, const int code, const int i, const int bad, const int bound) {
    if (atomic_cmpxchg(failure, 0, code) == 0) {
        failure[1] = i; failure[2] = bad; failure[3] = 1; failure[4] = bound;
    }
}

__kernel void sparse_matmul_sel(const int M, const int N, const int K, const int nnz, const float alpha,
                                __global const int *row_starts, __global const int *col_idx,
                                __global const float *vals, const int a_rows,
                                __global const int *row_idx, const int row_first, const int use_idx,
                                __global const int *b_map, const int b_mode, const int b_first, const int b_rows,
                                __global const float *B, const int b_off, const int ldb, const int trans_b,
                                const float beta, __global float *C, const int c_off, const int ldc,
                                const int trans_c, __global int *failure) {
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= N || i >= M) return;
    int start = 0, end = 0, bad = 0, bound = 0;
    float acc = 0.0f;
    int failed = sel_row(i, a_rows, nnz, row_starts, row_idx, row_first, use_idx, &start, &end, &bad, &bound);
    if (!failed) {
        failed = sel_sum(start, end, 1, j, K, col_idx, vals, b_map, b_mode, b_first, b_rows, B, b_off, ldb,
                         trans_b, &acc, &bad, &bound);
    }
    const int idx = c_off + (trans_c ? j * ldc + i : i * ldc + j);
    if (failed) {
        C[idx] = NAN;
        if (j == 0) sel_record(failure, failed, i, bad, bound);
        return;
    }
    C[idx] = beta == 0.0f ? alpha * acc : alpha * acc + beta * C[idx];
}

__kernel void sparse_matmul_sel_group(const int M, const int N, const int K, const int nnz, const float alpha,
                                      __global const int *row_starts, __global const int *col_idx,
                                      __global const float *vals, const int a_rows,
                                      __global const int *row_idx, const int row_first, const int use_idx,
                                      __global const int *b_map, const int b_mode, const int b_first,
                                      const int b_rows, __global const float *B, const int b_off, const int ldb,
                                      const int trans_b, const float beta, __global float *C, const int c_off,
                                      const int ldc, const int trans_c, __global int *failure) {
    __local float part[SP_LOCAL];
    __local int code[SP_LOCAL];
    const int t = get_local_id(0), j = get_group_id(0), i = get_global_id(1);
    // The NDRange is exact (N·SP_LOCAL by M): every item of a group passes the barriers.
    int start = 0, end = 0, bad = 0, bound = 0;
    float acc = 0.0f;
    int failed = sel_row(i, a_rows, nnz, row_starts, row_idx, row_first, use_idx, &start, &end, &bad, &bound);
    if (!failed) {
        failed = sel_sum(start + t, end, SP_LOCAL, j, K, col_idx, vals, b_map, b_mode, b_first, b_rows, B, b_off,
                         ldb, trans_b, &acc, &bad, &bound);
    }
    if (failed && j == 0) sel_record(failure, failed, i, bad, bound);
    part[t] = acc;
    code[t] = failed;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = SP_LOCAL / 2; s > 0; s >>= 1) {
        if (t < s) {
            part[t] = part[t] + part[t + s];
            code[t] = max(code[t], code[t + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t != 0) return;
    const int idx = c_off + (trans_c ? j * ldc + i : i * ldc + j);
    if (code[0]) { C[idx] = NAN; return; }
    C[idx] = beta == 0.0f ? alpha * part[0] : alpha * part[0] + beta * C[idx];
}

__kernel void scatter_positions(__global int *map, const int count, __global const int *idx, const int idx_off,
                                const int rows, const int reset, __global int *failure) {
    const int i = get_global_id(0);
    if (i >= rows) return;
    const int r = idx[idx_off + i];
    if (r < 0 || r >= count) {
        if (atomic_cmpxchg(failure, 0, 7) == 0) {
            failure[1] = i; failure[2] = r; failure[3] = 1; failure[4] = count;
        }
        return;
    }
    map[r] = reset ? -1 : i;
}

__kernel void sparse_matmul_tn(const int M, const int N, const int K, const int nnz, const float alpha,
                               __global const int *row_starts, __global const int *col_idx,
                               __global const float *vals, const int a_rows,
                               __global const int *row_idx, const int row_first, const int use_idx,
                               __global const float *B, const int b_off, const int ldb, const float beta,
                               __global float *C, const int c_off, const int ldc, const int slices,
                               __global int *failure) {
    const int s = get_global_id(0), j = get_global_id(1);
    if (s >= slices || j >= N) return;
    const int c0 = (int)((long)K * s / slices), c1 = (int)((long)K * (s + 1) / slices);
    __global float *row = C + c_off + j * ldc;
    for (int c = c0; c < c1; c++) row[c] = beta == 0.0f ? 0.0f : beta * row[c];
    for (int i = 0; i < M; i++) {
        int start = 0, end = 0, bad = 0, bound = 0;
        int failed = sel_row(i, a_rows, nnz, row_starts, row_idx, row_first, use_idx, &start, &end, &bad, &bound);
        if (!failed && start < end && (col_idx[start] < 0 || col_idx[end - 1] >= K)) {
            failed = 4; bad = col_idx[start] < 0 ? col_idx[start] : col_idx[end - 1]; bound = K;
        }
        if (failed) {
            for (int c = c0; c < c1; c++) row[c] = NAN;
            if (s == 0 && j == 0) sel_record(failure, failed, i, bad, bound);
            return;
        }
        int lo = start, hi = end;
        while (lo < hi) {
            const int mid = lo + (hi - lo) / 2;
            if (col_idx[mid] < c0) lo = mid + 1; else hi = mid;
        }
        const float ab = alpha * B[b_off + i * ldb + j];
        for (int e = lo; e < end; e++) {
            const int c = col_idx[e];
            if (c < c0 || c >= c1) break;
            row[c] = fma(vals[e], ab, row[c]);
        }
    }
}

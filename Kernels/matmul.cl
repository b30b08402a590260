// matmul.cl — C = alpha·op(A)·op(B) + beta·C, row-major, single precision.
//
// Kernels (the host picks one with a plain predicate; matmul_general is always the fallback):
//   matmul_general  any m, n, k, any transposes. One work-item per element of C.
//                   2-D NDRange (n, m) padded to the local size; items outside C return.
//   matmul_tiled    GPU-type devices: TILE×TILE local-memory tiles, any transposes.
//                   Local size (TILE, TILE); global padded to multiples of TILE.
//   matmul_block    CPU-type devices (PoCL): each work-item owns a BLOCK_M×BLOCK_N register
//                   block, no __local, no barriers. Any transposes, any sizes (edges masked).
//   matmul_nn16     CPU-type devices, B not transposed (C = A·B or Aᵀ·B): each work-item owns
//                   NN_ROWS rows × 16 columns of C as float16 accumulators; B rows are loaded
//                   as float16, A elements broadcast. Edge blocks take a masked scalar path.
//                   NDRange (⌈n/16⌉, ⌈m/NN_ROWS⌉), padded to the local size.
//   matmul_nt       CPU-type devices, C = A·Bᵀ with A not transposed (the forward pass X·Wᵀ):
//                   each work-item owns NT_ROWS×NT_COLS of C; rows of A and of B are both
//                   contiguous along k and are multiplied as float16 vectors, summed at the end.
//                   Edge rows/columns are clamped for loading and masked for storing.
//                   NDRange (⌈n/NT_COLS⌉, ⌈m/NT_ROWS⌉), padded to the local size.
//
// Common arguments: M, N, K; alpha; A, a_off, lda, trans_a; B, b_off, ldb, trans_b; beta; C, c_off, ldc.
// beta == 0 ignores C's old contents (NaN in C does not leak), as BLAS does.
// Tuning (-D): TILE (default 16), BLOCK_M (default 4), BLOCK_N (default 8), NN_ROWS (default 4),
// NT_ROWS (default 4), NT_COLS (default 4).

#ifndef TILE
#define TILE 16
#endif
#ifndef BLOCK_M
#define BLOCK_M 4
#endif
#ifndef BLOCK_N
#define BLOCK_N 8
#endif

#ifndef NN_ROWS
#define NN_ROWS 8
#endif
#ifndef NT_ROWS
#define NT_ROWS 4
#endif
#ifndef NT_COLS
#define NT_COLS 4
#endif

#define A_AT(i, p) (trans_a ? A[a_off + (p) * lda + (i)] : A[a_off + (i) * lda + (p)])
#define B_AT(p, j) (trans_b ? B[b_off + (j) * ldb + (p)] : B[b_off + (p) * ldb + (j)])

inline void store_c(__global float *C, int idx, float acc, float alpha, float beta) {
    C[idx] = beta == 0.0f ? alpha * acc : alpha * acc + beta * C[idx];
}

__kernel void matmul_general(const int M, const int N, const int K, const float alpha,
                             __global const float *A, const int a_off, const int lda, const int trans_a,
                             __global const float *B, const int b_off, const int ldb, const int trans_b,
                             const float beta, __global float *C, const int c_off, const int ldc) {
    const int j = get_global_id(0);
    const int i = get_global_id(1);
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int p = 0; p < K; ++p) acc = fma(A_AT(i, p), B_AT(p, j), acc);
    store_c(C, c_off + i * ldc + j, acc, alpha, beta);
}

__kernel void matmul_tiled(const int M, const int N, const int K, const float alpha,
                           __global const float *A, const int a_off, const int lda, const int trans_a,
                           __global const float *B, const int b_off, const int ldb, const int trans_b,
                           const float beta, __global float *C, const int c_off, const int ldc) {
    __local float As[TILE][TILE];
    __local float Bs[TILE][TILE + 1];
    const int tj = get_local_id(0), ti = get_local_id(1);
    const int j = get_group_id(0) * TILE + tj;
    const int i = get_group_id(1) * TILE + ti;
    float acc = 0.0f;
    for (int p0 = 0; p0 < K; p0 += TILE) {
        As[ti][tj] = (i < M && p0 + tj < K) ? A_AT(i, p0 + tj) : 0.0f;
        Bs[ti][tj] = (p0 + ti < K && j < N) ? B_AT(p0 + ti, j) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int p = 0; p < TILE; ++p) acc = fma(As[ti][p], Bs[p][tj], acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < M && j < N) store_c(C, c_off + i * ldc + j, acc, alpha, beta);
}

__kernel void matmul_block(const int M, const int N, const int K, const float alpha,
                           __global const float *A, const int a_off, const int lda, const int trans_a,
                           __global const float *B, const int b_off, const int ldb, const int trans_b,
                           const float beta, __global float *C, const int c_off, const int ldc) {
    const int j0 = get_global_id(0) * BLOCK_N;
    const int i0 = get_global_id(1) * BLOCK_M;
    if (i0 >= M || j0 >= N) return;
    float acc[BLOCK_M][BLOCK_N];
    for (int r = 0; r < BLOCK_M; ++r)
        for (int c = 0; c < BLOCK_N; ++c) acc[r][c] = 0.0f;
    const int full = (i0 + BLOCK_M <= M) && (j0 + BLOCK_N <= N);
    if (full) {
        for (int p = 0; p < K; ++p) {
            float a[BLOCK_M], b[BLOCK_N];
            for (int r = 0; r < BLOCK_M; ++r) a[r] = A_AT(i0 + r, p);
            for (int c = 0; c < BLOCK_N; ++c) b[c] = B_AT(p, j0 + c);
            for (int r = 0; r < BLOCK_M; ++r)
                for (int c = 0; c < BLOCK_N; ++c) acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
    } else {
        for (int p = 0; p < K; ++p) {
            float a[BLOCK_M], b[BLOCK_N];
            for (int r = 0; r < BLOCK_M; ++r) a[r] = (i0 + r < M) ? A_AT(i0 + r, p) : 0.0f;
            for (int c = 0; c < BLOCK_N; ++c) b[c] = (j0 + c < N) ? B_AT(p, j0 + c) : 0.0f;
            for (int r = 0; r < BLOCK_M; ++r)
                for (int c = 0; c < BLOCK_N; ++c) acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
    }
    for (int r = 0; r < BLOCK_M; ++r)
        for (int c = 0; c < BLOCK_N; ++c)
            if (i0 + r < M && j0 + c < N) store_c(C, c_off + (i0 + r) * ldc + j0 + c, acc[r][c], alpha, beta);
}

__kernel void matmul_nn16(const int M, const int N, const int K, const float alpha,
                          __global const float *A, const int a_off, const int lda, const int trans_a,
                          __global const float *B, const int b_off, const int ldb, const int trans_b,
                          const float beta, __global float *C, const int c_off, const int ldc) {
    const int j0 = get_global_id(0) * 16;
    const int i0 = get_global_id(1) * NN_ROWS;
    if (i0 >= M || j0 >= N) return;
    if (j0 + 16 <= N && i0 + NN_ROWS <= M) {
        float16 acc[NN_ROWS];
        for (int r = 0; r < NN_ROWS; ++r) acc[r] = (float16)(0.0f);
        __global const float *b = B + b_off + j0;
        for (int p = 0; p < K; ++p) {
            const float16 bv = vload16(0, b + p * ldb);
            for (int r = 0; r < NN_ROWS; ++r) acc[r] = fma((float16)(A_AT(i0 + r, p)), bv, acc[r]);
        }
        for (int r = 0; r < NN_ROWS; ++r) {
            __global float *c = C + c_off + (i0 + r) * ldc + j0;
            vstore16(beta == 0.0f ? alpha * acc[r] : alpha * acc[r] + beta * vload16(0, c), 0, c);
        }
        return;
    }
    for (int r = 0; r < NN_ROWS && i0 + r < M; ++r) {
        for (int j = j0; j < min(j0 + 16, N); ++j) {
            float acc = 0.0f;
            for (int p = 0; p < K; ++p) acc = fma(A_AT(i0 + r, p), B[b_off + p * ldb + j], acc);
            store_c(C, c_off + (i0 + r) * ldc + j, acc, alpha, beta);
        }
    }
}

__kernel void matmul_nt(const int M, const int N, const int K, const float alpha,
                        __global const float *A, const int a_off, const int lda, const int trans_a,
                        __global const float *B, const int b_off, const int ldb, const int trans_b,
                        const float beta, __global float *C, const int c_off, const int ldc) {
    const int j0 = get_global_id(0) * NT_COLS;
    const int i0 = get_global_id(1) * NT_ROWS;
    if (i0 >= M || j0 >= N) return;
    __global const float *a[NT_ROWS];
    __global const float *b[NT_COLS];
    for (int r = 0; r < NT_ROWS; ++r) a[r] = A + a_off + min(i0 + r, M - 1) * lda;  // clamped: loads stay inside
    for (int c = 0; c < NT_COLS; ++c) b[c] = B + b_off + min(j0 + c, N - 1) * ldb;
    float16 acc[NT_ROWS][NT_COLS];
    for (int r = 0; r < NT_ROWS; ++r)
        for (int c = 0; c < NT_COLS; ++c) acc[r][c] = (float16)(0.0f);
    int p = 0;
    for (; p + 16 <= K; p += 16) {
        float16 bv[NT_COLS];
        for (int c = 0; c < NT_COLS; ++c) bv[c] = vload16(0, b[c] + p);
        for (int r = 0; r < NT_ROWS; ++r) {
            const float16 av = vload16(0, a[r] + p);
            for (int c = 0; c < NT_COLS; ++c) acc[r][c] = fma(av, bv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < NT_ROWS; ++r) {
        if (i0 + r >= M) break;
        for (int c = 0; c < NT_COLS; ++c) {
            if (j0 + c >= N) break;
            const float16 v = acc[r][c];
            const float8 h8 = v.lo + v.hi;
            const float4 h4 = h8.lo + h8.hi;
            const float2 h2 = h4.lo + h4.hi;
            float sum = h2.x + h2.y;
            for (int q = p; q < K; ++q) sum = fma(a[r][q], b[c][q], sum);
            store_c(C, c_off + (i0 + r) * ldc + j0 + c, sum, alpha, beta);
        }
    }
}

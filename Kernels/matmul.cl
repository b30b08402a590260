// matmul.cl — C = alpha·op(A)·op(B) + beta·C, row-major, single precision.
//
// Kernels (the host picks one with a plain predicate; matmul_general is always the fallback):
//   matmul_general  any m, n, k, any transposes. One work-item per element of C.
//                   2-D NDRange (n, m) padded to the local size; items outside C return.
//   matmul_tiled    GPU-type devices: TILE×TILE local-memory tiles, any transposes.
//                   Local size (TILE, TILE); global padded to multiples of TILE.
//   matmul_nn16     CPU-type devices, B not transposed (C = A·B or Aᵀ·B): each work-item owns
//                   8 rows × 16 columns of C in eight named float16 accumulators; B rows are
//                   loaded as float16, A elements broadcast. Edge blocks take a masked scalar path.
//                   NDRange (⌈n/16⌉, ⌈m/8⌉), padded to the local size.
//   matmul_nt       CPU-type devices, C = A·Bᵀ with A not transposed (the forward pass X·Wᵀ):
//                   each work-item owns 4×4 of C in sixteen named float16 accumulators; rows of
//                   A and of B are both contiguous along k, multiplied as float16 (then float4 for
//                   k mod 16, into the same accumulators), summed at the end. Edge rows/columns are clamped for loading and masked for storing.
//                   NDRange (⌈n/4⌉, ⌈m/4⌉), padded to the local size.
//   matmul_splitk   skinny products with a long k (dW = δᵀ·X with few outputs, GEMV): any
//                   transposes. Work-group (lx, ly), lx·ly ≤ SK_LOCAL, ly a power of two; group
//                   (gx, gy) owns C[gy, gx·lx .. gx·lx+lx). Item (tx, ts) sums p = ts, ts+ly, …
//                   (adjacent items read adjacent p or adjacent j: coalesced on GPUs), then the ly
//                   slices are added pairwise in __local (a fixed tree: the same order every run;
//                   no atomics). NDRange (⌈n/lx⌉·lx, m·ly).
//                   (PoCL keeps named vector variables in registers; private arrays of vectors
//                   went to the stack and ran 3× slower.)
//   matmul_nn16_slices, then matmul_add_slices
//                   CPU-type devices, B not transposed, a long k over few blocks of C (dW = δᵀ·X:
//                   10×100×10000 is 14 blocks of matmul_nn16, one core's work): k is cut into
//                   `slices` ranges of `chunk`; matmul_nn16_slices computes matmul_nn16's 8×16
//                   register block over range z into P[z][M][N] (NDRange (⌈n/16⌉, ⌈m/8⌉, slices),
//                   one work-group per slice). Edge blocks stay vectors: rows past M are clamped
//                   for loading and not stored; with N ≥ 16 the last column block is shifted left
//                   to end at N and stores only its own columns (N < 16: a scalar path).
//                   matmul_add_slices adds each element's slices in order z = 0, 1, … (the same
//                   sum every run, no atomics), then alpha, beta. NDRange (n, m).
//
// Common arguments: M, N, K; alpha; A, a_off, lda, trans_a; B, b_off, ldb, trans_b; beta; C, c_off, ldc.
// beta == 0 ignores C's old contents (NaN in C does not leak), as BLAS does.
// Tuning (-D): TILE (default 16), SK_LOCAL (default 256, matmul_splitk's largest work-group).

// a·b + c stays two roundings unless written fma(): the CPU reference and PyTorch do not contract.
#pragma OPENCL FP_CONTRACT OFF

#ifndef TILE
#define TILE 16
#endif

#ifndef SK_LOCAL
#define SK_LOCAL 256
#endif

#define NN_ROWS 8

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

__kernel void matmul_nn16(const int M, const int N, const int K, const float alpha,
                          __global const float *A, const int a_off, const int lda, const int trans_a,
                          __global const float *B, const int b_off, const int ldb, const int trans_b,
                          const float beta, __global float *C, const int c_off, const int ldc) {
    const int j0 = get_global_id(0) * 16;
    const int i0 = get_global_id(1) * NN_ROWS;
    if (i0 >= M || j0 >= N) return;
    if (j0 + 16 <= N && i0 + 8 <= M) {
        // Eight named float16 accumulators (private arrays may live on PoCL's stack).
        float16 c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, c4 = 0.0f, c5 = 0.0f, c6 = 0.0f, c7 = 0.0f;
        __global const float *b = B + b_off + j0;
        const int as = trans_a ? 1 : lda;   // stride between rows i of op(A)
        const int ap = trans_a ? lda : 1;   // stride along p
        __global const float *a = A + a_off + i0 * as;
        for (int p = 0; p < K; ++p) {
            const float16 bv = vload16(0, b + p * ldb);
            __global const float *ar = a + p * ap;
            c0 = fma((float16)(ar[0]), bv, c0);
            c1 = fma((float16)(ar[as]), bv, c1);
            c2 = fma((float16)(ar[2 * as]), bv, c2);
            c3 = fma((float16)(ar[3 * as]), bv, c3);
            c4 = fma((float16)(ar[4 * as]), bv, c4);
            c5 = fma((float16)(ar[5 * as]), bv, c5);
            c6 = fma((float16)(ar[6 * as]), bv, c6);
            c7 = fma((float16)(ar[7 * as]), bv, c7);
        }
        __global float *c = C + c_off + i0 * ldc + j0;
        if (beta == 0.0f) {
            vstore16(alpha * c0, 0, c); vstore16(alpha * c1, 0, c + ldc);
            vstore16(alpha * c2, 0, c + 2 * ldc); vstore16(alpha * c3, 0, c + 3 * ldc);
            vstore16(alpha * c4, 0, c + 4 * ldc); vstore16(alpha * c5, 0, c + 5 * ldc);
            vstore16(alpha * c6, 0, c + 6 * ldc); vstore16(alpha * c7, 0, c + 7 * ldc);
        } else {
            vstore16(alpha * c0 + beta * vload16(0, c), 0, c);
            vstore16(alpha * c1 + beta * vload16(0, c + ldc), 0, c + ldc);
            vstore16(alpha * c2 + beta * vload16(0, c + 2 * ldc), 0, c + 2 * ldc);
            vstore16(alpha * c3 + beta * vload16(0, c + 3 * ldc), 0, c + 3 * ldc);
            vstore16(alpha * c4 + beta * vload16(0, c + 4 * ldc), 0, c + 4 * ldc);
            vstore16(alpha * c5 + beta * vload16(0, c + 5 * ldc), 0, c + 5 * ldc);
            vstore16(alpha * c6 + beta * vload16(0, c + 6 * ldc), 0, c + 6 * ldc);
            vstore16(alpha * c7 + beta * vload16(0, c + 7 * ldc), 0, c + 7 * ldc);
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
    const int j0 = get_global_id(0) * 4;
    const int i0 = get_global_id(1) * 4;
    if (i0 >= M || j0 >= N) return;
    // Rows past the edge are clamped for loading (their results are never stored).
    __global const float *a0 = A + a_off + min(i0, M - 1) * lda, *a1 = A + a_off + min(i0 + 1, M - 1) * lda;
    __global const float *a2 = A + a_off + min(i0 + 2, M - 1) * lda, *a3 = A + a_off + min(i0 + 3, M - 1) * lda;
    __global const float *b0 = B + b_off + min(j0, N - 1) * ldb, *b1 = B + b_off + min(j0 + 1, N - 1) * ldb;
    __global const float *b2 = B + b_off + min(j0 + 2, N - 1) * ldb, *b3 = B + b_off + min(j0 + 3, N - 1) * ldb;
    // Sixteen named float16 accumulators, c<row><col> (private arrays may live on PoCL's stack).
    float16 c00 = 0.0f, c01 = 0.0f, c02 = 0.0f, c03 = 0.0f, c10 = 0.0f, c11 = 0.0f, c12 = 0.0f, c13 = 0.0f;
    float16 c20 = 0.0f, c21 = 0.0f, c22 = 0.0f, c23 = 0.0f, c30 = 0.0f, c31 = 0.0f, c32 = 0.0f, c33 = 0.0f;
    int p = 0;
    for (; p + 16 <= K; p += 16) {
        const float16 v0 = vload16(0, b0 + p), v1 = vload16(0, b1 + p), v2 = vload16(0, b2 + p), v3 = vload16(0, b3 + p);
        float16 u = vload16(0, a0 + p);
        c00 = fma(u, v0, c00); c01 = fma(u, v1, c01); c02 = fma(u, v2, c02); c03 = fma(u, v3, c03);
        u = vload16(0, a1 + p);
        c10 = fma(u, v0, c10); c11 = fma(u, v1, c11); c12 = fma(u, v2, c12); c13 = fma(u, v3, c13);
        u = vload16(0, a2 + p);
        c20 = fma(u, v0, c20); c21 = fma(u, v1, c21); c22 = fma(u, v2, c22); c23 = fma(u, v3, c23);
        u = vload16(0, a3 + p);
        c30 = fma(u, v0, c30); c31 = fma(u, v1, c31); c32 = fma(u, v2, c32); c33 = fma(u, v3, c33);
    }
    // Remainders of 4 into the accumulators' first lanes (k = 100: no scalar tail).
    for (; p + 4 <= K; p += 4) {
        const float4 v0 = vload4(0, b0 + p), v1 = vload4(0, b1 + p), v2 = vload4(0, b2 + p), v3 = vload4(0, b3 + p);
        float4 u = vload4(0, a0 + p);
        c00.lo.lo = fma(u, v0, c00.lo.lo); c01.lo.lo = fma(u, v1, c01.lo.lo);
        c02.lo.lo = fma(u, v2, c02.lo.lo); c03.lo.lo = fma(u, v3, c03.lo.lo);
        u = vload4(0, a1 + p);
        c10.lo.lo = fma(u, v0, c10.lo.lo); c11.lo.lo = fma(u, v1, c11.lo.lo);
        c12.lo.lo = fma(u, v2, c12.lo.lo); c13.lo.lo = fma(u, v3, c13.lo.lo);
        u = vload4(0, a2 + p);
        c20.lo.lo = fma(u, v0, c20.lo.lo); c21.lo.lo = fma(u, v1, c21.lo.lo);
        c22.lo.lo = fma(u, v2, c22.lo.lo); c23.lo.lo = fma(u, v3, c23.lo.lo);
        u = vload4(0, a3 + p);
        c30.lo.lo = fma(u, v0, c30.lo.lo); c31.lo.lo = fma(u, v1, c31.lo.lo);
        c32.lo.lo = fma(u, v2, c32.lo.lo); c33.lo.lo = fma(u, v3, c33.lo.lo);
    }
    const float16 acc[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}};
    __global const float *ar[4] = {a0, a1, a2, a3};
    __global const float *br[4] = {b0, b1, b2, b3};
    for (int r = 0; r < 4 && i0 + r < M; ++r) {
        for (int c = 0; c < 4 && j0 + c < N; ++c) {
            const float16 v = acc[r][c];
            const float8 h8 = v.lo + v.hi;
            const float4 h4 = h8.lo + h8.hi;
            const float2 h2 = h4.lo + h4.hi;
            float sum = h2.x + h2.y;
            for (int q = p; q < K; ++q) sum = fma(ar[r][q], br[c][q], sum);
            store_c(C, c_off + (i0 + r) * ldc + j0 + c, sum, alpha, beta);
        }
    }
}

__kernel void matmul_splitk(const int M, const int N, const int K, const float alpha,
                            __global const float *A, const int a_off, const int lda, const int trans_a,
                            __global const float *B, const int b_off, const int ldb, const int trans_b,
                            const float beta, __global float *C, const int c_off, const int ldc) {
    __local float slices[SK_LOCAL];
    const int lx = get_local_size(0), ly = get_local_size(1);
    const int tx = get_local_id(0), ts = get_local_id(1);
    const int j = get_group_id(0) * lx + tx;
    const int i = get_group_id(1);
    float acc = 0.0f;
    if (j < N)
        for (int p = ts; p < K; p += ly) acc = fma(A_AT(i, p), B_AT(p, j), acc);
    slices[ts * lx + tx] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = ly >> 1; span > 0; span >>= 1) {
        if (ts < span) slices[ts * lx + tx] += slices[(ts + span) * lx + tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (ts == 0 && j < N) store_c(C, c_off + i * ldc + j, slices[tx], alpha, beta);
}

// One row of a block into P: all 16 lanes, or lanes from..15 (the shifted last column block).
inline void store_row16(__global float *dst, const float16 v, const int from) {
    if (from == 0) {
        vstore16(v, 0, dst);
        return;
    }
    float lanes[16];
    vstore16(v, 0, lanes);
    for (int l = from; l < 16; ++l) dst[l] = lanes[l];
}

__kernel void matmul_nn16_slices(const int M, const int N, const int K, const int chunk,
                                 __global const float *A, const int a_off, const int lda, const int trans_a,
                                 __global const float *B, const int b_off, const int ldb,
                                 __global float *P) {
    const int jn = get_global_id(0) * 16;   // the block's first column to store
    const int i0 = get_global_id(1) * NN_ROWS;
    const int z = get_global_id(2);
    if (i0 >= M || jn >= N) return;
    const int p0 = min(K, z * chunk), p1 = min(K, p0 + chunk);
    __global float *out = P + z * M * N;
    if (N < 16) {
        for (int r = 0; r < NN_ROWS && i0 + r < M; ++r) {
            for (int j = jn; j < N; ++j) {
                float acc = 0.0f;
                for (int p = p0; p < p1; ++p) acc = fma(A_AT(i0 + r, p), B[b_off + p * ldb + j], acc);
                out[(i0 + r) * N + j] = acc;
            }
        }
        return;
    }
    const int j0 = min(jn, N - 16);
    const int as = trans_a ? 1 : lda;   // stride between rows i of op(A)
    const int ap = trans_a ? lda : 1;   // stride along p
    // Rows past M load row M - 1 (their results are not stored).
    const int r0 = i0 * as, r1 = min(i0 + 1, M - 1) * as, r2 = min(i0 + 2, M - 1) * as, r3 = min(i0 + 3, M - 1) * as;
    const int r4 = min(i0 + 4, M - 1) * as, r5 = min(i0 + 5, M - 1) * as, r6 = min(i0 + 6, M - 1) * as;
    const int r7 = min(i0 + 7, M - 1) * as;
    float16 c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, c4 = 0.0f, c5 = 0.0f, c6 = 0.0f, c7 = 0.0f;
    __global const float *b = B + b_off + j0;
    __global const float *a = A + a_off;
    for (int p = p0; p < p1; ++p) {
        const float16 bv = vload16(0, b + p * ldb);
        __global const float *ar = a + p * ap;
        c0 = fma((float16)(ar[r0]), bv, c0);
        c1 = fma((float16)(ar[r1]), bv, c1);
        c2 = fma((float16)(ar[r2]), bv, c2);
        c3 = fma((float16)(ar[r3]), bv, c3);
        c4 = fma((float16)(ar[r4]), bv, c4);
        c5 = fma((float16)(ar[r5]), bv, c5);
        c6 = fma((float16)(ar[r6]), bv, c6);
        c7 = fma((float16)(ar[r7]), bv, c7);
    }
    __global float *o = out + i0 * N + j0;
    const int from = jn - j0;
    store_row16(o, c0, from);
    if (i0 + 1 < M) store_row16(o + N, c1, from);
    if (i0 + 2 < M) store_row16(o + 2 * N, c2, from);
    if (i0 + 3 < M) store_row16(o + 3 * N, c3, from);
    if (i0 + 4 < M) store_row16(o + 4 * N, c4, from);
    if (i0 + 5 < M) store_row16(o + 5 * N, c5, from);
    if (i0 + 6 < M) store_row16(o + 6 * N, c6, from);
    if (i0 + 7 < M) store_row16(o + 7 * N, c7, from);
}

__kernel void matmul_add_slices(const int M, const int N, const int slices, const float alpha,
                                __global const float *P, const float beta,
                                __global float *C, const int c_off, const int ldc) {
    const int j = get_global_id(0);
    const int i = get_global_id(1);
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int z = 0; z < slices; ++z) acc += P[(z * M + i) * N + j];
    store_c(C, c_off + i * ldc + j, acc, alpha, beta);
}

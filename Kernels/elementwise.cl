// elementwise.cl — the layer kernels of a training step.
//
// Kernels (1-D NDRange padded to the local size; items past the end return):
//   fill_float    x[off+i] = value                                      (count items)
//   gather_rows   dst[r, :] = src[idx[idx_off + r], :]                   (rows·cols items)
//                 an index outside 0..<src_rows gives a row of NaN (never a read outside src)
//                 and is recorded in `failure` (below)
//   add_bias      x[r, c] += bias[b_off + c]; then max(x, 0) if relu    (rows·cols items)
//   apply_mask    x[i] = 0 where mask[i] <= 0: ReLU backward through its   (count items)
//                 output, or a 0/1 mask of parameters held fixed
//   column_sums   dst[off + c] = Σ_r x[r, c], r in order                 (cols items)
//   column_sums_partial  stage 1 of column sums over many rows: item (c, s) of the 2-D NDRange
//                 (cols, slices) sums rows [s·chunk, (s+1)·chunk) of column c in order into
//                 partials[s·cols + c] (chunk = ⌈rows/slices⌉).
//   column_sums_finish   stage 2: dst[off + c] = Σ_s partials[s·cols + c], s in order (cols items).
//                 A fixed number of slices per shape: the same sum every run, no atomics.
// NaN propagates through add_bias' ReLU and apply_mask, as in PyTorch.
//
// failure: a __global int[5], zero when clear (OpenCLDevice reads and clears it when the host
// next waits, and throws). The first failing work-item since then stores
// (code, item, offset, count, bound) = (1, r, idx[idx_off + r], 1, src_rows); later ones leave it.

// a·b + c stays two roundings unless written fma(): the CPU reference and PyTorch do not contract.
#pragma OPENCL FP_CONTRACT OFF

__kernel void fill_float(__global float *x, const int off, const int count, const float value) {
    const int i = get_global_id(0);
    if (i < count) x[off + i] = value;
}

__kernel void gather_rows(__global const float *src, const int src_rows, __global const int *idx, const int idx_off,
                          const int rows, const int cols, __global float *dst, __global int *failure) {
    const int t = get_global_id(0);
    if (t >= rows * cols) return;
    const int r = t / cols, c = t - r * cols;
    const int s = idx[idx_off + r];
    const int valid = s >= 0 && s < src_rows;
    dst[t] = valid ? src[s * cols + c] : NAN;
    if (!valid && c == 0 && atomic_cmpxchg(failure, 0, 1) == 0) {
        failure[1] = r; failure[2] = s; failure[3] = 1; failure[4] = src_rows;
    }
}

__kernel void add_bias(__global float *x, __global const float *bias, const int b_off,
                       const int rows, const int cols, const int relu) {
    const int t = get_global_id(0);
    if (t >= rows * cols) return;
    const float v = x[t] + bias[b_off + t % cols];
    x[t] = (relu && v <= 0.0f) ? 0.0f : v;
}

__kernel void apply_mask(__global float *x, __global const float *mask, const int count) {
    const int i = get_global_id(0);
    if (i < count && mask[i] <= 0.0f) x[i] = 0.0f;
}

__kernel void column_sums(__global const float *x, const int rows, const int cols,
                          __global float *dst, const int off) {
    const int c = get_global_id(0);
    if (c >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; ++r) s += x[r * cols + c];
    dst[off + c] = s;
}

__kernel void column_sums_partial(__global const float *x, const int rows, const int cols, const int slices,
                                  __global float *partials) {
    const int c = get_global_id(0), s = get_global_id(1);
    if (c >= cols || s >= slices) return;
    const int chunk = (rows + slices - 1) / slices;
    const int end = min((s + 1) * chunk, rows);
    float sum = 0.0f;
    for (int r = s * chunk; r < end; ++r) sum += x[r * cols + c];
    partials[s * cols + c] = sum;
}

__kernel void column_sums_finish(__global const float *partials, const int cols, const int slices,
                                 __global float *dst, const int off) {
    const int c = get_global_id(0);
    if (c >= cols) return;
    float sum = 0.0f;
    for (int s = 0; s < slices; ++s) sum += partials[s * cols + c];
    dst[off + c] = sum;
}

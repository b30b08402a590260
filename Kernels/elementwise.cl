// elementwise.cl — the layer kernels of a training step.
//
// Kernels (1-D NDRange padded to the local size; items past the end return):
//   fill_float    x[off+i] = value                                      (count items)
//   gather_rows   dst[r, :] = src[idx[idx_off + r], :]                   (rows·cols items)
//                 an index outside 0..<src_rows gives a row of NaN (never a read outside src)
//   add_bias      x[r, c] += bias[b_off + c]; then max(x, 0) if relu    (rows·cols items)
//   relu_backward g[i] = 0 where a[i] <= 0 (a = the ReLU's output)      (count items)
//   column_sums   dst[off + c] = Σ_r x[r, c], r in order                 (cols items)
// NaN propagates through add_bias' ReLU and relu_backward, as in PyTorch.

__kernel void fill_float(__global float *x, const int off, const int count, const float value) {
    const int i = get_global_id(0);
    if (i < count) x[off + i] = value;
}

__kernel void gather_rows(__global const float *src, const int src_rows, __global const int *idx, const int idx_off,
                          const int rows, const int cols, __global float *dst) {
    const int t = get_global_id(0);
    if (t >= rows * cols) return;
    const int r = t / cols, c = t - r * cols;
    const int s = idx[idx_off + r];
    dst[t] = (s >= 0 && s < src_rows) ? src[s * cols + c] : NAN;
}

__kernel void add_bias(__global float *x, __global const float *bias, const int b_off,
                       const int rows, const int cols, const int relu) {
    const int t = get_global_id(0);
    if (t >= rows * cols) return;
    const float v = x[t] + bias[b_off + t % cols];
    x[t] = (relu && v <= 0.0f) ? 0.0f : v;
}

__kernel void relu_backward(__global float *g, __global const float *a, const int count) {
    const int i = get_global_id(0);
    if (i < count && a[i] <= 0.0f) g[i] = 0.0f;
}

__kernel void column_sums(__global const float *x, const int rows, const int cols,
                          __global float *dst, const int off) {
    const int c = get_global_id(0);
    if (c >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; ++r) s += x[r * cols + c];
    dst[off + c] = s;
}

// penalty.cl — gradients of the penalties (Penalty.swift's table).
//
// Kernels (1-D NDRange over count, padded to the local size; items past count return):
//   penalty_gradient  g[off+i] += l1·sign(w) + 2·l2·w + l2n·w/‖w‖₂, ‖w‖₂ = norms[norm_index]
//                     (the l2n term is 0 where ‖w‖₂ = 0; norms is unread when l2n = 0).
//   penalty_vector    g[i] += l1[i]·sign(w[i]) + 2·l2[i]·w[i]: each parameter its own coefficients
//                     (K stacked models' penalties in one launch; a zero coefficient adds no term).
// sign_nan (common.cl): sign(0) = 0 and sign(NaN) = NaN, so NaN propagates.

// a·b + c stays two roundings unless written fma(): the CPU reference and PyTorch do not contract.
#pragma OPENCL FP_CONTRACT OFF

// The elastic-net terms l1·sign(v) + 2·l2·v, only those present: an absent term's 0·v would
// turn an infinite v into NaN.
inline float elastic_net_gradient(const float v, const float l1, const float l2) {
    float d = 0.0f;
    if (l1 != 0.0f) d += l1 * sign_nan(v);
    if (l2 != 0.0f) d += 2.0f * l2 * v;
    return d;
}

__kernel void penalty_gradient(__global const float *w, __global float *g, const int off, const int count,
                               const float l1, const float l2, const float l2n,
                               __global const float *norms, const int norm_index) {
    const int i = get_global_id(0);
    if (i >= count) return;
    float norm_scale = 0.0f;
    if (l2n != 0.0f) {
        const float n = norms[norm_index];
        norm_scale = (n > 0.0f || isnan(n)) ? l2n / n : 0.0f;
    }
    const float v = w[off + i];
    float d = elastic_net_gradient(v, l1, l2);
    if (norm_scale != 0.0f) d += norm_scale * v;
    g[off + i] += d;
}

__kernel void penalty_vector(__global const float *w, __global float *g, __global const float *l1,
                             __global const float *l2, const int count) {
    const int i = get_global_id(0);
    if (i >= count) return;
    g[i] += elastic_net_gradient(w[i], l1[i], l2[i]);
}

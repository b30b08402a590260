// proximal.cl — proximal steps: the L1 proximal map and the accelerated proximal-gradient step.
//
// Kernels (1-D NDRange over count, padded to the local size; items past count return):
//   proximal_l1  w[off+i] ← soft_threshold(w[off+i], threshold)  (exact zeros; common.cl).
//   fista_step   one accelerated proximal-gradient step over count values, the first rows·cols
//                of them weights [rows, cols] whose row r has its own elastic-net prox, the rest
//                plain (intercepts):
//                  x⁺ = prox(z − step·g);  z ← (1 + momentum)·x⁺ − momentum·x;  x ← x⁺
//                prox(v) = soft_threshold(v, thresholds[r])·scales[r]. NaN stays NaN.

// a·b + c stays two roundings unless written fma(): the CPU reference does not contract.
#pragma OPENCL FP_CONTRACT OFF

__kernel void proximal_l1(__global float *w, const int off, const int count, const float threshold) {
    const int i = get_global_id(0);
    if (i >= count) return;
    const float v = w[off + i];
    w[off + i] = soft_threshold(v, threshold);
}

__kernel void fista_step(__global float *z, __global const float *g, __global float *x, const int count,
                         const int rows, const int cols, const float step, const float momentum,
                         __global const float *thresholds, __global const float *scales) {
    const int i = get_global_id(0);
    if (i >= count) return;
    float next = -step * g[i] + z[i];
    if (i < rows * cols) {
        const int r = i / cols;
        next = soft_threshold(next, thresholds[r]) * scales[r];
    }
    z[i] = -momentum * x[i] + (1.0f + momentum) * next;
    x[i] = next;
}

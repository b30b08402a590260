// optimizer.cl — torch.optim update rules, one work-item per parameter.
//
// Kernels (1-D NDRange over count, padded to the local size):
//   sgd_step   torch.optim.SGD: d = g + wd·w; with momentum μ ≠ 0: b = d on the first step,
//              else b = μ·b + (1 − dampening)·d; d = nesterov ? d + μ·b : b; w −= lr·d.
//   adam_step  torch.optim.Adam (decoupled = 0: g += wd·w) and AdamW (decoupled = 1:
//              w *= 1 − lr·wd); m += (1 − β₁)(g − m); v = β₂v + (1 − β₂)g²;
//              w −= step_size·m / (√v / sqrt_bc2 + ε), with the host's step_size = lr/(1 − β₁ᵗ)
//              and sqrt_bc2 = √(1 − β₂ᵗ) computed in double as torch does.

// a·b + c stays two roundings unless written fma(): the CPU reference and PyTorch do not contract.
#pragma OPENCL FP_CONTRACT OFF

__kernel void sgd_step(__global float *w, __global const float *g, __global float *buf,
                       const int off, const int count, const float lr, const float momentum,
                       const float dampening, const float wd, const int nesterov, const int first) {
    const int i = get_global_id(0);
    if (i >= count) return;
    const int k = off + i;
    float d = g[k];
    if (wd != 0.0f) d += wd * w[k];
    if (momentum != 0.0f) {
        const float b = first ? d : momentum * buf[k] + (1.0f - dampening) * d;
        buf[k] = b;
        d = nesterov ? d + momentum * b : b;
    }
    w[k] -= lr * d;
}

__kernel void adam_step(__global float *w, __global const float *g, __global float *m, __global float *v,
                        const int off, const int count, const float lr, const float beta1, const float beta2,
                        const float eps, const float wd, const int decoupled, const float step_size,
                        const float sqrt_bc2) {
    const int i = get_global_id(0);
    if (i >= count) return;
    const int k = off + i;
    float p = w[k];
    float grad = g[k];
    if (wd != 0.0f) {
        if (decoupled) p *= 1.0f - lr * wd;
        else grad += wd * p;
    }
    const float mk = m[k] + (1.0f - beta1) * (grad - m[k]);
    const float vk = beta2 * v[k] + (1.0f - beta2) * grad * grad;
    m[k] = mk;
    v[k] = vk;
    w[k] = p - step_size * mk / (sqrt(vk) / sqrt_bc2 + eps);
}

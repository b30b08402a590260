// norm.cl — deterministic two-stage reductions of a float vector.
//
// Kernels:
//   norm_partials  stage 1. NORM_ITEMS work-items (global = NORM_ITEMS, local = NORM_LOCAL);
//                  item t reduces a contiguous chunk of x[off .. off+count) with Kahan
//                  compensation and writes partials[t]. No atomics, no __local.
//   norm_finish    stage 2. One work-group of NORM_LOCAL items: each Kahan-sums a slice of
//                  the NORM_ITEMS partials into __local, then item 0 combines them in order,
//                  applies the square root (L2, last), scale and accumulate, and writes
//                  result[index].
//   norm_small     both stages in one launch for count <= KernelTuning.normSmallCount (the
//                  host's choice): one work-group of NORM_LOCAL items, each reducing a contiguous chunk into
//                  __local, item 0 combining them as norm_finish does.
//   norm_segments  many norm_small reductions in one launch, one work-group per segment: segment
//                  g is the int triple segments[3g..3g+2] = (offset, count, destination) and writes
//                  result[base + destination] (+)= scales[g]·norm; a segment outside x gives NaN, a
//                  destination outside result is skipped (K stacked models' losses and penalties),
//                  and either is recorded in `failure`: a __global int[5], zero when clear
//                  (OpenCLDevice reads and clears it when the host next waits, and throws). The
//                  first failing group since then stores (code, g, offset, count, bound):
//                  (2, g, off, count, x_count) for a segment, (3, g, base + destination, 1,
//                  result_count) for a destination; later ones leave it.
// kind: 0 sum, 1 L1 (Σ|x|), 2 L2 (√Σx²), 3 squared L2. NaN in x gives NaN. (`threshold` is
// unused by these kinds.)
// Precision: compensated float.
// Tuning (-D): NORM_ITEMS (default 256), NORM_LOCAL (default 64), NORM_ITEMS % NORM_LOCAL == 0.

// a·b + c stays two roundings unless written fma(): the CPU reference and PyTorch do not contract.
#pragma OPENCL FP_CONTRACT OFF

#ifndef NORM_ITEMS
#define NORM_ITEMS 256
#endif
#ifndef NORM_LOCAL
#define NORM_LOCAL 64
#endif

#define KIND_SUM 0
#define KIND_L1 1
#define KIND_L2 2
#define KIND_L2SQ 3

inline float norm_term(const int kind, const float v, const float threshold) {
    switch (kind) {
    case KIND_SUM: return v;
    case KIND_L1: return fabs(v);
    default: return v * v;  // KIND_L2, KIND_L2SQ
    }
}

// Kahan step: sum += v with the running compensation c. Once the sum is Inf or NaN the
// compensation is dropped (Inf − Inf would turn an infinite sum into NaN).
inline void kahan_add(float *sum, float *c, const float v) {
    const float y = v - *c;
    const float t = *sum + y;
    *c = isfinite(t) ? (t - *sum) - y : 0.0f;
    *sum = t;
}

// The reduction of x[off+begin .. off+end) by one work-item.
inline float norm_chunk(__global const float *x, const int off, const int begin, const int end, const int kind,
                        const float threshold) {
    float sum = 0.0f, c = 0.0f;
    for (int i = begin; i < end; ++i) kahan_add(&sum, &c, norm_term(kind, x[off + i], threshold));
    return sum;
}

// Combines NORM_LOCAL values in order (item 0 only), then √ (L2, last), scale, accumulate.
inline void norm_store(__local const float *slices, const int kind, __global float *result, const int index,
                       const float scale, const int accumulate) {
    float sum = 0.0f, c = 0.0f;
    for (int i = 0; i < NORM_LOCAL; ++i) kahan_add(&sum, &c, slices[i]);
    if (kind == KIND_L2) sum = sqrt(sum);
    const float value = scale * sum;
    result[index] = accumulate ? result[index] + value : value;
}

__kernel void norm_partials(__global const float *x, const int off, const int count, const int kind,
                            const float threshold, __global float *partials) {
    const int t = get_global_id(0);
    const int chunk = (count + NORM_ITEMS - 1) / NORM_ITEMS;
    const int begin = min(t * chunk, count);
    partials[t] = norm_chunk(x, off, begin, min(begin + chunk, count), kind, threshold);
}

__kernel void norm_finish(__global const float *partials, const int kind, __global float *result,
                          const int index, const float scale, const int accumulate) {
    __local float slices[NORM_LOCAL];
    const int t = get_local_id(0);
    const int per = NORM_ITEMS / NORM_LOCAL;
    float sum = 0.0f, c = 0.0f;
    for (int i = t * per; i < (t + 1) * per; ++i) kahan_add(&sum, &c, partials[i]);
    slices[t] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (t == 0) norm_store(slices, kind, result, index, scale, accumulate);
}

__kernel void norm_small(__global const float *x, const int off, const int count, const int kind,
                         const float threshold, __global float *result, const int index, const float scale,
                         const int accumulate) {
    __local float slices[NORM_LOCAL];
    const int t = get_local_id(0);
    const int chunk = (count + NORM_LOCAL - 1) / NORM_LOCAL;
    const int begin = min(t * chunk, count);
    slices[t] = norm_chunk(x, off, begin, min(begin + chunk, count), kind, threshold);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (t == 0) norm_store(slices, kind, result, index, scale, accumulate);
}

__kernel void norm_segments(__global const float *x, const int x_count, __global const int *segments,
                            __global const float *scales, const int kind, const float threshold,
                            __global float *result, const int result_count, const int base, const int accumulate,
                            __global int *failure) {
    __local float slices[NORM_LOCAL];
    const int g = get_group_id(0), t = get_local_id(0);
    const int off = segments[3 * g], count = segments[3 * g + 1], index = base + segments[3 * g + 2];
    const int valid = off >= 0 && count >= 0 && off <= x_count - count;
    const int n = valid ? count : 0;
    const int chunk = (n + NORM_LOCAL - 1) / NORM_LOCAL;
    const int begin = min(t * chunk, n);
    slices[t] = valid ? norm_chunk(x, off, begin, min(begin + chunk, n), kind, threshold) : NAN;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (t != 0) return;
    if (!valid && atomic_cmpxchg(failure, 0, 2) == 0) {
        failure[1] = g; failure[2] = off; failure[3] = count; failure[4] = x_count;
    }
    if (index >= 0 && index < result_count) norm_store(slices, kind, result, index, scales[g], accumulate);
    else if (atomic_cmpxchg(failure, 0, 3) == 0) {
        failure[1] = g; failure[2] = index; failure[3] = 1; failure[4] = result_count;
    }
}

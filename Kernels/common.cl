// common.cl — helpers every kernel file uses (the files are built as one program, this first).

// a·b + c stays two roundings unless written fma(): the CPU reference and PyTorch do not contract.
#pragma OPENCL FP_CONTRACT OFF

// sign with sign(0) = 0 and sign(NaN) = NaN, so NaN propagates (the builtin sign() maps NaN to 0).
inline float sign_nan(const float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x * 0.0f); }

// The soft-threshold sign(v)·max(|v| − t, 0): the L1 proximal map, with exact zeros.
inline float soft_threshold(const float v, const float t) { return sign_nan(v) * fmax(fabs(v) - t, 0.0f); }

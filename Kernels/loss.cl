// loss.cl — data losses and their gradients, one work-item per row.
//
// Kernel (1-D NDRange over rows, padded to the local size):
//   loss_gradient  for logits z [rows, cols] and targets y[y_off + r]. The columns are
//                  cols / width independent models ("blocks") of `width` outputs each, all
//                  sharing the row's target (width 1 for mse and bce, the class count for ce;
//                  one block is the ordinary single model). For block b:
//                  grad[r, block b] = scale·∂loss/∂z (scale = 1/rows for the batch mean),
//                  row_loss[b·rows + r] = its loss, row_correct[b·rows + r] = 1 or 0
//                  (block-major, so one model's losses are contiguous).
// kind: 0 mse   (z − y)², grad 2(z − y)                           correct = 0
//       1 bce   max(z,0) − z·y + log1p(e^{−|z|}), grad σ(z) − y     correct = (z > 0) == (y > 0.5)
//       2 ce    logsumexp(z) − z_y, grad softmax(z) − onehot(y)     correct = argmax(z) == y
// A ce label outside 0..width−1 (or not an integer) gives a NaN loss and the gradient softmax·scale.

// a·b + c stays two roundings unless written fma(): the CPU reference and PyTorch do not contract.
#pragma OPENCL FP_CONTRACT OFF

__kernel void loss_gradient(const int kind, __global const float *z, __global const float *y, const int y_off,
                            const int rows, const int cols, const int width, const float scale,
                            __global float *grad, __global float *row_loss, __global float *row_correct) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const float target = y[y_off + r];
    const int blocks = cols / width;
    for (int b = 0; b < blocks; ++b) {
        __global const float *zr = z + r * cols + b * width;
        __global float *gr = grad + r * cols + b * width;
        float loss;
        float correct = 0.0f;
        if (kind == 0) {
            const float d = zr[0] - target;
            gr[0] = 2.0f * d * scale;
            loss = d * d;
        } else if (kind == 1) {
            const float x = zr[0];
            const float e = exp(-fabs(x));
            const float sigmoid = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            gr[0] = (sigmoid - target) * scale;
            loss = fmax(x, 0.0f) - x * target + log1p(e);
            correct = ((x > 0.0f) == (target > 0.5f)) ? 1.0f : 0.0f;
        } else {
            int best = 0;
            float top = -INFINITY;
            for (int c = 0; c < width; ++c) {
                if (zr[c] > top || isnan(zr[c])) { top = zr[c]; best = c; if (isnan(top)) break; }
            }
            float total = 0.0f;
            for (int c = 0; c < width; ++c) {  // e^{z−max} once, kept in the gradient slot
                gr[c] = exp(zr[c] - top);
                total += gr[c];
            }
            const float inverse = 1.0f / total;
            const int label = (int)target;
            const int valid = (float)label == target && label >= 0 && label < width;
            // softmax = e^{z−max}/Σ, and logsumexp − z_y = log Σ − (z_y − max): nothing is rounded
            // at the logits' magnitude (as the CPU device, and PyTorch's log_softmax).
            for (int c = 0; c < width; ++c)
                gr[c] = (gr[c] * inverse - ((valid && c == label) ? 1.0f : 0.0f)) * scale;
            loss = valid ? log(total) - (zr[label] - top) : NAN;
            correct = (valid && best == label) ? 1.0f : 0.0f;
        }
        row_loss[b * rows + r] = loss;
        row_correct[b * rows + r] = correct;
    }
}

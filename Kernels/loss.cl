// loss.cl — data losses and their gradients, one work-item per row.
//
// Kernel (1-D NDRange over rows, padded to the local size):
//   loss_gradient  for logits z [rows, cols] and targets y[y_off + r]:
//                  grad[r, :] = scale·∂loss_r/∂z_r (scale = 1/rows for the batch mean),
//                  row_loss[r] = loss_r, row_correct[r] = 1 or 0.
// kind: 0 mse   (z − y)², grad 2(z − y)                           correct = 0
//       1 bce   max(z,0) − z·y + log1p(e^{−|z|}), grad σ(z) − y     correct = (z > 0) == (y > 0.5)
//       (mse and bce with cols > 1: each column is an independent model sharing the row's
//       target — the batched solver; row_loss sums the columns, correct uses column 0)
//       2 ce    logsumexp(z) − z_y, grad softmax(z) − onehot(y)     correct = argmax(z) == y
// A ce label outside 0..cols−1 (or not an integer) gives a NaN loss and the gradient softmax·scale.

__kernel void loss_gradient(const int kind, __global const float *z, __global const float *y, const int y_off,
                            const int rows, const int cols, const float scale, __global float *grad,
                            __global float *row_loss, __global float *row_correct) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const float target = y[y_off + r];
    if (kind == 0) {
        float loss = 0.0f;
        for (int c = 0; c < cols; ++c) {  // cols > 1: independent models sharing the target
            const float d = z[r * cols + c] - target;
            grad[r * cols + c] = 2.0f * d * scale;
            loss += d * d;
        }
        row_loss[r] = loss;
        row_correct[r] = 0.0f;
    } else if (kind == 1) {
        float loss = 0.0f;
        for (int c = 0; c < cols; ++c) {
            const float x = z[r * cols + c];
            const float e = exp(-fabs(x));
            const float sigmoid = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            grad[r * cols + c] = (sigmoid - target) * scale;
            loss += fmax(x, 0.0f) - x * target + log1p(e);
        }
        row_loss[r] = loss;
        row_correct[r] = ((z[r * cols] > 0.0f) == (target > 0.5f)) ? 1.0f : 0.0f;
    } else {
        __global const float *zr = z + r * cols;
        int best = 0;
        float top = -INFINITY;
        for (int c = 0; c < cols; ++c) {
            if (zr[c] > top || isnan(zr[c])) { top = zr[c]; best = c; if (isnan(top)) break; }
        }
        float total = 0.0f;
        for (int c = 0; c < cols; ++c) total += exp(zr[c] - top);
        const float inverse = 1.0f / total;
        const int label = (int)target;
        const int valid = (float)label == target && label >= 0 && label < cols;
        // softmax = e^{z−max}/Σ, and logsumexp − z_y = log Σ − (z_y − max): nothing is rounded
        // at the logits' magnitude (as the CPU device, and PyTorch's log_softmax).
        for (int c = 0; c < cols; ++c)
            grad[r * cols + c] = (exp(zr[c] - top) * inverse - ((valid && c == label) ? 1.0f : 0.0f)) * scale;
        row_loss[r] = valid ? log(total) - (zr[label] - top) : NAN;
        row_correct[r] = (valid && best == label) ? 1.0f : 0.0f;
    }
}

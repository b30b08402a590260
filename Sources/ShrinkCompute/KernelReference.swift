import Foundation

// KernelReference — the plain scalar twin of every OpenCL kernel in Kernels/*.cl.
//
// One static function per `__kernel`, named as the kernel and taking the kernel's arguments in
// the kernel's order (`__global` pointers become Unsafe(Mutable)Pointers, `int` flags Int or
// Bool), run as plain loops over the work-items in the kernel's Float arithmetic order: this is
// the exactness reference the tests hold the CPU fast paths and every OpenCL variant to
// (Tests/ShrinkComputeTests/ReferenceTwinTests.swift). Where a kernel's result depends on a
// build-time constant (-D NORM_ITEMS, NORM_LOCAL) or on its NDRange (norm_segments' group count),
// that value is an extra argument after the kernel's own. Elementwise kernels take an optional
// `items` range: the work-items to run (all by default), so the CPU device runs the reference
// on its own chunks and SIMD tails.
//
// Layout (in file order):
//   common.cl       sign_nan, soft_threshold (+ fmax, OpenCL's fmax: a NaN operand loses)
//   elementwise.cl  fill_float, gather_rows, add_bias (+ add_bias_element), apply_mask,
//                   column_sums, column_sums_partial, column_sums_finish
//   matmul.cl       matmul_nn16_slices and matmul_add_slices (the k-split product, per stage);
//                   matmul_general, matmul_tiled, matmul_nn16, matmul_nt, matmul_splitk: all
//                   compute C = alpha·op(A)·op(B) + beta·C and delegate to one loop, `matmul`
//                   (fma over p in order, then store_c). matmul_general, matmul_tiled and
//                   matmul_nn16 accumulate in that order too (bitwise equal); matmul_nt and
//                   matmul_splitk sum in another order (equal within rounding).
//   norm.cl         norm_term, kahan_add, norm_chunk, norm_store and the four kernels, stage by
//                   stage, bitwise (the CPU device's `norm` is a Double fast path: within rounding)
//   penalty.cl      elastic_net_gradient, penalty_norm_scale, penalty_gradient, penalty_vector
//   proximal.cl     proximal_l1, fista_element, fista_step
//   loss.cl         loss_row (one model's row, calling LossFormula), loss_gradient
//   optimizer.cl    sgd_update, sgd_step, adam_update, adam_step
//   sparse.cl       sparse_matmul (rows as `items`); sel_row and sel_sum, sparse_matmul_sel and
//                   sparse_matmul_sel_group (SP_LOCAL as `local`), scatter_positions, sparse_matmul_tn
// plus the failure record gather_rows, norm_segments and the sparse kernels write (KernelFailure).
//
// Each formula is written here once in Swift (and once in OpenCL C); CPUDevice calls these for
// its scalar ops and SIMD tails and keeps only its vector bodies and OpenBLAS as fast paths.
public enum KernelReference {
    // MARK: common.cl

    /// sign with sign(0) = 0 (keeping the zero's sign) and sign(NaN) = NaN: x·0 for both.
    @inline(__always) public static func sign_nan(_ x: Float) -> Float {
        x > 0 ? 1 : (x < 0 ? -1 : x * 0)
    }

    /// OpenCL's fmax: the larger operand, and the other one when one is NaN.
    @inline(__always) public static func fmax(_ a: Float, _ b: Float) -> Float {
        Float.maximum(a, b)
    }

    /// sign(v)·max(|v| − t, 0): the L1 proximal map, with exact zeros.
    @inline(__always) public static func soft_threshold(_ v: Float, _ t: Float) -> Float {
        sign_nan(v) * fmax(abs(v) - t, 0)
    }

    // MARK: elementwise.cl

    public static func fill_float(_ x: UnsafeMutablePointer<Float>, _ off: Int, _ count: Int, _ value: Float,
                                  items: Range<Int>? = nil) {
        for i in items ?? 0..<count { x[off + i] = value }
    }

    /// dst[r, :] = src[idx[idx_off + r], :]; an index outside 0..<src_rows gives a row of NaN
    /// (never a read outside src) and is recorded in `failure` (KernelFailure).
    public static func gather_rows(_ src: UnsafePointer<Float>, _ src_rows: Int, _ idx: UnsafePointer<Int32>,
                                   _ idx_off: Int, _ rows: Int, _ cols: Int, _ dst: UnsafeMutablePointer<Float>,
                                   _ failure: UnsafeMutablePointer<Int32>) {
        for r in 0..<rows {
            let s = Int(idx[idx_off + r])
            if s >= 0 && s < src_rows {
                (dst + r * cols).update(from: src + s * cols, count: cols)
            } else {
                (dst + r * cols).update(repeating: .nan, count: cols)
                KernelFailure.record(failure, .gatherRowIndex, item: r, offset: s, count: 1, bound: src_rows)
            }
        }
    }

    /// One element of add_bias: v + bias, then 0 where relu and v + bias ≤ 0 (NaN stays).
    @inline(__always) public static func add_bias_element(_ x: Float, _ bias: Float, _ relu: Bool) -> Float {
        let v = x + bias
        return relu && v <= 0 ? 0 : v
    }

    public static func add_bias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ b_off: Int,
                                _ rows: Int, _ cols: Int, _ relu: Bool) {
        for r in 0..<rows {
            for c in 0..<cols { x[r * cols + c] = add_bias_element(x[r * cols + c], bias[b_off + c], relu) }
        }
    }

    /// x[i] = 0 where mask[i] ≤ 0 (a NaN mask keeps the value).
    @inline(__always) public static func apply_mask(_ x: UnsafeMutablePointer<Float>, _ mask: UnsafePointer<Float>,
                                                    _ count: Int, items: Range<Int>? = nil) {
        for i in items ?? 0..<count where mask[i] <= 0 { x[i] = 0 }
    }

    public static func column_sums(_ x: UnsafePointer<Float>, _ rows: Int, _ cols: Int,
                                   _ dst: UnsafeMutablePointer<Float>, _ off: Int) {
        for c in 0..<cols {
            var s: Float = 0
            for r in 0..<rows { s += x[r * cols + c] }
            dst[off + c] = s
        }
    }

    public static func column_sums_partial(_ x: UnsafePointer<Float>, _ rows: Int, _ cols: Int, _ slices: Int,
                                           _ partials: UnsafeMutablePointer<Float>) {
        let chunk = (rows + slices - 1) / slices
        for s in 0..<slices {
            for c in 0..<cols {
                var sum: Float = 0
                var r = s * chunk
                while r < min((s + 1) * chunk, rows) { sum += x[r * cols + c]; r += 1 }
                partials[s * cols + c] = sum
            }
        }
    }

    public static func column_sums_finish(_ partials: UnsafePointer<Float>, _ cols: Int, _ slices: Int,
                                          _ dst: UnsafeMutablePointer<Float>, _ off: Int) {
        column_sums(partials, slices, cols, dst, off)  // the slices are rows of partials
    }

    // MARK: matmul.cl

    /// C = alpha·op(A)·op(B) + beta·C: acc = fma(op(A)[i, p], op(B)[p, j], acc) for p in order,
    /// then C = beta == 0 ? alpha·acc : alpha·acc + beta·C (NaN in C does not leak when beta = 0).
    public static func matmul(_ M: Int, _ N: Int, _ K: Int, _ alpha: Float,
                              _ A: UnsafePointer<Float>, _ a_off: Int, _ lda: Int, _ trans_a: Bool,
                              _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int, _ trans_b: Bool,
                              _ beta: Float, _ C: UnsafeMutablePointer<Float>, _ c_off: Int, _ ldc: Int) {
        for i in 0..<M {
            for j in 0..<N {
                var acc: Float = 0
                for p in 0..<K {
                    let a = trans_a ? A[a_off + p * lda + i] : A[a_off + i * lda + p]
                    let b = trans_b ? B[b_off + j * ldb + p] : B[b_off + p * ldb + j]
                    acc = acc.addingProduct(a, b)
                }
                let idx = c_off + i * ldc + j
                C[idx] = beta == 0 ? alpha * acc : alpha * acc + beta * C[idx]
            }
        }
    }

    /// The signature every matmul kernel shares.
    public typealias MatmulKernel = @Sendable (_ M: Int, _ N: Int, _ K: Int, _ alpha: Float,
                                               _ A: UnsafePointer<Float>, _ a_off: Int, _ lda: Int, _ trans_a: Bool,
                                               _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int, _ trans_b: Bool,
                                               _ beta: Float, _ C: UnsafeMutablePointer<Float>, _ c_off: Int,
                                               _ ldc: Int) -> Void

    public static let matmul_general: MatmulKernel = matmul
    public static let matmul_tiled: MatmulKernel = matmul
    public static let matmul_nn16: MatmulKernel = matmul
    public static let matmul_nt: MatmulKernel = matmul
    public static let matmul_splitk: MatmulKernel = matmul

    /// Stage 1 of the k-split register-block product (B not transposed): slice z of `slices`
    /// holds P[z, i, j] = Σ fma(op(A)[i, p], B[p, j]) over p in [z·chunk, min(K, (z+1)·chunk)),
    /// p in order. `slices` is the NDRange's third extent.
    public static func matmul_nn16_slices(_ M: Int, _ N: Int, _ K: Int, _ chunk: Int,
                                          _ A: UnsafePointer<Float>, _ a_off: Int, _ lda: Int, _ trans_a: Bool,
                                          _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int,
                                          _ P: UnsafeMutablePointer<Float>, slices: Int) {
        for z in 0..<slices {
            let (p0, p1) = (min(K, z * chunk), min(K, min(K, z * chunk) + chunk))
            for i in 0..<M {
                for j in 0..<N {
                    var acc: Float = 0
                    for p in p0..<p1 {
                        acc = acc.addingProduct(trans_a ? A[a_off + p * lda + i] : A[a_off + i * lda + p],
                                                B[b_off + p * ldb + j])
                    }
                    P[(z * M + i) * N + j] = acc
                }
            }
        }
    }

    /// Stage 2: C = alpha·Σ_z P[z, i, j] (z in order) stored as store_c.
    public static func matmul_add_slices(_ M: Int, _ N: Int, _ slices: Int, _ alpha: Float,
                                         _ P: UnsafePointer<Float>, _ beta: Float,
                                         _ C: UnsafeMutablePointer<Float>, _ c_off: Int, _ ldc: Int) {
        for i in 0..<M {
            for j in 0..<N {
                var acc: Float = 0
                for z in 0..<slices { acc += P[(z * M + i) * N + j] }
                let idx = c_off + i * ldc + j
                C[idx] = beta == 0 ? alpha * acc : alpha * acc + beta * C[idx]
            }
        }
    }

    // MARK: norm.cl (kind: 0 sum, 1 L1, 2 L2, 3 squared L2; NormKind.kernelCode)

    @inline(__always) static func norm_term(_ kind: Int, _ v: Float, _ threshold: Float) -> Float {
        switch kind {
        case 0: return v
        case 1: return abs(v)
        default: return v * v
        }
    }

    /// Kahan step; once the sum is Inf or NaN the compensation is dropped.
    @inline(__always) static func kahan_add(_ sum: inout Float, _ c: inout Float, _ v: Float) {
        let y = v - c
        let t = sum + y
        c = t.isFinite ? (t - sum) - y : 0
        sum = t
    }

    static func norm_chunk(_ x: UnsafePointer<Float>, _ off: Int, _ begin: Int, _ end: Int, _ kind: Int,
                           _ threshold: Float) -> Float {
        var sum: Float = 0, c: Float = 0
        var i = begin
        while i < end { kahan_add(&sum, &c, norm_term(kind, x[off + i], threshold)); i += 1 }
        return sum
    }

    static func norm_store(_ slices: [Float], _ kind: Int, _ result: UnsafeMutablePointer<Float>, _ index: Int,
                           _ scale: Float, _ accumulate: Bool) {
        var sum: Float = 0, c: Float = 0
        for v in slices { kahan_add(&sum, &c, v) }
        if kind == 2 { sum = sum.squareRoot() }
        let value = scale * sum
        result[index] = accumulate ? result[index] + value : value
    }

    /// Stage 1 (`normItems` = NORM_ITEMS work-items, each a contiguous chunk).
    public static func norm_partials(_ x: UnsafePointer<Float>, _ off: Int, _ count: Int, _ kind: Int,
                                     _ threshold: Float, _ partials: UnsafeMutablePointer<Float>, normItems: Int) {
        let chunk = (count + normItems - 1) / normItems
        for t in 0..<normItems {
            let begin = min(t * chunk, count)
            partials[t] = norm_chunk(x, off, begin, min(begin + chunk, count), kind, threshold)
        }
    }

    /// Stage 2 (`normLocal` = NORM_LOCAL items, each a slice of the NORM_ITEMS partials).
    public static func norm_finish(_ partials: UnsafePointer<Float>, _ kind: Int, _ result: UnsafeMutablePointer<Float>,
                                   _ index: Int, _ scale: Float, _ accumulate: Bool, normItems: Int, normLocal: Int) {
        let per = normItems / normLocal
        let slices = (0..<normLocal).map { t in norm_chunk(partials, 0, t * per, (t + 1) * per, 0, 0) }
        norm_store(slices, kind, result, index, scale, accumulate)
    }

    public static func norm_small(_ x: UnsafePointer<Float>, _ off: Int, _ count: Int, _ kind: Int, _ threshold: Float,
                                  _ result: UnsafeMutablePointer<Float>, _ index: Int, _ scale: Float,
                                  _ accumulate: Bool, normLocal: Int) {
        let chunk = (count + normLocal - 1) / normLocal
        let slices = (0..<normLocal).map { t in
            let begin = min(t * chunk, count)
            return norm_chunk(x, off, begin, min(begin + chunk, count), kind, threshold)
        }
        norm_store(slices, kind, result, index, scale, accumulate)
    }

    /// Whether x[off..<off+count] lies inside x's x_count values.
    @inline(__always) public static func segment_valid(_ off: Int, _ count: Int, _ x_count: Int) -> Bool {
        off >= 0 && count >= 0 && off <= x_count - count
    }

    /// `segmentCount` work-groups (the NDRange), each a norm_small over its segment. A segment
    /// outside x gives NaN, a destination outside result is skipped; both are recorded in `failure`.
    public static func norm_segments(_ x: UnsafePointer<Float>, _ x_count: Int, _ segments: UnsafePointer<Int32>,
                                     _ scales: UnsafePointer<Float>, _ kind: Int, _ threshold: Float,
                                     _ result: UnsafeMutablePointer<Float>, _ result_count: Int, _ base: Int,
                                     _ accumulate: Bool, _ failure: UnsafeMutablePointer<Int32>,
                                     segmentCount: Int, normLocal: Int) {
        for g in 0..<segmentCount {
            let off = Int(segments[3 * g]), count = Int(segments[3 * g + 1]), index = base + Int(segments[3 * g + 2])
            let valid = segment_valid(off, count, x_count)
            if !valid { KernelFailure.record(failure, .normsSegment, item: g, offset: off, count: count, bound: x_count) }
            let n = valid ? count : 0
            let chunk = (n + normLocal - 1) / normLocal
            let slices = (0..<normLocal).map { t -> Float in
                let begin = min(t * chunk, n)
                return valid ? norm_chunk(x, off, begin, min(begin + chunk, n), kind, threshold) : .nan
            }
            if index >= 0 && index < result_count {
                norm_store(slices, kind, result, index, scales[g], accumulate)
            } else {
                KernelFailure.record(failure, .normsResult, item: g, offset: index, count: 1, bound: result_count)
            }
        }
    }

    // MARK: penalty.cl

    /// The elastic-net terms l1·sign(v) + 2·l2·v, only those present (an absent term's 0·v
    /// would turn an infinite v into NaN).
    @inline(__always) public static func elastic_net_gradient(_ v: Float, _ l1: Float, _ l2: Float) -> Float {
        var d: Float = 0
        if l1 != 0 { d += l1 * sign_nan(v) }
        if l2 != 0 { d += 2 * l2 * v }
        return d
    }

    /// penalty_gradient's l2n/‖w‖₂ (0 where ‖w‖₂ = 0 or l2n = 0; NaN stays).
    @inline(__always) public static func penalty_norm_scale(_ l2n: Float, _ norm: Float) -> Float {
        norm > 0 || norm.isNaN ? l2n / norm : 0
    }

    /// g[off+i] += elastic_net_gradient(w) + l2n·w/‖w‖₂, ‖w‖₂ = norms[norm_index] (unread when l2n = 0).
    public static func penalty_gradient(_ w: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ off: Int,
                                        _ count: Int, _ l1: Float, _ l2: Float, _ l2n: Float,
                                        _ norms: UnsafePointer<Float>?, _ norm_index: Int, items: Range<Int>? = nil) {
        let norm_scale = l2n != 0 ? penalty_norm_scale(l2n, norms![norm_index]) : 0
        for i in items ?? 0..<count {
            let v = w[off + i]
            var d = elastic_net_gradient(v, l1, l2)
            if norm_scale != 0 { d += norm_scale * v }
            g[off + i] += d
        }
    }

    public static func penalty_vector(_ w: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                                      _ l1: UnsafePointer<Float>, _ l2: UnsafePointer<Float>, _ count: Int,
                                      items: Range<Int>? = nil) {
        for i in items ?? 0..<count { g[i] += elastic_net_gradient(w[i], l1[i], l2[i]) }
    }

    // MARK: proximal.cl

    public static func proximal_l1(_ w: UnsafeMutablePointer<Float>, _ off: Int, _ count: Int, _ threshold: Float,
                                   items: Range<Int>? = nil) {
        for i in items ?? 0..<count { w[off + i] = soft_threshold(w[off + i], threshold) }
    }

    /// One value of fista_step: x⁺ = prox(z − step·g), z ← (1 + μ)·x⁺ − μ·x, x ← x⁺.
    @inline(__always) public static func fista_element(_ z: inout Float, _ g: Float, _ x: inout Float,
                                                       _ step: Float, _ momentum: Float,
                                                       prox: (threshold: Float, scale: Float)?) {
        var next = -step * g + z
        if let prox { next = soft_threshold(next, prox.threshold) * prox.scale }
        z = -momentum * x + (1 + momentum) * next
        x = next
    }

    public static func fista_step(_ z: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                                  _ x: UnsafeMutablePointer<Float>, _ count: Int, _ rows: Int, _ cols: Int,
                                  _ step: Float, _ momentum: Float, _ thresholds: UnsafePointer<Float>,
                                  _ scales: UnsafePointer<Float>, items: Range<Int>? = nil) {
        for i in items ?? 0..<count {
            let r = i < rows * cols ? i / cols : -1
            fista_element(&z[i], g[i], &x[i], step, momentum, prox: r >= 0 ? (thresholds[r], scales[r]) : nil)
        }
    }

    // MARK: loss.cl (kind: 0 mse, 1 bce, 2 ce; LossKind.kernelCode)

    /// One model's row (`width` logits zr): writes scale·∂loss/∂z into gr and returns the loss
    /// and 1 or 0 for a correct prediction (mse: 0).
    @inline(__always) public static func loss_row(_ kind: Int, _ zr: UnsafePointer<Float>, _ target: Float, _ width: Int,
                                                  _ scale: Float, _ gr: UnsafeMutablePointer<Float>) -> (loss: Float, correct: Float) {
        switch kind {
        case 0:
            let d = zr[0] - target
            gr[0] = 2 * d * scale
            return (d * d, 0)
        case 1:
            let x = zr[0]
            gr[0] = (LossFormula.sigmoid(x) - target) * scale
            return (LossFormula.binaryCrossEntropy(logit: x, target: target), (x > 0) == (target > 0.5) ? 1 : 0)
        default:
            var best = 0
            var top = -Float.infinity
            for c in 0..<width where zr[c] > top || zr[c].isNaN {
                top = zr[c]; best = c
                if top.isNaN { break }
            }
            var total: Float = 0
            for c in 0..<width {  // e^{z−max} once, kept in the gradient slot
                gr[c] = exp(zr[c] - top)
                total += gr[c]
            }
            let inverse = 1 / total
            let label = Int(exactly: target) ?? -1
            let valid = label >= 0 && label < width
            for c in 0..<width { gr[c] = (gr[c] * inverse - (valid && c == label ? 1 : 0)) * scale }
            // logsumexp − z_y as log Σ e^{z−max} − (z_y − max): no rounding at the logits' magnitude.
            let loss = valid ? log(total) - (zr[label] - top) : .nan
            return (loss, valid && best == label ? 1 : 0)
        }
    }

    public static func loss_gradient(_ kind: Int, _ z: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ y_off: Int,
                                     _ rows: Int, _ cols: Int, _ width: Int, _ scale: Float,
                                     _ grad: UnsafeMutablePointer<Float>, _ row_loss: UnsafeMutablePointer<Float>,
                                     _ row_correct: UnsafeMutablePointer<Float>, items: Range<Int>? = nil) {
        for r in items ?? 0..<rows {
            for b in 0..<(cols / width) {
                let first = r * cols + b * width
                let row = loss_row(kind, z + first, y[y_off + r], width, scale, grad + first)
                row_loss[b * rows + r] = row.loss
                row_correct[b * rows + r] = row.correct
            }
        }
    }

    // MARK: optimizer.cl

    /// torch.optim.SGD for one parameter; `buf` (the momentum buffer) is unread when momentum = 0.
    @inline(__always) public static func sgd_update(_ w: Float, _ g: Float, _ buf: UnsafeMutablePointer<Float>?,
                                                    _ lr: Float, _ momentum: Float, _ dampening: Float, _ wd: Float,
                                                    _ nesterov: Bool, _ first: Bool) -> Float {
        var d = g
        if wd != 0 { d += wd * w }
        if momentum != 0, let buf {
            let b = first ? d : momentum * buf.pointee + (1 - dampening) * d
            buf.pointee = b
            d = nesterov ? d + momentum * b : b
        }
        return w - lr * d
    }

    public static func sgd_step(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                                _ buf: UnsafeMutablePointer<Float>?, _ off: Int, _ count: Int, _ lr: Float,
                                _ momentum: Float, _ dampening: Float, _ wd: Float, _ nesterov: Bool, _ first: Bool,
                                items: Range<Int>? = nil) {
        guard let buf, momentum != 0 else {  // no momentum buffer: a loop the compiler can vectorize
            for i in items ?? 0..<count {
                let k = off + i
                w[k] = sgd_update(w[k], g[k], nil, lr, 0, dampening, wd, nesterov, first)
            }
            return
        }
        for i in items ?? 0..<count {
            let k = off + i
            w[k] = sgd_update(w[k], g[k], buf + k, lr, momentum, dampening, wd, nesterov, first)
        }
    }

    /// torch.optim.Adam (decoupled = false) / AdamW (true) for one parameter, updating m and v.
    @inline(__always) public static func adam_update(_ w: Float, _ g: Float, _ m: UnsafeMutablePointer<Float>,
                                                     _ v: UnsafeMutablePointer<Float>, _ lr: Float, _ beta1: Float,
                                                     _ beta2: Float, _ eps: Float, _ wd: Float, _ decoupled: Bool,
                                                     _ step_size: Float, _ sqrt_bc2: Float) -> Float {
        var p = w
        var grad = g
        if wd != 0 {
            if decoupled { p *= 1 - lr * wd } else { grad += wd * p }
        }
        let mk = m.pointee + (1 - beta1) * (grad - m.pointee)
        let vk = beta2 * v.pointee + (1 - beta2) * grad * grad
        m.pointee = mk
        v.pointee = vk
        return p - step_size * mk / (vk.squareRoot() / sqrt_bc2 + eps)
    }

    public static func adam_step(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                                 _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ off: Int,
                                 _ count: Int, _ lr: Float, _ beta1: Float, _ beta2: Float, _ eps: Float, _ wd: Float,
                                 _ decoupled: Bool, _ step_size: Float, _ sqrt_bc2: Float, items: Range<Int>? = nil) {
        for i in items ?? 0..<count {
            let k = off + i
            w[k] = adam_update(w[k], g[k], m + k, v + k, lr, beta1, beta2, eps, wd, decoupled, step_size, sqrt_bc2)
        }
    }
}

/// The failure record gather_rows and norm_segments write (a device-side int[5], zero when
/// clear): the first failing work-item since the host last looked stores
/// (code, item, offset, count, bound); later failures leave it as it is. The host turns it
/// into the same `DeviceError.outOfBounds` on every device.
extension KernelReference {
    // MARK: sparse.cl

    /// C = alpha·A·op(B) + beta·C for A in CSR form: item (j, r) sums row r's non-zeros in stored
    /// order with fma, then stores as store_c. A row range that decreases or passes nnz, or a
    /// column index outside 0..<K, gives NaN for that entry and is recorded in `failure`.
    /// `items`: the rows to run (all by default).
    public static func sparse_matmul(_ M: Int, _ N: Int, _ K: Int, _ nnz: Int, _ alpha: Float,
                                     _ row_starts: UnsafePointer<Int32>, _ col_idx: UnsafePointer<Int32>,
                                     _ vals: UnsafePointer<Float>, _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int,
                                     _ trans_b: Bool, _ beta: Float, _ C: UnsafeMutablePointer<Float>, _ c_off: Int,
                                     _ ldc: Int, _ failure: UnsafeMutablePointer<Int32>, items: Range<Int>? = nil) {
        for r in items ?? 0..<M {
            let (start, end) = (Int(row_starts[r]), Int(row_starts[r + 1]))
            var bad: (value: Int, bound: Int)?
            if start < 0 || start > end || end > nnz { bad = (end, nnz) }
            for j in 0..<N {
                var acc: Float = 0
                if bad == nil {
                    for i in start..<end {
                        let c = Int(col_idx[i])
                        guard c >= 0, c < K else { bad = (c, K); break }
                        acc = acc.addingProduct(vals[i], trans_b ? B[b_off + j * ldb + c] : B[b_off + c * ldb + j])
                    }
                }
                let idx = c_off + r * ldc + j
                if let bad {
                    C[idx] = .nan
                    KernelFailure.record(failure, .sparseColumn, item: r, offset: bad.value, count: 1, bound: bad.bound)
                } else {
                    C[idx] = beta == 0 ? alpha * acc : alpha * acc + beta * C[idx]
                }
            }
        }
    }
}

extension KernelReference {
    /// Product row i's stored range (start, end), or a failure (code, bad, bound).
    static func sel_row(_ i: Int, _ a_rows: Int, _ nnz: Int, _ row_starts: UnsafePointer<Int32>,
                        _ row_idx: UnsafePointer<Int32>, _ row_first: Int, _ use_idx: Bool)
        -> Result<(start: Int, end: Int), SelectionFailure> {
        let ar = use_idx ? Int(row_idx[row_first + i]) : row_first + i
        guard ar >= 0, ar < a_rows else { return .failure(SelectionFailure(code: .sparseSelectedRow, bad: ar, bound: a_rows)) }
        let (start, end) = (Int(row_starts[ar]), Int(row_starts[ar + 1]))
        guard start >= 0, start <= end, end <= nnz else {
            return .failure(SelectionFailure(code: .sparseColumn, bad: end, bound: nnz))
        }
        return .success((start, end))
    }

    /// Σ fma(vals[e], op(B)[B row of col_idx[e], j]) over e = from, from + step, … < end, in order.
    static func sel_sum(_ from: Int, _ end: Int, _ step: Int, _ j: Int, _ K: Int, _ col_idx: UnsafePointer<Int32>,
                        _ vals: UnsafePointer<Float>, _ b_map: UnsafePointer<Int32>, _ b_mode: Int, _ b_first: Int,
                        _ b_rows: Int, _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int, _ trans_b: Bool)
        -> Result<Float, SelectionFailure> {
        var sum: Float = 0
        var e = from
        while e < end {
            defer { e += step }
            let c = Int(col_idx[e])
            guard c >= 0, c < K else { return .failure(SelectionFailure(code: .sparseColumn, bad: c, bound: K)) }
            var br = c
            if b_mode == 1 {
                br = c - b_first
                if br < 0 || br >= b_rows { continue }
            } else if b_mode == 2 {
                br = Int(b_map[c])
                if br < 0 { continue }
                if br >= b_rows { return .failure(SelectionFailure(code: .sparseBRow, bad: br, bound: b_rows)) }
            }
            sum = sum.addingProduct(vals[e], trans_b ? B[b_off + j * ldb + br] : B[b_off + br * ldb + j])
        }
        return .success(sum)
    }

    struct SelectionFailure: Error {
        var code: KernelFailure.Code, bad: Int, bound: Int
    }

    /// sparse_matmul_sel: item (j, i) sums product row i in stored order (see sparse.cl).
    /// `items`: the product rows to run (all by default).
    public static func sparse_matmul_sel(
        _ M: Int, _ N: Int, _ K: Int, _ nnz: Int, _ alpha: Float, _ row_starts: UnsafePointer<Int32>,
        _ col_idx: UnsafePointer<Int32>, _ vals: UnsafePointer<Float>, _ a_rows: Int, _ row_idx: UnsafePointer<Int32>,
        _ row_first: Int, _ use_idx: Bool, _ b_map: UnsafePointer<Int32>, _ b_mode: Int, _ b_first: Int, _ b_rows: Int,
        _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int, _ trans_b: Bool, _ beta: Float,
        _ C: UnsafeMutablePointer<Float>, _ c_off: Int, _ ldc: Int, _ trans_c: Bool,
        _ failure: UnsafeMutablePointer<Int32>, items: Range<Int>? = nil
    ) {
        for i in items ?? 0..<M {
            let range = sel_row(i, a_rows, nnz, row_starts, row_idx, row_first, use_idx)
            for j in 0..<N {
                let result = range.flatMap { r in
                    sel_sum(r.start, r.end, 1, j, K, col_idx, vals, b_map, b_mode, b_first, b_rows, B, b_off, ldb, trans_b)
                }
                sel_store(result, i, j, alpha, beta, C, c_off, ldc, trans_c, failure)
            }
        }
    }

    /// sparse_matmul_sel_group with SP_LOCAL = `local`: item t of group (j, i) sums entries
    /// start + t, start + t + local, … in order; the partials are added by the kernel's tree.
    public static func sparse_matmul_sel_group(
        _ M: Int, _ N: Int, _ K: Int, _ nnz: Int, _ alpha: Float, _ row_starts: UnsafePointer<Int32>,
        _ col_idx: UnsafePointer<Int32>, _ vals: UnsafePointer<Float>, _ a_rows: Int, _ row_idx: UnsafePointer<Int32>,
        _ row_first: Int, _ use_idx: Bool, _ b_map: UnsafePointer<Int32>, _ b_mode: Int, _ b_first: Int, _ b_rows: Int,
        _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int, _ trans_b: Bool, _ beta: Float,
        _ C: UnsafeMutablePointer<Float>, _ c_off: Int, _ ldc: Int, _ trans_c: Bool,
        _ failure: UnsafeMutablePointer<Int32>, local: Int, items: Range<Int>? = nil
    ) {
        var part = [Float](repeating: 0, count: local)
        for i in items ?? 0..<M {
            let range = sel_row(i, a_rows, nnz, row_starts, row_idx, row_first, use_idx)
            for j in 0..<N {
                var failed: SelectionFailure?
                for t in 0..<local {
                    switch range.flatMap({ r in
                        sel_sum(r.start + t, r.end, local, j, K, col_idx, vals, b_map, b_mode, b_first, b_rows, B,
                                b_off, ldb, trans_b)
                    }) {
                    case let .success(sum): part[t] = sum
                    case let .failure(f): part[t] = 0; failed = failed ?? f
                    }
                }
                var s = local / 2
                while s > 0 {
                    for t in 0..<s { part[t] = part[t] + part[t + s] }
                    s /= 2
                }
                sel_store(failed.map { .failure($0) } ?? .success(part[0]), i, j, alpha, beta, C, c_off, ldc, trans_c,
                          failure)
            }
        }
    }

    /// Stores one entry as store_c (NaN and the record on failure; only item j = 0 records).
    private static func sel_store(_ result: Result<Float, SelectionFailure>, _ i: Int, _ j: Int, _ alpha: Float,
                                  _ beta: Float, _ C: UnsafeMutablePointer<Float>, _ c_off: Int, _ ldc: Int,
                                  _ trans_c: Bool, _ failure: UnsafeMutablePointer<Int32>) {
        let idx = c_off + (trans_c ? j * ldc + i : i * ldc + j)
        switch result {
        case let .success(acc):
            C[idx] = beta == 0 ? alpha * acc : alpha * acc + beta * C[idx]
        case let .failure(f):
            C[idx] = .nan
            if j == 0 { KernelFailure.record(failure, f.code, item: i, offset: f.bad, count: 1, bound: f.bound) }
        }
    }

    /// sparse_matmul_tn: item (s, j) scales its column slice of C's row j by beta, then adds
    /// fma(vals[e], alpha·B[i, j], C) over each selected row's entries in the slice, rows in order
    /// (see sparse.cl). `items`: the items to run, numbered j·slices + s (all by default).
    public static func sparse_matmul_tn(
        _ M: Int, _ N: Int, _ K: Int, _ nnz: Int, _ alpha: Float, _ row_starts: UnsafePointer<Int32>,
        _ col_idx: UnsafePointer<Int32>, _ vals: UnsafePointer<Float>, _ a_rows: Int, _ row_idx: UnsafePointer<Int32>,
        _ row_first: Int, _ use_idx: Bool, _ B: UnsafePointer<Float>, _ b_off: Int, _ ldb: Int, _ beta: Float,
        _ C: UnsafeMutablePointer<Float>, _ c_off: Int, _ ldc: Int, _ slices: Int,
        _ failure: UnsafeMutablePointer<Int32>, items: Range<Int>? = nil
    ) {
        for item in items ?? 0..<(N * slices) {
            let (j, s) = (item / slices, item % slices)
            let (c0, c1) = (K * s / slices, K * (s + 1) / slices)
            let row = C + c_off + j * ldc
            for c in c0..<c1 { row[c] = beta == 0 ? 0 : beta * row[c] }
            rows: for i in 0..<M {
                var failed: SelectionFailure?
                var (start, end) = (0, 0)
                switch sel_row(i, a_rows, nnz, row_starts, row_idx, row_first, use_idx) {
                case let .success(r): (start, end) = r
                case let .failure(f): failed = f
                }
                if failed == nil, start < end, col_idx[start] < 0 || Int(col_idx[end - 1]) >= K {
                    let bad = col_idx[start] < 0 ? Int(col_idx[start]) : Int(col_idx[end - 1])
                    failed = SelectionFailure(code: .sparseColumn, bad: bad, bound: K)
                }
                if let failed {
                    for c in c0..<c1 { row[c] = .nan }
                    if s == 0, j == 0 {
                        KernelFailure.record(failure, failed.code, item: i, offset: failed.bad, count: 1, bound: failed.bound)
                    }
                    break rows
                }
                var (lo, hi) = (start, end)
                while lo < hi {
                    let mid = lo + (hi - lo) / 2
                    if Int(col_idx[mid]) < c0 { lo = mid + 1 } else { hi = mid }
                }
                let ab = alpha * B[b_off + i * ldb + j]
                for e in lo..<end {
                    let c = Int(col_idx[e])
                    if c < c0 || c >= c1 { break }
                    row[c] = row[c].addingProduct(vals[e], ab)
                }
            }
        }
    }

    /// map[idx[idx_off + i]] = i, or −1 when reset; an index outside 0..<count is recorded.
    public static func scatter_positions(_ map: UnsafeMutablePointer<Int32>, _ count: Int, _ idx: UnsafePointer<Int32>,
                                         _ idx_off: Int, _ rows: Int, _ reset: Bool,
                                         _ failure: UnsafeMutablePointer<Int32>, items: Range<Int>? = nil) {
        for i in items ?? 0..<rows {
            let r = Int(idx[idx_off + i])
            guard r >= 0, r < count else {
                KernelFailure.record(failure, .scatterIndex, item: i, offset: r, count: 1, bound: count)
                continue
            }
            map[r] = reset ? -1 : Int32(i)
        }
    }
}

public enum KernelFailure {
    public enum Code: Int32 {
        case gatherRowIndex = 1
        case normsSegment = 2
        case normsResult = 3
        case sparseColumn = 4
        case sparseSelectedRow = 5
        case sparseBRow = 6
        case scatterIndex = 7
    }

    /// The record's length in int32s.
    public static let length = 5

    /// The scalar twin of the kernels' atomic_cmpxchg(failure, 0, code) and stores.
    static func record(_ failure: UnsafeMutablePointer<Int32>, _ code: Code, item: Int, offset: Int, count: Int,
                       bound: Int) {
        guard failure[0] == 0 else { return }
        failure[0] = code.rawValue
        failure[1] = Int32(truncatingIfNeeded: item)
        failure[2] = Int32(truncatingIfNeeded: offset)
        failure[3] = Int32(truncatingIfNeeded: count)
        failure[4] = Int32(truncatingIfNeeded: bound)
    }

    /// The error a record names (nil when clear): what CPUDevice throws at the op and
    /// OpenCLDevice at the next `read` or `synchronize`.
    public static func error(_ record: UnsafePointer<Int32>) -> DeviceError? {
        guard record[0] != 0 else { return nil }
        guard let code = Code(rawValue: record[0]) else {
            return .invalidArgument("a kernel recorded an unknown failure code \(record[0])")
        }
        return error(code, item: Int(record[1]), offset: Int(record[2]), count: Int(record[3]), bound: Int(record[4]))
    }

    static func error(_ code: Code, item: Int, offset: Int, count: Int, bound: Int) -> DeviceError {
        let what = switch code {
        case .gatherRowIndex: "gatherRows row index (row \(item))"
        case .normsSegment: "norms segment \(item)"
        case .normsResult: "norms result (segment \(item))"
        case .sparseColumn: "sparseMatmul row \(item) (a column index, or its row range)"
        case .sparseSelectedRow: "sparseMatmul selected row (product row \(item))"
        case .sparseBRow: "sparseMatmul B row map (product row \(item))"
        case .scatterIndex: "scatterPositions index (row \(item))"
        }
        return .outOfBounds(what: what, offset: offset, count: count, bufferCount: bound)
    }
}

extension LossKind {
    /// loss.cl's kind code.
    public var kernelCode: Int {
        switch self {
        case .mse: return 0
        case .bce: return 1
        case .ce: return 2
        }
    }
}

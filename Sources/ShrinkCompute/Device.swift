// Shape legend (all matrices row-major, all offsets and counts in elements):
//   m, n, k      matmul: C is m×n, op(A) is m×k, op(B) is k×n
//   rows × cols  a batch of activations or logits (rows = batch size B)
//   count        elements of a flat vector (a parameter tensor, a gradient)
//   P            all parameters of a model, stored flat in one buffer

/// What a `Device` is built on.
public enum DeviceKind: String, Sendable {
    case cpu
    case opencl
}

/// A compute device: owns buffers and runs every kernel a training step needs.
///
/// Operations are queued in order and may run asynchronously; only `read` and
/// `synchronize` wait. The same op names and argument order exist on every device,
/// so training code never branches on the device behind it.
public protocol Device: AnyObject, Sendable {
    /// A human-readable name such as "CPU (OpenBLAS)" or the OpenCL device name.
    var name: String { get }
    var kind: DeviceKind { get }
    /// Launches and transfers issued so far.
    var counters: DeviceCounters { get }

    // MARK: Memory

    /// A zero-filled buffer of `count` elements of `type`.
    func makeBuffer(count: Int, type: ElementType) throws -> Buffer
    /// Writes `values` into `buffer` starting at element `offset`.
    func write(_ values: UnsafeRawBufferPointer, to buffer: Buffer, at offset: Int) throws
    /// Reads `count` elements from `buffer` starting at `offset` into `destination` (waits).
    func read(_ buffer: Buffer, at offset: Int, count: Int, into destination: UnsafeMutableRawBufferPointer) throws
    /// Copies `count` elements between buffers of the same element type.
    func copy(_ source: Buffer, at sourceOffset: Int, to destination: Buffer, at destinationOffset: Int, count: Int) throws
    /// Sets `count` float elements starting at `offset` to `value`.
    func fill(_ buffer: Buffer, at offset: Int, count: Int, with value: Float) throws
    /// Waits until every queued operation has finished.
    func synchronize() throws

    // MARK: Linear algebra

    /// C = alpha·op(A)·op(B) + beta·C (BLAS sgemm, row-major, contiguous rows).
    /// Leading dimensions follow from the shape: A is m×k (k×m when transposed),
    /// B is k×n (n×k when transposed), C is m×n. beta = 0 ignores C's old contents.
    func matmul(_ shape: MatmulShape, alpha: Float, a: Buffer, at aOffset: Int,
                b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws

    /// result[index] = scale·N(x[offset..<offset+count]) (+ result[index] when accumulating),
    /// where N is the reduction `kind`. The result stays on the device.
    func norm(_ kind: NormKind, of x: Buffer, at offset: Int, count: Int,
              into result: Buffer, at index: Int, scale: Float, accumulate: Bool) throws
    /// Many reductions in one launch: `segments` holds `segmentCount` int32 triples (offset, count,
    /// destination); segment i sets result[base + destination] = scales[i]·norm(x[offset..<offset+count])
    /// (added to it with `accumulate`). A segment outside x or result is an error (CPU) or NaN /
    /// skipped (OpenCL, which does not read the table back).
    func norms(_ kind: NormKind, of x: Buffer, segments: Buffer, scales: Buffer, segmentCount: Int,
               into result: Buffer, at base: Int, accumulate: Bool) throws

    // MARK: Penalties

    /// gradient += l1·sign(w) + 2·l2·w + l2Norm·w/‖w‖₂ over w = weights[offset..<offset+count],
    /// where ‖w‖₂ is read from norms[normIndex] (0 where ‖w‖₂ = 0; unread when l2Norm = 0).
    /// sign(0) = 0; NaN propagates.
    func penaltyGradient(_ penalty: PenaltyCoefficients, weights: Buffer, gradient: Buffer,
                         at offset: Int, count: Int, norms: Buffer, normIndex: Int) throws

    /// The L1 proximal step: w ← sign(w)·max(|w| − threshold, 0).
    func proximalL1(_ weights: Buffer, at offset: Int, count: Int, threshold: Float) throws
    /// gradient[i] += l1[i]·sign(w[i]) + 2·l2[i]·w[i] for i < count, each parameter with its own
    /// coefficients (a zero coefficient adds no term, as `penaltyGradient`).
    func penaltyGradient(l1: Buffer, l2: Buffer, weights: Buffer, gradient: Buffer, count: Int) throws

    // MARK: Layers

    /// destination[r, :] = source[indices[indexOffset + r], :] for r < rows (int32 indices).
    /// An index outside the source's rows throws outOfBounds where indices are read on the host
    /// (CPU); on OpenCL, which does not read them back, that row is NaN (never a wild read).
    func gatherRows(_ source: Buffer, indices: Buffer, at indexOffset: Int, rows: Int, cols: Int,
                    into destination: Buffer) throws
    /// x[r, c] += bias[biasOffset + c], then x ← max(x, 0) when `relu`.
    func addBias(_ x: Buffer, bias: Buffer, at biasOffset: Int, rows: Int, cols: Int, relu: Bool) throws
    /// values[i] = 0 where mask[i] ≤ 0: ReLU's backward pass through its output, or a 0/1 mask
    /// of parameters held fixed. A NaN mask keeps the value.
    func applyMask(_ values: Buffer, mask: Buffer, count: Int) throws
    /// destination[offset + c] = Σ_r x[r, c] (bias gradient).
    func columnSums(_ x: Buffer, rows: Int, cols: Int, into destination: Buffer, at offset: Int) throws

    // MARK: Loss

    /// For logits [rows, cols] and targets[targetOffset..<targetOffset+rows]: the gradient of the
    /// mean loss w.r.t. the logits into `gradient` [rows, cols]. The columns are cols/classes
    /// independent models of `classes` outputs each (1 for mse and bce, the class count for
    /// ce), all sharing the row's target; one model is the ordinary case. Model b's loss for
    /// row r goes to `rowLoss`[b·rows + r] and 1 or 0 to `rowCorrect`[b·rows + r] (bce: logit
    /// > 0 predicts 1; ce: the first argmax; mse: 0), block-major.
    func lossGradient(_ loss: LossKind, logits: Buffer, targets: Buffer, at targetOffset: Int,
                      rows: Int, cols: Int, classes: Int, gradient: Buffer, rowLoss: Buffer, rowCorrect: Buffer) throws

    // MARK: Optimizers

    /// torch.optim.SGD on weights[offset..<offset+count] (see `SGDHyperparameters`).
    func sgdStep(_ hyper: SGDHyperparameters, weights: Buffer, gradient: Buffer, momentum: Buffer,
                 at offset: Int, count: Int, isFirstStep: Bool) throws
    /// One FISTA step over z, gradient and x [count]: x⁺ = prox(z − step·g), then
    /// z ← (1 + momentum)·x⁺ − momentum·x and x ← x⁺. The first rows·cols values are weights
    /// [rows, cols] whose row r gets the elastic-net prox sign(v)·max(|v| − thresholds[r], 0)·scales[r];
    /// the rest (intercepts) take the plain step.
    func fistaStep(z: Buffer, gradient: Buffer, x: Buffer, count: Int, rows: Int, cols: Int, step: Float,
                   momentum: Float, thresholds: Buffer, scales: Buffer) throws
    /// torch.optim.Adam / AdamW on weights[offset..<offset+count], `step` counting from 1.
    func adamStep(_ hyper: AdamHyperparameters, weights: Buffer, gradient: Buffer,
                  firstMoment: Buffer, secondMoment: Buffer, at offset: Int, count: Int, step: Int) throws
}

extension Device {
    /// One model: `classes` = cols for ce, 1 for mse and bce (where cols > 1 are cols models).
    public func lossGradient(_ loss: LossKind, logits: Buffer, targets: Buffer, at targetOffset: Int,
                             rows: Int, cols: Int, gradient: Buffer, rowLoss: Buffer, rowCorrect: Buffer) throws {
        try lossGradient(loss, logits: logits, targets: targets, at: targetOffset, rows: rows, cols: cols,
                         classes: loss == .ce ? cols : 1, gradient: gradient, rowLoss: rowLoss, rowCorrect: rowCorrect)
    }

    /// The number of models in `cols` loss columns of `classes` outputs each (validated).
    func lossBlocks(_ loss: LossKind, cols: Int, classes: Int) throws -> Int {
        guard classes > 0, cols % classes == 0, loss == .ce || classes == 1 else {
            throw DeviceError.invalidArgument("lossGradient: \(cols) columns are not models of \(classes) outputs for \(loss)")
        }
        return cols / classes
    }
}

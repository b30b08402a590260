/// What a `Device` is built on.
public enum DeviceKind: String, Sendable {
    case cpu
    case opencl
}

/// A compute device: buffers, and the five op families of `DeviceOps.swift` (linear algebra,
/// reductions, elementwise maps, losses, updates).
///
/// Operations are queued in order and may run asynchronously; only `read` and
/// `synchronize` wait. A failure an op can only detect on the device (a bad index or segment)
/// is thrown by the next `read` or `synchronize`, once. Every device runs the same ops with the same arguments, so training
/// code never branches on the device behind it. The named methods below (`matmul`,
/// `columnSums`, `adamStep`…) are spellings of `run` with one op.
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

    // MARK: Ops

    func run(_ op: LinearAlgebraOp) throws
    func run(_ op: ReductionOp) throws
    func run(_ op: ElementwiseOp) throws
    func run(_ op: LossOp) throws
    func run(_ op: UpdateOp) throws
}

// The ops by name, as training code calls them (each is `run` with one case; the semantics
// are documented on the case).
extension Device {
    public func matmul(_ shape: MatmulShape, alpha: Float, a: Buffer, at aOffset: Int,
                       b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        try run(LinearAlgebraOp.matmul(shape, alpha: alpha, a: a, aOffset: aOffset, b: b, bOffset: bOffset,
                                       beta: beta, c: c, cOffset: cOffset))
    }

    public func sparseMatmul(_ a: SparseOperand, n: Int, transposeB: Bool, alpha: Float, b: Buffer, at bOffset: Int,
                             beta: Float, c: Buffer, at cOffset: Int) throws {
        try run(LinearAlgebraOp.sparseMatmul(a, n: n, transposeB: transposeB, alpha: alpha, b: b, bOffset: bOffset,
                                             beta: beta, c: c, cOffset: cOffset))
    }

    public func sparseMatmul(_ a: SparseOperand, _ selection: SparseSelection, n: Int, transposeB: Bool, alpha: Float,
                             b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        try run(LinearAlgebraOp.sparseMatmulSelected(a, selection, n: n, transposeB: transposeB, alpha: alpha, b: b,
                                                     bOffset: bOffset, beta: beta, c: c, cOffset: cOffset))
    }

    public func sparseMatmulTransposed(_ a: SparseOperand, rows: SparseSelection.Rows, m: Int, n: Int, alpha: Float,
                                       b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        try run(LinearAlgebraOp.sparseMatmulTransposed(a, rows: rows, m: m, n: n, alpha: alpha, b: b, bOffset: bOffset,
                                                       beta: beta, c: c, cOffset: cOffset))
    }

    public func scatterPositions(_ map: Buffer, count: Int, indices: Buffer, at indexOffset: Int, rows: Int,
                                 reset: Bool) throws {
        try run(ElementwiseOp.scatterPositions(map: map, count: count, indices: indices, indexOffset: indexOffset,
                                               rows: rows, reset: reset))
    }

    public func norm(_ kind: NormKind, of x: Buffer, at offset: Int, count: Int,
                     into result: Buffer, at index: Int, scale: Float, accumulate: Bool) throws {
        try run(ReductionOp.norm(kind, x: x, offset: offset, count: count, result: result, index: index,
                                 scale: scale, accumulate: accumulate))
    }

    public func norms(_ kind: NormKind, of x: Buffer, segments: Buffer, scales: Buffer, segmentCount: Int,
                      into result: Buffer, at base: Int, accumulate: Bool) throws {
        try run(ReductionOp.segmentNorms(kind, x: x, segments: segments, scales: scales, segmentCount: segmentCount,
                                         result: result, base: base, accumulate: accumulate))
    }

    public func columnSums(_ x: Buffer, rows: Int, cols: Int, into destination: Buffer, at offset: Int) throws {
        try run(ReductionOp.columnSums(x: x, rows: rows, cols: cols, destination: destination, offset: offset))
    }

    public func gatherRows(_ source: Buffer, indices: Buffer, at indexOffset: Int, rows: Int, cols: Int,
                           into destination: Buffer) throws {
        try run(ElementwiseOp.gatherRows(source: source, indices: indices, indexOffset: indexOffset, rows: rows,
                                         cols: cols, destination: destination))
    }

    public func addBias(_ x: Buffer, bias: Buffer, at biasOffset: Int, rows: Int, cols: Int, relu: Bool) throws {
        try run(ElementwiseOp.addBias(x: x, bias: bias, biasOffset: biasOffset, rows: rows, cols: cols, relu: relu))
    }

    public func applyMask(_ values: Buffer, mask: Buffer, count: Int) throws {
        try run(ElementwiseOp.applyMask(values: values, mask: mask, count: count))
    }

    public func penaltyGradient(_ penalty: PenaltyCoefficients, weights: Buffer, gradient: Buffer,
                                at offset: Int, count: Int, norms: Buffer, normIndex: Int) throws {
        try run(ElementwiseOp.penaltyGradient(penalty, weights: weights, gradient: gradient, offset: offset,
                                              count: count, norms: norms, normIndex: normIndex))
    }

    public func penaltyGradient(l1: Buffer, l2: Buffer, weights: Buffer, gradient: Buffer, count: Int) throws {
        try run(ElementwiseOp.penaltyGradientPerElement(l1: l1, l2: l2, weights: weights, gradient: gradient,
                                                        count: count))
    }

    public func proximalL1(_ weights: Buffer, at offset: Int, count: Int, threshold: Float) throws {
        try run(ElementwiseOp.proximalL1(weights: weights, offset: offset, count: count, threshold: threshold))
    }

    public func lossGradient(_ loss: LossKind, logits: Buffer, targets: Buffer, at targetOffset: Int,
                             rows: Int, cols: Int, classes: Int, gradient: Buffer, rowLoss: Buffer,
                             rowCorrect: Buffer) throws {
        try run(LossOp.gradient(loss, logits: logits, targets: targets, targetOffset: targetOffset, rows: rows,
                                cols: cols, classes: classes, gradient: gradient, rowLoss: rowLoss,
                                rowCorrect: rowCorrect))
    }

    /// One model: `classes` = cols for ce, 1 for mse and bce (where cols > 1 are cols models).
    public func lossGradient(_ loss: LossKind, logits: Buffer, targets: Buffer, at targetOffset: Int,
                             rows: Int, cols: Int, gradient: Buffer, rowLoss: Buffer, rowCorrect: Buffer) throws {
        try lossGradient(loss, logits: logits, targets: targets, at: targetOffset, rows: rows, cols: cols,
                         classes: loss == .ce ? cols : 1, gradient: gradient, rowLoss: rowLoss, rowCorrect: rowCorrect)
    }

    public func sgdStep(_ hyper: SGDHyperparameters, weights: Buffer, gradient: Buffer, momentum: Buffer,
                        at offset: Int, count: Int, isFirstStep: Bool) throws {
        try run(UpdateOp.sgd(hyper, weights: weights, gradient: gradient, momentum: momentum, offset: offset,
                             count: count, isFirstStep: isFirstStep))
    }

    public func adamStep(_ hyper: AdamHyperparameters, weights: Buffer, gradient: Buffer,
                         firstMoment: Buffer, secondMoment: Buffer, at offset: Int, count: Int, step: Int) throws {
        try run(UpdateOp.adam(hyper, weights: weights, gradient: gradient, firstMoment: firstMoment,
                              secondMoment: secondMoment, offset: offset, count: count, step: step))
    }

    public func fistaStep(z: Buffer, gradient: Buffer, x: Buffer, count: Int, rows: Int, cols: Int, step: Float,
                          momentum: Float, thresholds: Buffer, scales: Buffer) throws {
        try run(UpdateOp.proximalGradient(z: z, gradient: gradient, x: x, count: count, rows: rows, cols: cols,
                                          step: step, momentum: momentum, thresholds: thresholds, scales: scales))
    }

    /// The number of models in `cols` loss columns of `classes` outputs each (validated).
    func lossBlocks(_ loss: LossKind, cols: Int, classes: Int) throws -> Int {
        guard classes > 0, cols % classes == 0, loss == .ce || classes == 1 else {
            throw DeviceError.invalidArgument("lossGradient: \(cols) columns are not models of \(classes) outputs for \(loss)")
        }
        return cols / classes
    }
}

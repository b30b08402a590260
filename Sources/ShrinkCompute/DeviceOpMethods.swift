// How a device implements the op families: one method per op, and one dispatch from each
// family to them, written once here for every device. A device declares
// `public func run(_ op: F) throws { try dispatch(op) }` for each family F.

/// The per-op methods a device implements (internal: `Device`'s ops are the contract).
protocol DeviceOpMethods: Device {
    func matmul(_ shape: MatmulShape, alpha: Float, a: Buffer, at aOffset: Int,
                b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws
    func sparseMatmul(_ a: SparseOperand, n: Int, transposeB: Bool, alpha: Float, b: Buffer, at bOffset: Int,
                      beta: Float, c: Buffer, at cOffset: Int) throws
    func sparseMatmul(_ a: SparseOperand, _ selection: SparseSelection, n: Int, transposeB: Bool, alpha: Float,
                      b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws
    func scatterPositions(_ map: Buffer, count: Int, indices: Buffer, at indexOffset: Int, rows: Int,
                          reset: Bool) throws
    func sparseMatmulTransposed(_ a: SparseOperand, rows: SparseSelection.Rows, m: Int, n: Int, alpha: Float,
                                b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws
    func norm(_ kind: NormKind, of x: Buffer, at offset: Int, count: Int,
              into result: Buffer, at index: Int, scale: Float, accumulate: Bool) throws
    func norms(_ kind: NormKind, of x: Buffer, segments: Buffer, scales: Buffer, segmentCount: Int,
               into result: Buffer, at base: Int, accumulate: Bool) throws
    func columnSums(_ x: Buffer, rows: Int, cols: Int, into destination: Buffer, at offset: Int) throws
    func gatherRows(_ source: Buffer, indices: Buffer, at indexOffset: Int, rows: Int, cols: Int,
                    into destination: Buffer) throws
    func addBias(_ x: Buffer, bias: Buffer, at biasOffset: Int, rows: Int, cols: Int, relu: Bool) throws
    func applyMask(_ values: Buffer, mask: Buffer, count: Int) throws
    func penaltyGradient(_ penalty: PenaltyCoefficients, weights: Buffer, gradient: Buffer,
                         at offset: Int, count: Int, norms: Buffer, normIndex: Int) throws
    func penaltyGradient(l1: Buffer, l2: Buffer, weights: Buffer, gradient: Buffer, count: Int) throws
    func proximalL1(_ weights: Buffer, at offset: Int, count: Int, threshold: Float) throws
    func lossGradient(_ loss: LossKind, logits: Buffer, targets: Buffer, at targetOffset: Int,
                      rows: Int, cols: Int, classes: Int, gradient: Buffer, rowLoss: Buffer, rowCorrect: Buffer) throws
    func sgdStep(_ hyper: SGDHyperparameters, weights: Buffer, gradient: Buffer, momentum: Buffer,
                 at offset: Int, count: Int, isFirstStep: Bool) throws
    func adamStep(_ hyper: AdamHyperparameters, weights: Buffer, gradient: Buffer,
                  firstMoment: Buffer, secondMoment: Buffer, at offset: Int, count: Int, step: Int) throws
    func fistaStep(z: Buffer, gradient: Buffer, x: Buffer, count: Int, rows: Int, cols: Int, step: Float,
                   momentum: Float, thresholds: Buffer, scales: Buffer) throws
}

extension DeviceOpMethods {
    func dispatch(_ op: LinearAlgebraOp) throws {
        switch op {
        case let .matmul(shape, alpha, a, aOffset, b, bOffset, beta, c, cOffset):
            try matmul(shape, alpha: alpha, a: a, at: aOffset, b: b, at: bOffset, beta: beta, c: c, at: cOffset)
        case let .sparseMatmul(a, n, transposeB, alpha, b, bOffset, beta, c, cOffset):
            try sparseMatmul(a, n: n, transposeB: transposeB, alpha: alpha, b: b, at: bOffset, beta: beta, c: c,
                             at: cOffset)
        case let .sparseMatmulSelected(a, selection, n, transposeB, alpha, b, bOffset, beta, c, cOffset):
            try sparseMatmul(a, selection, n: n, transposeB: transposeB, alpha: alpha, b: b, at: bOffset, beta: beta,
                             c: c, at: cOffset)
        case let .sparseMatmulTransposed(a, rows, m, n, alpha, b, bOffset, beta, c, cOffset):
            try sparseMatmulTransposed(a, rows: rows, m: m, n: n, alpha: alpha, b: b, at: bOffset, beta: beta, c: c,
                                       at: cOffset)
        }
    }

    func dispatch(_ op: ReductionOp) throws {
        switch op {
        case let .norm(kind, x, offset, count, result, index, scale, accumulate):
            try norm(kind, of: x, at: offset, count: count, into: result, at: index, scale: scale, accumulate: accumulate)
        case let .segmentNorms(kind, x, segments, scales, segmentCount, result, base, accumulate):
            try norms(kind, of: x, segments: segments, scales: scales, segmentCount: segmentCount, into: result,
                      at: base, accumulate: accumulate)
        case let .columnSums(x, rows, cols, destination, offset):
            try columnSums(x, rows: rows, cols: cols, into: destination, at: offset)
        }
    }

    func dispatch(_ op: ElementwiseOp) throws {
        switch op {
        case let .gatherRows(source, indices, indexOffset, rows, cols, destination):
            try gatherRows(source, indices: indices, at: indexOffset, rows: rows, cols: cols, into: destination)
        case let .addBias(x, bias, biasOffset, rows, cols, relu):
            try addBias(x, bias: bias, at: biasOffset, rows: rows, cols: cols, relu: relu)
        case let .applyMask(values, mask, count):
            try applyMask(values, mask: mask, count: count)
        case let .penaltyGradient(penalty, weights, gradient, offset, count, norms, normIndex):
            try penaltyGradient(penalty, weights: weights, gradient: gradient, at: offset, count: count,
                                norms: norms, normIndex: normIndex)
        case let .penaltyGradientPerElement(l1, l2, weights, gradient, count):
            try penaltyGradient(l1: l1, l2: l2, weights: weights, gradient: gradient, count: count)
        case let .proximalL1(weights, offset, count, threshold):
            try proximalL1(weights, at: offset, count: count, threshold: threshold)
        case let .scatterPositions(map, count, indices, indexOffset, rows, reset):
            try scatterPositions(map, count: count, indices: indices, at: indexOffset, rows: rows, reset: reset)
        }
    }

    func dispatch(_ op: LossOp) throws {
        switch op {
        case let .gradient(loss, logits, targets, targetOffset, rows, cols, classes, gradient, rowLoss, rowCorrect):
            try lossGradient(loss, logits: logits, targets: targets, at: targetOffset, rows: rows, cols: cols,
                             classes: classes, gradient: gradient, rowLoss: rowLoss, rowCorrect: rowCorrect)
        }
    }

    func dispatch(_ op: UpdateOp) throws {
        switch op {
        case let .sgd(hyper, weights, gradient, momentum, offset, count, isFirstStep):
            try sgdStep(hyper, weights: weights, gradient: gradient, momentum: momentum, at: offset, count: count,
                        isFirstStep: isFirstStep)
        case let .adam(hyper, weights, gradient, firstMoment, secondMoment, offset, count, step):
            try adamStep(hyper, weights: weights, gradient: gradient, firstMoment: firstMoment,
                         secondMoment: secondMoment, at: offset, count: count, step: step)
        case let .proximalGradient(z, gradient, x, count, rows, cols, step, momentum, thresholds, scales):
            try fistaStep(z: z, gradient: gradient, x: x, count: count, rows: rows, cols: cols, step: step,
                          momentum: momentum, thresholds: thresholds, scales: scales)
        }
    }
}

extension CPUDevice: DeviceOpMethods {
    public func run(_ op: LinearAlgebraOp) throws { try dispatch(op) }
    public func run(_ op: ReductionOp) throws { try dispatch(op) }
    public func run(_ op: ElementwiseOp) throws { try dispatch(op) }
    public func run(_ op: LossOp) throws { try dispatch(op) }
    public func run(_ op: UpdateOp) throws { try dispatch(op) }
}

extension OpenCLDevice: DeviceOpMethods {
    public func run(_ op: LinearAlgebraOp) throws { try dispatch(op) }
    public func run(_ op: ReductionOp) throws { try dispatch(op) }
    public func run(_ op: ElementwiseOp) throws { try dispatch(op) }
    public func run(_ op: LossOp) throws { try dispatch(op) }
    public func run(_ op: UpdateOp) throws { try dispatch(op) }
}

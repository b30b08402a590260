// The Device operations of OpenCLDevice: argument checks, then one enqueue per kernel
// (two for a norm). Kernel semantics are documented in each Kernels/*.cl header; each kernel's
// scalar twin, with the same name and argument order, is in KernelReference.swift.

extension OpenCLDevice {
    public func matmul(_ shape: MatmulShape, alpha: Float, a: Buffer, at aOffset: Int,
                       b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        try matmul(shape, variant: MatmulVariant.choose(shape, tuning: tuning), alpha: alpha, a: a, at: aOffset,
                   b: b, at: bOffset, beta: beta, c: c, at: cOffset)
    }

    /// matmul with a given kernel (for tests and benchmarks); the variant must accept the shape.
    /// `slices`: nn16Slices' k-ranges (default: the tuning's for k).
    func matmul(_ shape: MatmulShape, variant: MatmulVariant, slices: Int? = nil, alpha: Float, a: Buffer, at aOffset: Int,
                b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        try shape.validate()
        guard variant.accepts(shape) else { throw DeviceError.invalidArgument("\(variant.rawValue) cannot compute \(shape)") }
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let global: [Int], local: [Int]
        switch variant {
        case .general:
            (global, local) = ([n, m], [tuning.matmulLocal.0, tuning.matmulLocal.1])
        case .tiled:
            (global, local) = ([n, m], [tuning.tile, tuning.tile])
        case .nn16:
            (global, local) = ([(n + 15) / 16, (m + KernelTuning.nnRows - 1) / KernelTuning.nnRows],
                               [tuning.matmulLocal.0, tuning.matmulLocal.1])
        case .nt:
            (global, local) = ([(n + KernelTuning.ntCols - 1) / KernelTuning.ntCols,
                                (m + KernelTuning.ntRows - 1) / KernelTuning.ntRows],
                               [tuning.matmulLocal.0, tuning.matmulLocal.1])
        case .nn16Slices:
            return try matmulSlices(shape, slices: slices ?? tuning.kSlices(k: k), alpha: alpha, a: a, at: aOffset,
                                    b: b, at: bOffset, beta: beta, c: c, at: cOffset)
        case .splitK:
            let (lx, ly) = KernelTuning.splitKGroup(n: n, limit: min(tuning.splitKLocal,
                                                                     try limits(variant.rawValue).maxItems))
            (global, local) = ([n, m * ly], [lx, ly])
        }
        try launch(variant.rawValue, global: global, local: local, [
            .int(m), .int(n), .int(k), .float(alpha),
            .floats(a, aOffset, m * k), .int(aOffset), .int(shape.lda), .bool(shape.transposeA),
            .floats(b, bOffset, k * n), .int(bOffset), .int(shape.ldb), .bool(shape.transposeB),
            .float(beta), .floats(c, cOffset, m * n), .int(cOffset), .int(shape.ldc),
        ])
    }

    /// matmul_nn16_slices into a scratch buffer of slices × m × n partial products (its own per
    /// call: released once the queue is done with it), then matmul_add_slices adds them in order.
    private func matmulSlices(_ shape: MatmulShape, slices: Int, alpha: Float, a: Buffer, at aOffset: Int,
                              b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        guard slices >= 1 else { throw DeviceError.invalidArgument("matmul_nn16_slices: \(slices) slices") }
        guard m > 0, n > 0 else { return }
        let chunk = (k + slices - 1) / slices
        let partials = try makeBuffer(count: slices * m * n, type: .float32)
        try launch(MatmulVariant.nn16Slices.rawValue,
                   global: [(n + 15) / 16, (m + KernelTuning.nnRows - 1) / KernelTuning.nnRows, slices],
                   local: [tuning.matmulLocal.0, tuning.matmulLocal.1, 1], [
            .int(m), .int(n), .int(k), .int(chunk),
            .floats(a, aOffset, m * k), .int(aOffset), .int(shape.lda), .bool(shape.transposeA),
            .floats(b, bOffset, k * n), .int(bOffset), .int(shape.ldb), .floats(partials, 0, slices * m * n),
        ])
        try launch("matmul_add_slices", global: [n, m], local: [tuning.matmulLocal.0, tuning.matmulLocal.1], [
            .int(m), .int(n), .int(slices), .float(alpha), .floats(partials, 0, slices * m * n), .float(beta),
            .floats(c, cOffset, m * n), .int(cOffset), .int(shape.ldc),
        ])
    }

    public func norm(_ kind: NormKind, of x: Buffer, at offset: Int, count: Int,
                     into result: Buffer, at index: Int, scale: Float, accumulate: Bool) throws {
        let (code, threshold) = kind.kernelCode
        try result.checkRange(index, 1, "norm result")
        if count <= KernelTuning.normSmallCount {  // one launch: chunks of ≤ 256 per work-item
            try launch("norm_small", global: [tuning.normLocal], local: [tuning.normLocal], [
                .floats(x, offset, count), .int(offset), .int(count), .int(code), .float(threshold),
                .floats(result, index, 1), .int(index), .float(scale), .bool(accumulate),
            ])
            return
        }
        // Both stages share the partials buffer: no other reduction may enqueue in between.
        normLock.lock()
        defer { normLock.unlock() }
        try launch("norm_partials", global: [tuning.normItems], local: [tuning.normLocal], [
            .floats(x, offset, count), .int(offset), .int(count), .int(code), .float(threshold),
            .floats(partialsBuffer, 0, tuning.normItems),
        ])
        try launch("norm_finish", global: [tuning.normLocal], local: [tuning.normLocal], [
            .floats(partialsBuffer, 0, tuning.normItems), .int(code), .floats(result, index, 1), .int(index),
            .float(scale), .bool(accumulate),
        ])
    }

    /// The table stays on the device: a segment outside x, or a destination outside result, is
    /// NaN / skipped by norm_segments and recorded in the failure record, so the next `read` or
    /// `synchronize` throws `DeviceError.outOfBounds` ("norms segment i" / "norms result
    /// (segment i)"), as the CPU device does at the call.
    public func norms(_ kind: NormKind, of x: Buffer, segments: Buffer, scales: Buffer, segmentCount: Int,
                      into result: Buffer, at base: Int, accumulate: Bool) throws {
        let (code, threshold) = kind.kernelCode
        try launch("norm_segments", global: [segmentCount * tuning.normLocal], local: [tuning.normLocal], [
            .floats(x, 0, x.count), .int(x.count), .ints(segments, 0, 3 * segmentCount), .floats(scales, 0, segmentCount),
            .int(code), .float(threshold), .floats(result, 0, result.count), .int(result.count), .int(base), .bool(accumulate),
            .failureRecord,
        ])
    }

    public func penaltyGradient(_ penalty: PenaltyCoefficients, weights: Buffer, gradient: Buffer,
                                at offset: Int, count: Int, norms: Buffer, normIndex: Int) throws {
        try launch1D("penalty_gradient", count: count, [
            .floats(weights, offset, count), .floats(gradient, offset, count), .int(offset), .int(count),
            .float(penalty.l1), .float(penalty.l2), .float(penalty.l2Norm),
            .floats(norms, penalty.l2Norm != 0 ? normIndex : 0, penalty.l2Norm != 0 ? 1 : 0), .int(normIndex),
        ])
    }

    public func penaltyGradient(l1: Buffer, l2: Buffer, weights: Buffer, gradient: Buffer, count: Int) throws {
        try launch1D("penalty_vector", count: count, [
            .floats(weights, 0, count), .floats(gradient, 0, count), .floats(l1, 0, count), .floats(l2, 0, count),
            .int(count),
        ])
    }

    public func proximalL1(_ weights: Buffer, at offset: Int, count: Int, threshold: Float) throws {
        try launch1D("proximal_l1", count: count, [
            .floats(weights, offset, count), .int(offset), .int(count), .float(threshold),
        ])
    }

    /// The indices stay on the device: an index outside the source's rows gives a NaN row (never a
    /// read outside the source) and is recorded in the failure record, so the next `read` or
    /// `synchronize` throws `DeviceError.outOfBounds` ("gatherRows row index (row r)"), as the
    /// CPU device does at the call.
    public func gatherRows(_ source: Buffer, indices: Buffer, at indexOffset: Int, rows: Int, cols: Int,
                           into destination: Buffer) throws {
        try launch1D("gather_rows", count: rows * cols, [
            .floats(source, 0, source.count), .int(source.count / max(cols, 1)), .ints(indices, indexOffset, rows),
            .int(indexOffset), .int(rows), .int(cols), .floats(destination, 0, rows * cols), .failureRecord,
        ])
    }

    public func addBias(_ x: Buffer, bias: Buffer, at biasOffset: Int, rows: Int, cols: Int, relu: Bool) throws {
        try launch1D("add_bias", count: rows * cols, [
            .floats(x, 0, rows * cols), .floats(bias, biasOffset, cols), .int(biasOffset),
            .int(rows), .int(cols), .bool(relu),
        ])
    }

    public func applyMask(_ values: Buffer, mask: Buffer, count: Int) throws {
        try launch1D("apply_mask", count: count, [
            .floats(values, 0, count), .floats(mask, 0, count), .int(count),
        ])
    }

    public func columnSums(_ x: Buffer, rows: Int, cols: Int, into destination: Buffer, at offset: Int) throws {
        try columnSums(x, rows: rows, cols: cols, into: destination, at: offset,
                       slices: tuning.columnSumSlices(rows: rows, cols: cols))
    }

    /// columnSums with a given number of row slices (1: the one-stage kernel; for tests).
    func columnSums(_ x: Buffer, rows: Int, cols: Int, into destination: Buffer, at offset: Int, slices: Int) throws {
        guard slices > 1 else {
            return try launch1D("column_sums", count: cols, [
                .floats(x, 0, rows * cols), .int(rows), .int(cols), .floats(destination, offset, cols), .int(offset),
            ])
        }
        guard slices * cols <= tuning.normItems else {
            throw DeviceError.invalidArgument("columnSums: \(slices) slices × \(cols) columns exceed \(tuning.normItems) partials")
        }
        // Both stages share the partials buffer, as a norm's do.
        normLock.lock()
        defer { normLock.unlock() }
        try launch("column_sums_partial", global: [cols, slices], local: [tuning.matmulLocal.0, tuning.matmulLocal.1], [
            .floats(x, 0, rows * cols), .int(rows), .int(cols), .int(slices), .floats(partialsBuffer, 0, slices * cols),
        ])
        try launch1D("column_sums_finish", count: cols, [
            .floats(partialsBuffer, 0, slices * cols), .int(cols), .int(slices), .floats(destination, offset, cols),
            .int(offset),
        ])
    }

    public func lossGradient(_ loss: LossKind, logits: Buffer, targets: Buffer, at targetOffset: Int,
                             rows: Int, cols: Int, classes: Int, gradient: Buffer, rowLoss: Buffer,
                             rowCorrect: Buffer) throws {
        let code = loss.kernelCode
        let blocks = try lossBlocks(loss, cols: cols, classes: classes)
        try launch1D("loss_gradient", count: rows, [
            .int(code), .floats(logits, 0, rows * cols), .floats(targets, targetOffset, rows), .int(targetOffset),
            .int(rows), .int(cols), .int(classes), .float(rows > 0 ? 1 / Float(rows) : 0),
            .floats(gradient, 0, rows * cols), .floats(rowLoss, 0, rows * blocks), .floats(rowCorrect, 0, rows * blocks),
        ])
    }

    public func sgdStep(_ hyper: SGDHyperparameters, weights: Buffer, gradient: Buffer, momentum: Buffer,
                        at offset: Int, count: Int, isFirstStep: Bool) throws {
        try launch1D("sgd_step", count: count, [
            .floats(weights, offset, count), .floats(gradient, offset, count),
            .floats(momentum, hyper.momentum != 0 ? offset : 0, hyper.momentum != 0 ? count : 0),
            .int(offset), .int(count), .float(hyper.learningRate), .float(hyper.momentum),
            .float(hyper.dampening), .float(hyper.weightDecay), .bool(hyper.nesterov), .bool(isFirstStep),
        ])
    }

    public func fistaStep(z: Buffer, gradient: Buffer, x: Buffer, count: Int, rows: Int, cols: Int, step: Float,
                          momentum: Float, thresholds: Buffer, scales: Buffer) throws {
        guard rows * cols <= count else {
            throw DeviceError.invalidArgument("fistaStep: \(rows)×\(cols) weights exceed \(count) values")
        }
        try launch1D("fista_step", count: count, [
            .floats(z, 0, count), .floats(gradient, 0, count), .floats(x, 0, count), .int(count), .int(rows), .int(cols),
            .float(step), .float(momentum), .floats(thresholds, 0, rows), .floats(scales, 0, rows),
        ])
    }

    public func adamStep(_ hyper: AdamHyperparameters, weights: Buffer, gradient: Buffer,
                         firstMoment: Buffer, secondMoment: Buffer, at offset: Int, count: Int, step: Int) throws {
        let (stepSize, sqrtCorrection2) = hyper.biasCorrections(step: step)
        try launch1D("adam_step", count: count, [
            .floats(weights, offset, count), .floats(gradient, offset, count),
            .floats(firstMoment, offset, count), .floats(secondMoment, offset, count),
            .int(offset), .int(count), .float(hyper.learningRate), .float(hyper.beta1), .float(hyper.beta2),
            .float(hyper.epsilon), .float(hyper.weightDecay), .bool(hyper.decoupled),
            .float(stepSize), .float(sqrtCorrection2),
        ])
    }
}

extension NormKind {
    /// norm.cl's kind code and threshold.
    var kernelCode: (Int, Float) {
        switch self {
        case .sum: return (0, 0)
        case .l1: return (1, 0)
        case .l2: return (2, 0)
        case .l2Squared: return (3, 0)
        }
    }
}

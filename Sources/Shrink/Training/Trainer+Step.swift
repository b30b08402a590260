// One training step, queued on the device: forward, loss and its gradient, the penalty's
// value, backward, the penalty's gradient, the optimizer update, and the L1 prox.
// Shapes: B = rows in the batch; layer l maps [B, in_l] → [B, out_l]; P = all parameters.

extension Trainer {
    func enqueueStep(_ s: Int, firstRow: Int, rows: Int) throws {
        try enqueueGradient(s, firstRow: firstRow, rows: rows)
        try enqueueOptimizerStep()
        let penalty = configuration.penalty
        if penalty.proximal, penalty.l1 > 0 {
            let threshold = configuration.learningRate * penalty.l1
            for range in penalizedRanges {
                try device.proximalL1(model.parameters, at: range.lowerBound, count: range.count, threshold: threshold)
            }
        }
    }

    /// The objective's gradient for one batch into `workspace.gradients`; the batch's mean data
    /// loss into stats[s], its penalty into stats[S + s], its correct count into stats[2S + s].
    func enqueueGradient(_ s: Int, firstRow: Int, rows: Int) throws {
        let S = stepsPerEpoch
        let w = workspace
        let layers = model.layout.layers
        let parameters = model.parameters

        // The batch: rows in order are an offset; shuffled rows are gathered by index.
        var input = (buffer: train.features, row: firstRow)
        var targets = (buffer: train.targets, offset: firstRow)
        if let order = w.order {
            try device.gatherRows(train.features, indices: order, at: firstRow, rows: rows, cols: train.columns,
                                  into: w.batchFeatures)
            try device.gatherRows(train.targets, indices: order, at: firstRow, rows: rows, cols: 1, into: w.batchTargets)
            input = (w.batchFeatures, 0)
            targets = (w.batchTargets, 0)
        }

        // Forward, then the mean loss, its gradient and the correct count.
        let logits = try w.forward.run(input: input.buffer, at: input.row, rows: rows)
        try device.lossGradient(configuration.loss, logits: logits, targets: targets.buffer, at: targets.offset,
                                rows: rows, cols: model.outputs, gradient: w.deltas[layers.count - 1],
                                rowLoss: w.rowLoss, rowCorrect: w.rowCorrect)
        try device.norm(.sum, of: w.rowLoss, at: 0, count: rows, into: w.stats, at: s,
                        scale: 1 / Float(rows), accumulate: false)
        if configuration.loss != .mse {
            try device.norm(.sum, of: w.rowCorrect, at: 0, count: rows, into: w.stats, at: 2 * S + s,
                            scale: 1, accumulate: false)
        }
        try enqueuePenaltyValue(into: S + s)

        // Backward: ∂W_l = δ_lᵀ·A_l, ∂b_l = Σ_rows δ_l, δ_{l−1} = (δ_l·W_l) ⊙ [A_l > 0].
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            let (a, aOffset) = l == 0 ? (input.buffer, input.row * layer.inputs) : (w.forward.activations[l - 1], 0)
            try device.matmul(MatmulShape(m: layer.outputs, n: layer.inputs, k: rows, transposeA: true),
                              alpha: 1, a: w.deltas[l], at: 0, b: a, at: aOffset,
                              beta: 0, c: w.gradients, at: layer.weight.offset)
            try device.columnSums(w.deltas[l], rows: rows, cols: layer.outputs, into: w.gradients, at: layer.bias.offset)
            if l > 0 {
                try device.matmul(MatmulShape(m: rows, n: layer.inputs, k: layer.outputs),
                                  alpha: 1, a: w.deltas[l], at: 0, b: parameters, at: layer.weight.offset,
                                  beta: 0, c: w.deltas[l - 1], at: 0)
                try device.reluBackward(w.deltas[l - 1], activation: w.forward.activations[l - 1],
                                        count: rows * layer.inputs)
            }
        }

        try enqueuePenaltyGradient()
    }

    /// The data loss, penalty and gradient at the current parameters for rows
    /// firstRow..<firstRow+rows in order (no update). For tests and diagnostics.
    func evaluateGradient(firstRow: Int, rows: Int) throws -> (dataLoss: Double, penalty: Double, gradient: [Float]) {
        precondition(workspace.order == nil && rows <= batchSize, "evaluateGradient needs an unshuffled batch")
        try device.fill(workspace.stats, at: 0, count: 3 * stepsPerEpoch + 1, with: 0)
        try enqueueGradient(0, firstRow: firstRow, rows: rows)
        let stats = try device.read(workspace.stats)
        return (Double(stats[0]), Double(stats[stepsPerEpoch]), try device.read(workspace.gradients))
    }

    /// stats[index] += λ₁·Σ|w| + λ₂·Σw² + λₙ·Σ_tensors ‖w‖₂ over the penalized parameters;
    /// also stores each tensor's ‖w‖₂ in `norms` for the gradient.
    private func enqueuePenaltyValue(into index: Int) throws {
        let penalty = configuration.penalty
        let (parameters, stats) = (model.parameters, workspace.stats)
        for range in penalizedRanges {
            if penalty.l1 != 0 {
                try device.norm(.l1, of: parameters, at: range.lowerBound, count: range.count, into: stats, at: index,
                                scale: penalty.l1, accumulate: true)
            }
            if penalty.l2 != 0 {
                try device.norm(.l2Squared, of: parameters, at: range.lowerBound, count: range.count, into: stats,
                                at: index, scale: penalty.l2, accumulate: true)
            }
        }
        guard penalty.l2Norm != 0 else { return }
        for (t, slot) in model.layout.slots.enumerated() where penalty.covers(slot) {
            try device.norm(.l2, of: parameters, at: slot.offset, count: slot.count, into: workspace.norms, at: t,
                            scale: 1, accumulate: false)
            try device.norm(.l2, of: parameters, at: slot.offset, count: slot.count, into: stats, at: index,
                            scale: penalty.l2Norm, accumulate: true)
        }
    }

    /// gradients += the penalty's gradient (per tensor when the ‖w‖₂ term needs its norm).
    private func enqueuePenaltyGradient() throws {
        let coefficients = configuration.penalty.gradientCoefficients
        guard !coefficients.isZero else { return }
        let (parameters, gradients, norms) = (model.parameters, workspace.gradients, workspace.norms)
        if coefficients.l2Norm == 0 {
            for range in penalizedRanges {
                try device.penaltyGradient(coefficients, weights: parameters, gradient: gradients,
                                           at: range.lowerBound, count: range.count, norms: norms, normIndex: 0)
            }
            return
        }
        for (t, slot) in model.layout.slots.enumerated() where configuration.penalty.covers(slot) {
            try device.penaltyGradient(coefficients, weights: parameters, gradient: gradients,
                                       at: slot.offset, count: slot.count, norms: norms, normIndex: t)
        }
    }

    private func enqueueOptimizerStep() throws {
        step += 1
        let w = workspace
        let count = model.layout.totalCount
        switch configuration.optimizer {
        case let .sgd(momentum, weightDecay):
            let hyper = SGDHyperparameters(learningRate: configuration.learningRate, momentum: momentum,
                                           weightDecay: weightDecay)
            try device.sgdStep(hyper, weights: model.parameters, gradient: w.gradients, momentum: w.moment1,
                               at: 0, count: count, isFirstStep: step == 1)
        case .adam(let weightDecay), .adamw(let weightDecay):
            let decoupled: Bool
            if case .adamw = configuration.optimizer { decoupled = true } else { decoupled = false }
            let hyper = AdamHyperparameters(learningRate: configuration.learningRate, weightDecay: weightDecay,
                                            decoupled: decoupled)
            try device.adamStep(hyper, weights: model.parameters, gradient: w.gradients, firstMoment: w.moment1,
                                secondMoment: w.moment2, at: 0, count: count, step: step)
        }
    }

    /// stats[3S] += correct predictions on the test rows, in chunks of the batch capacity.
    func enqueueTestAccuracy(_ test: DeviceDataset) throws {
        guard configuration.loss != .mse else { return }
        let w = workspace
        var first = 0
        while first < test.rows {
            let rows = min(batchSize, test.rows - first)
            let logits = try w.forward.run(input: test.features, at: first, rows: rows)
            try device.lossGradient(configuration.loss, logits: logits, targets: test.targets, at: first, rows: rows,
                                    cols: model.outputs, gradient: w.deltas[model.layout.layers.count - 1],
                                    rowLoss: w.rowLoss, rowCorrect: w.rowCorrect)
            try device.norm(.sum, of: w.rowCorrect, at: 0, count: rows, into: w.stats, at: 3 * stepsPerEpoch,
                            scale: 1, accumulate: true)
            first += rows
        }
    }

    /// The penalized parameters as maximal contiguous ranges of the flat buffer.
    var penalizedRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        for slot in model.layout.slots where configuration.penalty.covers(slot) {
            let range = slot.offset..<(slot.offset + slot.count)
            if let last = ranges.last, last.upperBound == range.lowerBound {
                ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
            } else {
                ranges.append(range)
            }
        }
        return ranges
    }
}

// One training step, queued on the device: forward, loss and its gradient, the penalty's
// value, backward, the penalty's gradient, the optimizer update, and the L1 prox.
// Shapes: B = rows in the batch; layer l maps [B, in_l] → [B, out_l]; P = all parameters
// (of all K stacked models; K = 1 is the ordinary model).

extension Trainer {
    /// `globalRows` (data-parallel): the global batch's B_s, of which this rank holds `rows`.
    func enqueueStep(_ s: Int, firstRow: Int, rows: Int, globalRows: Int? = nil) throws {
        try enqueueGradient(s, firstRow: firstRow, rows: rows, globalRows: globalRows)
        try enqueueOptimizerStep()
        for (m, variant) in variants.enumerated() where variant.penalty.proximal && variant.penalty.l1 > 0 {
            let threshold = configuration.learningRate * variant.penalty.l1
            for (range, _) in penalizedRanges[m] {
                try device.proximalL1(model.parameters, at: range.lowerBound, count: range.count, threshold: threshold)
            }
        }
    }

    /// The objective's gradient for one batch into `workspace.gradients`; for each model m its
    /// batch's mean data loss, penalty and correct count into the stats (`StatSlots`).
    /// Data-parallel (`globalRows`): the data gradient is this rank's mean over its `rows`
    /// (none: zero), summed over the ranks as b/B-weighted means (`DataParallel.reduceGradient`)
    /// before the penalty's gradient, which every rank adds alike.
    func enqueueGradient(_ s: Int, firstRow: Int, rows: Int, globalRows: Int? = nil) throws {
        if rows > 0 {
            let input = try enqueueBatch(firstRow: firstRow, rows: rows)
            let logits = try workspace.forward.run(input: input.features, rows: rows)
            try enqueueLoss(logits: logits, targets: input.targets, at: input.targetOffset, rows: rows)
            try enqueueBatchStatistics(step: s, rows: rows)
            try enqueueBackward(input: input.features, firstRow: firstRow, rows: rows)
        } else {
            try enqueueBatchStatistics(step: s, rows: 0)
        }
        if let parallel, let globalRows {
            try parallel.reduceGradient(workspace.gradients, count: model.layout.totalCount, localRows: rows,
                                        globalRows: globalRows, on: device)
        }
        if let stacked {
            try stacked.enqueuePlainPenaltyGradient(parameters: model.parameters, gradients: workspace.gradients,
                                                    count: model.layout.totalCount)
            for m in stacked.normModels { try enqueuePenaltyGradient(model: m) }
        } else {
            try enqueuePenaltyGradient(model: 0)
        }
    }

    /// The gradient seam for solvers that drive the model themselves (FISTA): the parameters
    /// (the point) and the buffer `enqueueGradient` fills.
    var gradientBuffers: (parameters: Buffer, gradients: Buffer) { (model.parameters, workspace.gradients) }

    /// The batch's rows: in order they are an offset into the training data; shuffled rows are
    /// gathered by index into the workspace (dense), or selected by index inside the sparse
    /// products (sparse: the order stays on the device, nothing is copied).
    private func enqueueBatch(firstRow: Int, rows: Int) throws
        -> (features: ForwardPass.Input, targets: Buffer, targetOffset: Int) {
        let w = workspace
        guard let order = w.order else {
            switch train.features {
            case let .dense(x): return (.dense(x, firstRow: firstRow), train.targets, firstRow)
            case let .sparse(x, _): return (.sparse(x, rows: .range(first: firstRow)), train.targets, firstRow)
            }
        }
        try device.gatherRows(train.targets, indices: order, at: firstRow, rows: rows, cols: 1, into: w.batchTargets)
        switch train.features {
        case let .dense(x):
            try device.gatherRows(x, indices: order, at: firstRow, rows: rows, cols: train.columns, into: w.batchFeatures)
            return (.dense(w.batchFeatures, firstRow: 0), w.batchTargets, 0)
        case let .sparse(x, _):
            return (.sparse(x, rows: .indices(order, offset: firstRow)), w.batchTargets, 0)
        }
    }

    /// Each model's mean loss, correct count and penalty value for step `s` into the stats.
    private func enqueueBatchStatistics(step s: Int, rows: Int) throws {
        let w = workspace
        let slots = w.statSlots
        if let stacked {
            if rows > 0 {
                try stacked.enqueueRowSums(.dataLoss, of: w.rowLoss, rows: rows, step: s, into: w.stats)
                if configuration.loss != .mse {
                    try stacked.enqueueRowSums(.correct, of: w.rowCorrect, rows: rows, step: s, into: w.stats)
                }
            }
            try stacked.enqueuePenaltyValues(of: model.parameters, step: s, stats: w.stats, norms: w.norms)
        } else {
            if rows > 0 {
                try device.norm(.sum, of: w.rowLoss, at: 0, count: rows, into: w.stats, at: slots.dataLoss(0, s),
                                scale: 1 / Float(rows), accumulate: false)
            }
            if rows > 0, configuration.loss != .mse {
                try device.norm(.sum, of: w.rowCorrect, at: 0, count: rows, into: w.stats, at: slots.correct(0, s),
                                scale: 1, accumulate: false)
            }
            try enqueuePenaltyValue(model: 0, into: slots.penalty(0, s))
        }
    }

    /// Backward through the layers: ∂W_l = δ_lᵀ·A_l, ∂b_l = Σ_rows δ_l, δ_{l−1} = (δ_l·W_l) ⊙
    /// [A_l > 0]; stacked models drop the gradient off their diagonal blocks (a ReLU-backward
    /// against the 0/1 mask), so those weights stay exactly zero.
    private func enqueueBackward(input: ForwardPass.Input, firstRow: Int, rows: Int) throws {
        let w = workspace
        let layers = model.layout.layers
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            switch (l, input) {
            case (0, .sparse):
                try enqueueSparseWeightGradient(firstRow: firstRow, rows: rows)
            default:
                let (a, aOffset): (Buffer, Int)
                if l == 0, case let .dense(x, row) = input { (a, aOffset) = (x, row * layer.inputs) } else {
                    (a, aOffset) = (w.forward.activations[l - 1], 0)
                }
                try device.matmul(MatmulShape(m: layer.outputs, n: layer.inputs, k: rows, transposeA: true),
                                  alpha: 1, a: w.deltas[l], at: 0, b: a, at: aOffset,
                                  beta: 0, c: w.gradients, at: layer.weight.offset)
            }
            try device.columnSums(w.deltas[l], rows: rows, cols: layer.outputs, into: w.gradients, at: layer.bias.offset)
            if l > 0 {
                try device.matmul(MatmulShape(m: rows, n: layer.inputs, k: layer.outputs),
                                  alpha: 1, a: w.deltas[l], at: 0, b: model.parameters, at: layer.weight.offset,
                                  beta: 0, c: w.deltas[l - 1], at: 0)
                try device.applyMask(w.deltas[l - 1], mask: w.forward.activations[l - 1],
                                        count: rows * layer.inputs)
            }
        }
        if let mask = w.blockMask {
            try device.applyMask(w.gradients, mask: mask, count: model.layout.totalCount)
        }
    }

    /// ∂W_0 = δ_0ᵀ·X_b [out, p] by `sparseGradientRoute`: from the batch's CSR rows
    /// (`sparseMatmulTransposed`), or from Xᵀ in CSR, where row c of Xᵀ (column c of X) meets δ_0's
    /// row of each of its X rows in the batch — a window for rows in order, else the position map,
    /// set from this epoch's order before the product and reset after it. No atomics, the same
    /// bits every run; the cost of each route is in `SparseGradientRoute`.
    private func enqueueSparseWeightGradient(firstRow: Int, rows: Int) throws {
        guard case let .sparse(x, transposed) = train.features else { preconditionFailure("dense training data") }
        let w = workspace
        let layer = model.layout.layers[0]
        guard let transposed else {
            let selected: SparseSelection.Rows = w.order.map { .indices($0, offset: firstRow) } ?? .range(first: firstRow)
            try device.sparseMatmulTransposed(x, rows: selected, m: rows, n: layer.outputs, alpha: 1, b: w.deltas[0],
                                              at: 0, beta: 0, c: w.gradients, at: layer.weight.offset)
            return
        }
        let bRows: SparseSelection.BRows
        if let order = w.order, let map = w.positionMap {
            try device.scatterPositions(map, count: train.rows, indices: order, at: firstRow, rows: rows, reset: false)
            bRows = .map(map, rows: rows)
        } else {
            bRows = .window(first: firstRow, count: rows)
        }
        try device.sparseMatmul(transposed, SparseSelection(rows: layer.inputs, bRows: bRows, transposeC: true),
                                n: layer.outputs, transposeB: false, alpha: 1, b: w.deltas[0], at: 0,
                                beta: 0, c: w.gradients, at: layer.weight.offset)
        if let order = w.order, let map = w.positionMap {
            try device.scatterPositions(map, count: train.rows, indices: order, at: firstRow, rows: rows, reset: true)
        }
    }

    /// The loss kernel over all K models' logits (each model's block of classes for ce).
    private func enqueueLoss(logits: Buffer, targets: Buffer, at offset: Int, rows: Int) throws {
        let w = workspace
        try device.lossGradient(configuration.loss, logits: logits, targets: targets, at: offset, rows: rows,
                                cols: model.layout.outputColumns, classes: configuration.loss == .ce ? model.outputs : 1,
                                gradient: w.deltas[model.layout.layers.count - 1], rowLoss: w.rowLoss,
                                rowCorrect: w.rowCorrect)
    }

    /// The data loss, penalty and gradient at the current parameters for rows
    /// firstRow..<firstRow+rows in order (no update), of model 0. For tests and diagnostics.
    func evaluateGradient(firstRow: Int, rows: Int) throws -> (dataLoss: Double, penalty: Double, gradient: [Float]) {
        precondition(workspace.order == nil && rows <= batchSize, "evaluateGradient needs an unshuffled batch")
        try device.fill(workspace.stats, at: 0, count: workspace.parameterSlot, with: 0)
        try enqueueGradient(0, firstRow: firstRow, rows: rows)
        let stats = try device.read(workspace.stats)
        let slots = workspace.statSlots
        return (Double(stats[slots.dataLoss(0, 0)]), Double(stats[slots.penalty(0, 0)]),
                try device.read(workspace.gradients))
    }

    /// stats[index] += λ₁·Σ|w| + λ₂·Σw² + λₙ·Σ_tensors ‖w‖₂ over model m's penalized
    /// parameters; also stores each tensor's ‖w‖₂ in `norms` for the gradient.
    private func enqueuePenaltyValue(model m: Int, into index: Int) throws {
        let penalty = variants[m].penalty
        let (parameters, stats) = (model.parameters, workspace.stats)
        for (range, _) in penalizedRanges[m] {
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
        for (range, tensor) in tensorRanges(model: m) {
            let slot = normSlot(model: m, tensor: tensor)
            try device.norm(.l2, of: parameters, at: range.lowerBound, count: range.count, into: workspace.norms,
                            at: slot, scale: 1, accumulate: false)
            try device.norm(.l2, of: parameters, at: range.lowerBound, count: range.count, into: stats, at: index,
                            scale: penalty.l2Norm, accumulate: true)
        }
    }

    /// gradients += model m's penalty gradient (per tensor when the ‖w‖₂ term needs its norm).
    private func enqueuePenaltyGradient(model m: Int) throws {
        let coefficients = variants[m].penalty.gradientCoefficients
        guard !coefficients.isZero else { return }
        let (parameters, gradients, norms) = (model.parameters, workspace.gradients, workspace.norms)
        if coefficients.l2Norm == 0 {
            for (range, _) in penalizedRanges[m] {
                try device.penaltyGradient(coefficients, weights: parameters, gradient: gradients,
                                           at: range.lowerBound, count: range.count, norms: norms, normIndex: 0)
            }
            return
        }
        for (range, tensor) in tensorRanges(model: m) {
            try device.penaltyGradient(coefficients, weights: parameters, gradient: gradients,
                                       at: range.lowerBound, count: range.count, norms: norms,
                                       normIndex: normSlot(model: m, tensor: tensor))
        }
    }

    /// Model m's penalized tensors, one range each (its rows of a stacked weight).
    private func tensorRanges(model m: Int) -> [(range: Range<Int>, tensor: Int)] {
        model.layout.ranges(ofModel: m).filter { variants[m].penalty.covers($0.slot) }.map { ($0.range, $0.tensor) }
    }

    private func normSlot(model m: Int, tensor: Int) -> Int { m * model.layout.slots.count + tensor }

    private func enqueueOptimizerStep() throws {
        step += 1
        let w = workspace
        for (range, weightDecay) in optimizerRanges {
            switch configuration.optimizer {
            case let .sgd(momentum, _):
                let hyper = SGDHyperparameters(learningRate: configuration.learningRate, momentum: momentum,
                                               weightDecay: weightDecay)
                try device.sgdStep(hyper, weights: model.parameters, gradient: w.gradients, momentum: w.moment1,
                                   at: range.lowerBound, count: range.count, isFirstStep: step == 1)
            case .adam, .adamw:
                let decoupled: Bool
                if case .adamw = configuration.optimizer { decoupled = true } else { decoupled = false }
                let hyper = AdamHyperparameters(learningRate: configuration.learningRate, weightDecay: weightDecay,
                                                decoupled: decoupled)
                try device.adamStep(hyper, weights: model.parameters, gradient: w.gradients, firstMoment: w.moment1,
                                    secondMoment: w.moment2, at: range.lowerBound, count: range.count, step: step)
            }
        }
    }

    /// Each model's sum of row losses and (classification) correct predictions over the test
    /// rows into its test slots, in chunks of the batch capacity.
    func enqueueTestMetrics(_ test: DeviceDataset) throws {
        let w = workspace
        let classifies = configuration.loss != .mse
        var first = 0
        while first < test.rows {
            let rows = min(batchSize, test.rows - first)
            let input: ForwardPass.Input
            switch test.features {
            case let .dense(x): input = .dense(x, firstRow: first)
            case let .sparse(x, _): input = .sparse(x, rows: .range(first: first))
            }
            let logits = try w.forward.run(input: input, rows: rows)
            try enqueueLoss(logits: logits, targets: test.targets, at: first, rows: rows)
            if let stacked {
                try stacked.enqueueRowSums(.testLoss, of: w.rowLoss, rows: rows, step: 0, into: w.stats)
                if classifies { try stacked.enqueueRowSums(.testCorrect, of: w.rowCorrect, rows: rows, step: 0, into: w.stats) }
            } else {
                try device.norm(.sum, of: w.rowLoss, at: 0, count: rows, into: w.stats,
                                at: w.statSlots.testLoss(0), scale: 1, accumulate: true)
                if classifies {
                    try device.norm(.sum, of: w.rowCorrect, at: 0, count: rows, into: w.stats,
                                    at: w.statSlots.testCorrect(0), scale: 1, accumulate: true)
                }
            }
            first += rows
        }
    }
}

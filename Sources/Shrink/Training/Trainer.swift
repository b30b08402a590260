import Foundation

/// Trains a `Model` on a device: every step is queued on the device with no host round
/// trip; per-step losses, penalties and correct counts accumulate in a device buffer that
/// is read once per epoch, together with the parameters (for the norms and sparsity).
///
/// With K `variants` it trains K copies of the architecture as one stacked model (see
/// `ParameterLayout`): the same data, init, batches and optimizer, K penalties and weight
/// decays. Each step is one forward and one backward pass for all K (the first layer one
/// matmul for all), and each model's metrics are its own: the same numbers as K separate
/// runs, within float rounding.
///
/// Sparse training data (`Dataset.sparse`, CSR) is uploaded as it is and never densified: the
/// first layer's forward X_b·Wᵀ picks the batch's rows inside a sparse product (an offset, or
/// the epoch's order on the device), and its weight gradient takes `sparseGradientRoute` (the
/// batch's own rows, or Xᵀ uploaded once); every layer after the first is the dense route's.
/// Memory: O(nnz + model + batch·widths), no [batch, p] buffer.
public final class Trainer: @unchecked Sendable {
    public let model: Model
    public let configuration: TrainingConfiguration
    /// One per model; one model's is the configuration's penalty and weight decay.
    public let variants: [ModelVariant]
    public var models: Int { variants.count }
    public let device: any Device
    public internal(set) var epoch = 0
    /// Optimizer steps taken so far (torch's `step` for Adam's bias correction).
    public internal(set) var step = 0
    /// Steps already taken in the current epoch (0 between epochs).
    public internal(set) var stepInEpoch = 0

    let train: DeviceDataset
    let test: DeviceDataset?
    /// mse: Σ(y − ȳ)² over the test targets (R²'s denominator), in Double.
    let testTotalSquares: Double?
    let batchSize: Int
    let stepsPerEpoch: Int
    let workspace: Workspace
    var shuffler: SeededGenerator
    /// The optimizer's ranges of the flat parameters, each with its weight decay.
    let optimizerRanges: [(range: Range<Int>, weightDecay: Float)]
    /// Each model's penalized parameters as maximal contiguous ranges (with the tensor index).
    let penalizedRanges: [[(range: Range<Int>, tensor: Int)]]
    /// K > 1: the per-model reductions and penalty gradients in a few launches.
    private(set) var stacked: StackedReductions?
    /// Sparse training data: how the first layer's weight gradient is computed (nil when dense).
    public let sparseGradientRoute: SparseGradientRoute?
    /// Under MPI: this rank's part of the training rows and the gradient sums (`DataParallel`).
    public let parallel: DataParallel?
    /// The training rows over every rank (this process's when not data-parallel).
    var globalTrainRows: Int { parallel?.globalRows ?? train.rows }
    /// The test rows over every rank (this process's when not data-parallel).
    var globalTestRows: Int { parallel?.globalTestRows ?? test?.rows ?? 0 }
    /// Under MPI, this epoch's batches on this rank, the global row order they come from (nil:
    /// not shuffled), and how many of its first steps' statistics are already summed over the
    /// ranks (restored from a mid-epoch checkpoint: rank 0's copy counts, once).
    var plan: DataParallel.EpochPlan?
    var globalOrder: [Int]?
    var summedSteps = 0

    /// Prepares a run: validates the configuration against the data, uploads the data once,
    /// and allocates every buffer a step needs. `initialState` replaces the seeded init.
    public convenience init(device: any Device, configuration: TrainingConfiguration, train: Dataset, test: Dataset? = nil,
                            initialState: [String: Tensor]? = nil) throws {
        try self.init(device: device, configuration: configuration, variants: nil, train: train, test: test,
                      initialState: initialState)
    }

    /// Prepares K models trained side by side, one per variant; the configuration's own
    /// penalty and weight decay are not used. `initialState` (one model's) starts all K.
    /// `classes` raises a ce model's class count above the labels present (a CV fold may miss one).
    /// `sparseRoute` fixes the route of a sparse first layer's gradient (nil: `SparseGradientRoute.choose`).
    /// `parallel` trains data-parallel: `train` and `test` are this rank's rows (see `DataParallel`).
    public init(device: any Device, configuration: TrainingConfiguration, variants: [ModelVariant]?, train: Dataset,
                test: Dataset? = nil, initialState: [String: Tensor]? = nil, classes: Int? = nil,
                sparseRoute: SparseGradientRoute? = nil, parallel: DataParallel? = nil) throws {
        try configuration.validate()
        let variants = variants ?? [ModelVariant(penalty: configuration.penalty,
                                                 weightDecay: configuration.optimizer.weightDecay)]
        guard !variants.isEmpty else { throw TrainingError.invalidConfiguration("no models to train") }
        for variant in variants {
            var one = configuration
            one.penalty = variant.penalty
            one.optimizer = configuration.optimizer.with(weightDecay: variant.weightDecay)
            try one.validate()
        }
        let outputs = try max(Self.outputCount(configuration.loss, train: train, test: test,
                                               rows: parallel?.globalRows ?? train.rows),
                              configuration.loss == .ce ? classes ?? 0 : 0)
        if let parallel, parallel.positions.count != train.rows {
            throw TrainingError.invalidData("\(train.rows) local training rows but \(parallel.positions.count) positions")
        }
        self.parallel = parallel
        if let test, test.columns != train.columns {
            throw TrainingError.invalidData("test data has \(test.columns) features, training data \(train.columns)")
        }
        self.device = device
        self.configuration = configuration
        self.variants = variants
        model = try Model(device: device, architecture: configuration.architecture, inputs: train.columns,
                          outputs: outputs, models: variants.count, seed: configuration.seed)
        if let initialState { try model.load(initialState) }
        let n = parallel?.globalRows ?? train.rows
        let batchSize = configuration.batchSize == 0 ? n : min(configuration.batchSize, n)
        self.batchSize = batchSize
        sparseGradientRoute = train.sparse.map {
            sparseRoute ?? SparseGradientRoute.choose(batchRows: batchSize, rows: $0.rows, nonZeros: $0.nonZeroCount)
        }
        self.train = try DeviceDataset(train, on: device, transposing: sparseGradientRoute == .transposed)
        self.test = try test.flatMap { $0.rows > 0 ? try DeviceDataset($0, on: device) : nil }
        testTotalSquares = try Self.testTotalSquares(configuration.loss, test: test, parallel: parallel)
        stepsPerEpoch = (n + batchSize - 1) / batchSize
        // Data-parallel ranks take their batch rows by index even in order (a rank's share of
        // a batch need not be contiguous in its rows when the split shuffled them).
        let ordered = configuration.shuffle || parallel != nil
        workspace = try Workspace(model: model, configuration: configuration, batchSize: batchSize,
                                  stepsPerEpoch: stepsPerEpoch, shuffledRows: ordered ? max(train.rows, 1) : 0,
                                  sparse: train.isSparse, positionMap: sparseGradientRoute == .transposed)
        shuffler = SeededGenerator(seed: configuration.seed &+ 0x5348_5546_464C_45)
        let layout = model.layout
        penalizedRanges = variants.indices.map { m in
            Self.merged(layout.ranges(ofModel: m).filter { variants[m].penalty.covers($0.slot) }
                .map { ($0.range, $0.tensor, 0) }).map { ($0.range, $0.tensor) }
        }
        optimizerRanges = Self.merged(variants.indices.flatMap { m in
            layout.ranges(ofModel: m).map { ($0.range, $0.tensor, variants[m].weightDecay) }
        }.sorted { $0.range.lowerBound < $1.range.lowerBound }).map { ($0.range, $0.key) }
        if variants.count > 1 { stacked = try StackedReductions(trainer: self) }
    }

    /// Adjacent ranges with the same key joined (the tensor kept is the first's).
    private static func merged<Key: Equatable>(_ ranges: [(range: Range<Int>, tensor: Int, key: Key)])
        -> [(range: Range<Int>, tensor: Int, key: Key)] {
        var result: [(range: Range<Int>, tensor: Int, key: Key)] = []
        for item in ranges {
            if let last = result.last, last.range.upperBound == item.range.lowerBound, last.key == item.key {
                result[result.count - 1].range = last.range.lowerBound..<item.range.upperBound
            } else {
                result.append(item)
            }
        }
        return result
    }

    /// The number of model outputs the loss needs; validates both sets' targets. `rows` is the
    /// training rows over every rank.
    static func outputCount(_ loss: LossKind, train: Dataset, test: Dataset?, rows: Int) throws -> Int {
        guard rows > 0 else { throw TrainingError.invalidData("the training set is empty") }
        return max(try train.outputCount(for: loss), try test?.outputCount(for: loss) ?? 1)
    }

    /// Whether epochs remain (or the rest of one, after a mid-epoch `restore`).
    public var hasEpochsLeft: Bool { epoch < configuration.epochs || stepInEpoch > 0 }

    /// Runs the remaining epochs, calling `onEpoch` after each.
    public func run(onEpoch: (EpochMetrics) throws -> Void = { _ in }) throws {
        while hasEpochsLeft { try onEpoch(try runEpoch()) }
    }

    /// Runs the remaining epochs of K models side by side, calling `onEpoch` with every
    /// model's metrics (in variant order) after each.
    public func runAll(onEpoch: ([EpochMetrics]) throws -> Void = { _ in }) throws {
        while hasEpochsLeft { try onEpoch(try runEpochForEachModel()) }
    }

    /// The remaining epochs' metrics as an asynchronous sequence (training runs in a task).
    public func epochs() -> AsyncThrowingStream<EpochMetrics, Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached { [self] in
                do {
                    while self.hasEpochsLeft, !Task.isCancelled {
                        continuation.yield(try self.runEpoch())
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Runs one epoch (or the rest of one, after a mid-epoch `restore`) and returns its
    /// metrics. Throws `TrainingError.diverged` when a step's loss or the weights become NaN
    /// or Inf. `checkpoint` is called every `checkpointEvery` optimizer steps inside the epoch.
    public func runEpoch(checkpointEvery: Int = 0, checkpoint: ((Trainer) throws -> Void)? = nil) throws -> EpochMetrics {
        guard models == 1 else {
            throw TrainingError.invalidConfiguration("runEpoch trains one model; \(models) train with runEpochForEachModel or runAll")
        }
        return try runEpochForEachModel(checkpointEvery: checkpointEvery, checkpoint: checkpoint)[0]
    }

    /// One epoch of every model (see `runEpoch`); the metrics in variant order.
    public func runEpochForEachModel(checkpointEvery: Int = 0,
                                     checkpoint: ((Trainer) throws -> Void)? = nil) throws -> [EpochMetrics] {
        let start = DispatchTime.now().uptimeNanoseconds
        let parameterSlot = workspace.parameterSlot
        if stepInEpoch == 0 {
            epoch += 1
            try device.fill(workspace.stats, at: 0, count: parameterSlot, with: 0)
            try startEpochOrder()
        }
        while stepInEpoch < stepsPerEpoch {
            if let plan {
                let s = stepInEpoch
                try enqueueStep(s, firstRow: plan.offsets[s], rows: plan.counts[s], globalRows: plan.globalCounts[s])
            } else {
                let first = stepInEpoch * batchSize
                try enqueueStep(stepInEpoch, firstRow: first, rows: min(batchSize, train.rows - first))
            }
            stepInEpoch += 1
            if checkpointEvery > 0, step % checkpointEvery == 0, stepInEpoch < stepsPerEpoch, let checkpoint {
                try checkpoint(self)
            }
        }
        stepInEpoch = 0
        if let test { try enqueueTestMetrics(test) }
        try device.copy(model.parameters, at: 0, to: workspace.stats, at: parameterSlot, count: model.layout.totalCount)
        var snapshot = try device.read(workspace.stats)
        if let parallel, let plan {
            try combineStatistics(&snapshot, plan: plan, parallel: parallel, steps: stepsPerEpoch, test: true)
        }
        (self.plan, globalOrder, summedSteps) = (nil, nil, 0)
        let (stats, parameters) = (snapshot[..<parameterSlot], snapshot[parameterSlot...])
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return try (0..<models).map { try summarize(model: $0, stats: stats, parameters: parameters, seconds: seconds) }
    }

    /// This epoch's row order: a permutation of the training rows when shuffling (one
    /// process), or this rank's plan of the global order (data-parallel: the same permutation
    /// of all n rows on every rank, as one process would draw it).
    private func startEpochOrder() throws {
        guard let parallel else {
            if configuration.shuffle, let order = workspace.order {
                try device.write(shuffler.permutation(train.rows).map { Int32($0) }, to: order)
            }
            return
        }
        try follow(globalOrder: configuration.shuffle ? shuffler.permutation(parallel.globalRows) : nil, parallel)
    }

    /// Data-parallel: this rank's plan of the epoch's global row order (also a resumed one).
    func follow(globalOrder global: [Int]?, _ parallel: DataParallel) throws {
        let plan = parallel.plan(globalOrder: global, batchSize: batchSize)
        if let order = workspace.order, !plan.order.isEmpty { try device.write(plan.order, to: order) }
        (self.plan, globalOrder) = (plan, global)
    }

    /// The statistics of the epoch's first `steps` steps (and with `test`, the test sums)
    /// over every rank: each step's data loss (a local mean over b_s rows) as Σ over ranks of
    /// b_s·mean / B_s, correct counts and test sums added; the penalty (the same parameters
    /// everywhere) kept. Steps already summed (`summedSteps`) count rank 0's values once.
    func combineStatistics(_ snapshot: inout [Float], plan: DataParallel.EpochPlan, parallel: DataParallel,
                           steps: Int, test: Bool) throws {
        let slots = workspace.statSlots
        let root = parallel.communicator.isRoot ? 1.0 : 0
        var sums = [Double]()
        for m in 0..<models {
            for s in 0..<steps {
                let weight = s < summedSteps ? root : Double(plan.counts[s]) / Double(plan.globalCounts[s])
                sums.append(Double(snapshot[slots.dataLoss(m, s)]) * weight)
                sums.append(Double(snapshot[slots.correct(m, s)]) * (s < summedSteps ? root : 1))
            }
            if test {
                sums.append(Double(snapshot[slots.testLoss(m)]))
                sums.append(Double(snapshot[slots.testCorrect(m)]))
            }
        }
        try parallel.communicator.sum(&sums)
        var i = 0
        for m in 0..<models {
            for s in 0..<steps {
                snapshot[slots.dataLoss(m, s)] = Float(sums[i])
                snapshot[slots.correct(m, s)] = Float(sums[i + 1])
                i += 2
            }
            if test {
                snapshot[slots.testLoss(m)] = Float(sums[i])
                snapshot[slots.testCorrect(m)] = Float(sums[i + 1])
                i += 2
            }
        }
    }

    private func summarize(model m: Int, stats: ArraySlice<Float>, parameters: ArraySlice<Float>,
                           seconds: Double) throws -> EpochMetrics {
        let S = stepsPerEpoch
        let slots = workspace.statSlots
        let which = models > 1 ? " of model \(m + 1)" : ""
        var loss = 0.0, data = 0.0, penalty = 0.0, correct = 0.0
        let n = globalTrainRows
        let testRows = parallel?.globalTestRows ?? test?.rows ?? 0
        for s in 0..<S {
            let rows = Double(min(batchSize, n - s * batchSize))
            let (stepData, stepPenalty) = (Double(stats[slots.dataLoss(m, s)]), Double(stats[slots.penalty(m, s)]))
            guard (stepData + stepPenalty).isFinite else {
                throw TrainingError.diverged(epoch: epoch, step: s + 1, what: "the loss" + which)
            }
            data += stepData * rows
            penalty += stepPenalty * rows
            loss += (stepData + stepPenalty) * rows
            correct += Double(stats[slots.correct(m, s)])
        }
        let values = model.layout.model(m, of: parameters)
        guard values.allSatisfy(\.isFinite) else {
            throw TrainingError.diverged(epoch: epoch, step: S, what: "the weights" + which)
        }
        let classifies = configuration.loss != .mse
        let hasTest = test != nil || testRows > 0
        var summary = ParameterSummary()
        for slot in model.layout.modelLayout.slots where variants[m].penalty.covers(slot) {
            summary.add(values[slot.offset..<(slot.offset + slot.count)])
        }
        let (N, T) = (Double(n), Double(testRows))
        return EpochMetrics(
            epoch: epoch, loss: loss / N, dataLoss: data / N, penalty: penalty / N,
            trainAccuracy: classifies ? correct / N : nil,
            testAccuracy: classifies && hasTest ? Double(stats[slots.testCorrect(m)]) / T : nil,
            testLoss: hasTest ? Double(stats[slots.testLoss(m)]) / T : nil,
            testR2: hasTest ? testTotalSquares.map {
                Self.r2(residualSquares: Double(stats[slots.testLoss(m)]), totalSquares: $0, rows: testRows)
            } : nil,
            l1: summary.l1, l2: summary.l2Squared.squareRoot(),
            nearZero: summary.countBelow(Float(summary.maxAbs) * configuration.sparseThreshold),
            zeros: summary.zeros, seconds: seconds)
    }
}

extension Trainer {
    /// mse's Σ(y − ȳ)² over the test rows (every rank's when data-parallel), else nil.
    static func testTotalSquares(_ loss: LossKind, test: Dataset?, parallel: DataParallel?) throws -> Double? {
        guard loss == .mse else { return nil }
        guard let parallel else { return test.flatMap { $0.rows > 0 ? totalSquares($0.targets) : nil } }
        guard parallel.globalTestRows > 0 else { return nil }
        let y = test?.targets ?? []
        var sums = [Double(y.count), y.reduce(0.0) { $0 + Double($1) }]
        try parallel.communicator.sum(&sums)
        let mean = sums[1] / sums[0]
        var squares = [y.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }]
        try parallel.communicator.sum(&squares)
        return squares[0]
    }

    /// Σ(y − ȳ)² in Double.
    static func totalSquares(_ y: [Float]) -> Double {
        let mean = y.reduce(0.0) { $0 + Double($1) } / Double(y.count)
        return y.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
    }

    /// scikit-learn's `r2_score`: 1 − SS_res/SS_tot; with constant targets 1 for a perfect
    /// fit and 0 otherwise; NaN for fewer than two rows.
    static func r2(residualSquares: Double, totalSquares: Double, rows: Int) -> Double {
        guard rows >= 2 else { return .nan }
        guard totalSquares > 0 else { return residualSquares == 0 ? 1 : 0 }
        return 1 - residualSquares / totalSquares
    }
}

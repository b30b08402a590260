import Foundation

/// Trains a `Model` on a device: every step is queued on the device with no host round
/// trip; per-step losses, penalties and correct counts accumulate in a device buffer that
/// is read once per epoch, together with the parameters (for the norms and sparsity).
public final class Trainer: @unchecked Sendable {
    public let model: Model
    public let configuration: TrainingConfiguration
    public let device: any Device
    public internal(set) var epoch = 0
    /// Optimizer steps taken so far (torch's `step` for Adam's bias correction).
    public internal(set) var step = 0
    /// Steps already taken in the current epoch (0 between epochs).
    public internal(set) var stepInEpoch = 0

    let train: DeviceDataset
    let test: DeviceDataset?
    let batchSize: Int
    let stepsPerEpoch: Int
    let workspace: Workspace
    var shuffler: SeededGenerator

    /// Prepares a run: validates the configuration against the data, uploads the data once,
    /// and allocates every buffer a step needs. `initialState` replaces the seeded init.
    public convenience init(device: any Device, configuration: TrainingConfiguration, train: Dataset, test: Dataset? = nil,
                            initialState: [String: Tensor]? = nil) throws {
        try self.init(device: device, configuration: configuration, train: train, test: test, initialState: initialState,
                      outputs: nil)
    }

    /// `outputs` overrides the loss's output count: mse or bce with K outputs trains K
    /// independent linear models sharing the data (the batched solver).
    init(device: any Device, configuration: TrainingConfiguration, train: Dataset, test: Dataset?,
         initialState: [String: Tensor]?, outputs override: Int?) throws {
        try configuration.validate()
        let outputs = try max(Self.outputCount(configuration.loss, train: train, test: test), override ?? 0)
        if let test, test.columns != train.columns {
            throw TrainingError.invalidData("test data has \(test.columns) features, training data \(train.columns)")
        }
        self.device = device
        self.configuration = configuration
        model = try Model(device: device, architecture: configuration.architecture, inputs: train.columns,
                          outputs: outputs, seed: configuration.seed)
        if let initialState { try model.load(initialState) }
        self.train = try DeviceDataset(train, on: device)
        self.test = try test.flatMap { $0.rows > 0 ? try DeviceDataset($0, on: device) : nil }
        batchSize = configuration.batchSize == 0 ? train.rows : min(configuration.batchSize, train.rows)
        stepsPerEpoch = (train.rows + batchSize - 1) / batchSize
        workspace = try Workspace(model: model, configuration: configuration, batchSize: batchSize,
                                  stepsPerEpoch: stepsPerEpoch, shuffledRows: configuration.shuffle ? train.rows : 0)
        shuffler = SeededGenerator(seed: configuration.seed &+ 0x5348_5546_464C_45)
    }

    /// The number of model outputs the loss needs; validates both sets' targets.
    static func outputCount(_ loss: LossKind, train: Dataset, test: Dataset?) throws -> Int {
        guard train.rows > 0 else { throw TrainingError.invalidData("the training set is empty") }
        return max(try train.outputCount(for: loss), try test?.outputCount(for: loss) ?? 1)
    }

    /// Whether epochs remain (or the rest of one, after a mid-epoch `restore`).
    public var hasEpochsLeft: Bool { epoch < configuration.epochs || stepInEpoch > 0 }

    /// Runs the remaining epochs, calling `onEpoch` after each.
    public func run(onEpoch: (EpochMetrics) throws -> Void = { _ in }) throws {
        while hasEpochsLeft { try onEpoch(try runEpoch()) }
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
        let start = DispatchTime.now().uptimeNanoseconds
        let parameterSlot = 3 * stepsPerEpoch + 1
        if stepInEpoch == 0 {
            epoch += 1
            try device.fill(workspace.stats, at: 0, count: parameterSlot, with: 0)
            if configuration.shuffle, let order = workspace.order {
                try device.write(shuffler.permutation(train.rows).map { Int32($0) }, to: order)
            }
        }
        while stepInEpoch < stepsPerEpoch {
            let first = stepInEpoch * batchSize
            try enqueueStep(stepInEpoch, firstRow: first, rows: min(batchSize, train.rows - first))
            stepInEpoch += 1
            if checkpointEvery > 0, step % checkpointEvery == 0, stepInEpoch < stepsPerEpoch, let checkpoint {
                try checkpoint(self)
            }
        }
        stepInEpoch = 0
        if let test { try enqueueTestAccuracy(test) }
        try device.copy(model.parameters, at: 0, to: workspace.stats, at: parameterSlot, count: model.layout.totalCount)
        let snapshot = try device.read(workspace.stats)
        let (stats, parameters) = (snapshot[..<parameterSlot], snapshot[parameterSlot...])
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return try summarize(stats: stats, parameters: parameters, seconds: seconds)
    }

    private func summarize(stats: ArraySlice<Float>, parameters: ArraySlice<Float>, seconds: Double) throws -> EpochMetrics {
        let S = stepsPerEpoch
        var loss = 0.0, data = 0.0, penalty = 0.0, correct = 0.0
        for s in 0..<S {
            let rows = Double(min(batchSize, train.rows - s * batchSize))
            let stepLoss = Double(stats[s]) + Double(stats[S + s])
            guard stepLoss.isFinite else { throw TrainingError.diverged(epoch: epoch, step: s + 1, what: "the loss") }
            data += Double(stats[s]) * rows
            penalty += Double(stats[S + s]) * rows
            loss += stepLoss * rows
            correct += Double(stats[2 * S + s])
        }
        guard parameters.allSatisfy(\.isFinite) else {
            throw TrainingError.diverged(epoch: epoch, step: S, what: "the weights")
        }
        let n = Double(train.rows)
        let classifies = configuration.loss != .mse
        var summary = ParameterSummary()
        for slot in model.layout.slots where configuration.penalty.covers(slot) {
            let start = parameters.startIndex + slot.offset
            summary.add(parameters[start..<(start + slot.count)])
        }
        return EpochMetrics(
            epoch: epoch, loss: loss / n, dataLoss: data / n, penalty: penalty / n,
            trainAccuracy: classifies ? correct / n : nil,
            testAccuracy: classifies ? test.map { Double(stats[3 * S]) / Double($0.rows) } : nil,
            l1: summary.l1, l2: summary.l2Squared.squareRoot(),
            nz: summary.countBelow(Float(summary.maxAbs) * configuration.sparseThreshold),
            zeros: summary.zeros, seconds: seconds)
    }
}

/// ‖·‖₁, ‖·‖₂², max|w|, zeros and the sparsity count over the penalized parameters (Double).
struct ParameterSummary {
    private var values: [Float] = []
    var l1 = 0.0, l2Squared = 0.0, maxAbs = 0.0
    var zeros = 0

    mutating func add(_ slice: ArraySlice<Float>) {
        for w in slice {
            l1 += Double(abs(w)); l2Squared += Double(w) * Double(w)
            maxAbs = max(maxAbs, Double(abs(w)))
            if w == 0 { zeros += 1 }
        }
        values += slice
    }

    func countBelow(_ threshold: Float) -> Int { values.reduce(0) { $0 + (abs($1) < threshold ? 1 : 0) } }
}

/// A dataset uploaded to a device: features [rows, columns] and targets [rows].
struct DeviceDataset {
    let features: Buffer
    let targets: Buffer
    let rows: Int
    let columns: Int

    init(_ data: Dataset, on device: any Device) throws {
        features = try device.makeBuffer(data.features)
        targets = try device.makeBuffer(data.targets)
        rows = data.rows
        columns = data.columns
    }
}

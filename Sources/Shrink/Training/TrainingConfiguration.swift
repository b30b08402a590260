/// Everything that defines a training run except the data and the device.
public struct TrainingConfiguration: Sendable, Hashable {
    public var architecture: Architecture
    public var loss: LossKind
    public var optimizer: Optimizer
    public var learningRate: Float
    public var penalty: Penalty
    public var epochs: Int
    /// Rows per step; 0 = the full batch. The last partial batch is kept (drop_last=False).
    public var batchSize: Int
    /// Reshuffle the rows every epoch from `seed` (else row order).
    public var shuffle: Bool
    /// Seeds the initialization and the shuffles.
    public var seed: UInt64
    /// `nz` counts |w| < max|w|·sparseThreshold (the reference PyTorch script's 0.0005).
    public var sparseThreshold: Float

    public init(architecture: Architecture = .linear, loss: LossKind = .mse, optimizer: Optimizer = .sgd(),
                learningRate: Float = 0.01, penalty: Penalty = .none, epochs: Int = 100, batchSize: Int = 0,
                shuffle: Bool = true, seed: UInt64 = 0, sparseThreshold: Float = 0.0005) {
        self.architecture = architecture; self.loss = loss; self.optimizer = optimizer
        self.learningRate = learningRate; self.penalty = penalty; self.epochs = epochs
        self.batchSize = batchSize; self.shuffle = shuffle; self.seed = seed
        self.sparseThreshold = sparseThreshold
    }

    /// Throws the first setting outside its domain.
    public func validate() throws {
        try optimizer.validate(learningRate: learningRate)
        try penalty.validate()
        guard epochs > 0 else { throw TrainingError.invalidConfiguration("--epochs must be > 0, got \(epochs)") }
        guard batchSize >= 0 else { throw TrainingError.invalidConfiguration("--batch-size must be ≥ 0, got \(batchSize)") }
        guard sparseThreshold.isFinite, sparseThreshold >= 0 else {
            throw TrainingError.invalidConfiguration("--sparse-threshold must be ≥ 0, got \(sparseThreshold)")
        }
    }
}

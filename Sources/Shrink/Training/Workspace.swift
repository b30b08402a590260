/// Every device buffer a training step touches, allocated once per run.
struct Workspace {
    /// Forward activations for up to `batchSize` rows.
    let forward: ForwardPass
    /// deltas[l] = ∂loss/∂(output of Linear layer l), [batch, outputs_l].
    let deltas: [Buffer]
    let gradients: Buffer
    /// SGD momentum buffer, or Adam's first moment.
    let moment1: Buffer
    /// Adam's second moment (a 1-element placeholder for SGD).
    let moment2: Buffer
    let rowLoss: Buffer
    let rowCorrect: Buffer
    /// Per-tensor ‖w‖₂ for the `l2Norm` penalty gradient, in state-dict order.
    let norms: Buffer
    /// Gathered batch features and targets when shuffling (placeholders otherwise).
    let batchFeatures: Buffer
    let batchTargets: Buffer
    /// This epoch's row order (int32) when shuffling.
    let order: Buffer?
    /// [data loss per step | penalty per step | correct per step | test correct | parameters]:
    /// 3S + 1 + P floats, read back in one transfer per epoch.
    let stats: Buffer

    init(model: Model, configuration: TrainingConfiguration, batchSize: Int, stepsPerEpoch: Int,
         shuffledRows: Int) throws {
        let device = model.device
        let P = model.layout.totalCount
        forward = try ForwardPass(model: model, capacity: batchSize)
        deltas = try model.layout.layers.map { try device.makeBuffer(count: batchSize * $0.outputs) }
        gradients = try device.makeBuffer(count: P)
        let usesMoment1: Bool
        let usesMoment2: Bool
        switch configuration.optimizer {
        case .sgd(let momentum, _): (usesMoment1, usesMoment2) = (momentum != 0, false)
        case .adam, .adamw: (usesMoment1, usesMoment2) = (true, true)
        }
        moment1 = try device.makeBuffer(count: usesMoment1 ? P : 1)
        moment2 = try device.makeBuffer(count: usesMoment2 ? P : 1)
        rowLoss = try device.makeBuffer(count: batchSize)
        rowCorrect = try device.makeBuffer(count: batchSize)
        norms = try device.makeBuffer(count: model.layout.slots.count)
        let shuffles = shuffledRows > 0
        batchFeatures = try device.makeBuffer(count: shuffles ? batchSize * model.inputs : 1)
        batchTargets = try device.makeBuffer(count: shuffles ? batchSize : 1)
        order = shuffles ? try device.makeBuffer(count: shuffledRows, type: .int32) : nil
        stats = try device.makeBuffer(count: 3 * stepsPerEpoch + 1 + P)
    }
}

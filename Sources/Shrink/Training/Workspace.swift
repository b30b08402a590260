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
    /// Sparse data shuffled: X's row r → its position in the current batch, −1 when not in it
    /// (int32 [rows]; all −1 between steps), for the backward product from Xᵀ.
    let positionMap: Buffer?
    /// [data loss per model and step | penalty per model and step | correct per model and
    /// step | test correct per model | test loss sum per model | parameters]: 3KS + 2K + P
    /// floats (K models, S steps), read back in one transfer per epoch.
    let stats: Buffer
    let statSlots: StatSlots
    /// 1 on the stacked models' diagonal blocks, 0 off them (K > 1 only): the gradient is
    /// masked with it so the off-block weights stay zero.
    let blockMask: Buffer?

    /// Where each number lives in `stats`.
    struct StatSlots {
        let models: Int, steps: Int
        func dataLoss(_ m: Int, _ s: Int) -> Int { m * steps + s }
        func penalty(_ m: Int, _ s: Int) -> Int { (models + m) * steps + s }
        func correct(_ m: Int, _ s: Int) -> Int { (2 * models + m) * steps + s }
        func testCorrect(_ m: Int) -> Int { 3 * models * steps + m }
        func testLoss(_ m: Int) -> Int { 3 * models * steps + models + m }
        /// Where the parameters start (everything before is zeroed each epoch).
        var parameters: Int { 3 * models * steps + 2 * models }
    }

    var parameterSlot: Int { statSlots.parameters }

    /// `sparse`: the training features are CSR (no dense batch buffer); `positionMap`: the
    /// gradient goes through Xᵀ (`SparseGradientRoute.transposed`), which needs one when shuffling.
    init(model: Model, configuration: TrainingConfiguration, batchSize: Int, stepsPerEpoch: Int,
         shuffledRows: Int, sparse: Bool = false, positionMap: Bool = false) throws {
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
        let K = model.models
        rowLoss = try device.makeBuffer(count: batchSize * K)
        rowCorrect = try device.makeBuffer(count: batchSize * K)
        norms = try device.makeBuffer(count: K * model.layout.slots.count)
        let shuffles = shuffledRows > 0
        batchFeatures = try device.makeBuffer(count: shuffles && !sparse ? batchSize * model.inputs : 1)
        batchTargets = try device.makeBuffer(count: shuffles ? batchSize : 1)
        order = shuffles ? try device.makeBuffer(count: shuffledRows, type: .int32) : nil
        self.positionMap = shuffles && sparse && positionMap ? try device.makeBuffer([Int32](repeating: -1, count: shuffledRows)) : nil
        statSlots = StatSlots(models: K, steps: stepsPerEpoch)
        stats = try device.makeBuffer(count: statSlots.parameters + P)
        blockMask = try model.layout.blockMask.map { try device.makeBuffer($0) }
    }
}

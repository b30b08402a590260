/// The per-model reductions and penalty gradients of K > 1 stacked models in a few launches
/// each, instead of one per model and parameter range: segment tables for `Device.norms`
/// (built once; the loss tables once per distinct batch size) and per-parameter penalty
/// coefficients for `Device.penaltyGradient(l1:l2:...)`.
final class StackedReductions {
    private let device: any Device
    private let models: Int
    private let slots: Workspace.StatSlots
    /// One table per (purpose, rows): each model's block of the block-major row losses.
    private var rowTables: [RowPurpose: [Int: Table]] = [:]
    /// Penalty values: each term of each model's penalized ranges (L1, squared L2, ‖w‖₂ per
    /// tensor) into its own `scratch` entry, scaled by its λ, one launch per kind; then each
    /// model's entries summed into its penalty slot (one launch, one segment per model: no two
    /// work-groups ever add to the same number).
    private let l1Value: Table?, l2Value: Table?, tensorPenalty: Table?, penaltySums: Table?
    private let scratch: Buffer
    /// ‖w‖₂ per tensor into the norms buffer (the ‖w‖₂ gradient's denominators).
    private let tensorNorms: Table?
    /// Per-parameter gradient coefficients of the models without an ‖w‖₂ term.
    private let coefficients: (l1: Buffer, l2: Buffer)?
    /// The models whose gradient needs their tensors' norms (done range by range).
    let normModels: [Int]

    struct Table {
        let segments: Buffer
        let scales: Buffer
        let count: Int
    }

    enum RowPurpose: Hashable {
        case dataLoss, correct, testCorrect, testLoss
        /// Test sums accumulate over the test chunks into one slot per model.
        var accumulates: Bool { self == .testCorrect || self == .testLoss }
    }

    init(trainer: Trainer) throws {
        let device = trainer.device
        self.device = device
        models = trainer.models
        slots = trainer.workspace.statSlots
        let layout = trainer.model.layout
        func table(_ rows: [(range: Range<Int>, destination: Int, scale: Float)]) throws -> Table? {
            guard !rows.isEmpty else { return nil }
            let segments = try device.makeBuffer(count: 3 * rows.count, type: .int32)
            try device.write(rows.flatMap { [Int32($0.range.lowerBound), Int32($0.range.count), Int32($0.destination)] },
                             to: segments)
            return Table(segments: segments, scales: try device.makeBuffer(rows.map(\.scale)), count: rows.count)
        }
        let slots = self.slots
        let variants = trainer.variants
        normModels = variants.indices.filter { variants[$0].penalty.l2Norm != 0 }
        var l1: [(Range<Int>, Int, Float)] = [], l2: [(Range<Int>, Int, Float)] = [], norm: [(Range<Int>, Int, Float)] = []
        var sums: [(Range<Int>, Int, Float)] = [], tensorRows: [(Range<Int>, Int, Float)] = []
        var entries = 0
        for (m, variant) in variants.enumerated() {
            let first = entries
            let penalty = variant.penalty
            if penalty.l1 != 0 {
                for (range, _) in trainer.penalizedRanges[m] { l1.append((range, entries, penalty.l1)); entries += 1 }
            }
            if penalty.l2 != 0 {
                for (range, _) in trainer.penalizedRanges[m] { l2.append((range, entries, penalty.l2)); entries += 1 }
            }
            if penalty.l2Norm != 0 {
                for part in layout.ranges(ofModel: m) where penalty.covers(part.slot) {
                    norm.append((part.range, entries, penalty.l2Norm)); entries += 1
                    tensorRows.append((part.range, m * layout.slots.count + part.tensor, 1))
                }
            }
            if entries > first { sums.append((first..<entries, slots.penalty(m, 0), 1)) }
        }
        l1Value = try table(l1)
        l2Value = try table(l2)
        tensorPenalty = try table(norm)
        penaltySums = try table(sums)
        tensorNorms = try table(tensorRows)
        scratch = try device.makeBuffer(count: max(entries, 1))
        let plain = variants.indices.filter { variants[$0].penalty.l2Norm == 0 && !variants[$0].penalty.isZero }
        if plain.isEmpty {
            coefficients = nil
        } else {
            var l1 = [Float](repeating: 0, count: layout.totalCount), l2 = l1
            for m in plain {
                let c = variants[m].penalty.gradientCoefficients
                for (range, _) in trainer.penalizedRanges[m] {
                    for i in range { (l1[i], l2[i]) = (c.l1, c.l2) }
                }
            }
            coefficients = (try device.makeBuffer(l1), try device.makeBuffer(l2))
        }
    }

    /// Each model's sum over its `rows` row values (block-major) into its slot, scaled.
    func enqueueRowSums(_ purpose: RowPurpose, of values: Buffer, rows: Int, step s: Int, into stats: Buffer) throws {
        let table = try rowTable(purpose, rows: rows)
        try device.norms(.sum, of: values, segments: table.segments, scales: table.scales, segmentCount: table.count,
                         into: stats, at: purpose.accumulates ? 0 : s, accumulate: purpose.accumulates)
    }

    private func rowTable(_ purpose: RowPurpose, rows: Int) throws -> Table {
        if let table = rowTables[purpose]?[rows] { return table }
        let segments = try device.makeBuffer(count: 3 * models, type: .int32)
        try device.write((0..<models).flatMap { m -> [Int32] in
            let destination = switch purpose {
            case .dataLoss: slots.dataLoss(m, 0)
            case .correct: slots.correct(m, 0)
            case .testCorrect: slots.testCorrect(m)
            case .testLoss: slots.testLoss(m)
            }
            return [Int32(m * rows), Int32(rows), Int32(destination)]
        }, to: segments)
        let scale: Float = purpose == .dataLoss ? 1 / Float(rows) : 1
        let table = Table(segments: segments, scales: try device.makeBuffer([Float](repeating: scale, count: models)),
                          count: models)
        rowTables[purpose, default: [:]][rows] = table
        return table
    }

    /// Every model's penalty value at step s into its slot; the tensors' ‖w‖₂ into `norms`.
    func enqueuePenaltyValues(of parameters: Buffer, step s: Int, stats: Buffer, norms: Buffer) throws {
        for (kind, table) in [(NormKind.l1, l1Value), (.l2Squared, l2Value), (.l2, tensorPenalty)] {
            guard let table else { continue }
            try device.norms(kind, of: parameters, segments: table.segments, scales: table.scales,
                             segmentCount: table.count, into: scratch, at: 0, accumulate: false)
        }
        if let table = penaltySums {
            try device.norms(.sum, of: scratch, segments: table.segments, scales: table.scales, segmentCount: table.count,
                             into: stats, at: s, accumulate: false)
        }
        if let table = tensorNorms {
            try device.norms(.l2, of: parameters, segments: table.segments, scales: table.scales, segmentCount: table.count,
                             into: norms, at: 0, accumulate: false)
        }
    }

    /// gradients += the penalty gradient of every model without an ‖w‖₂ term, in one launch.
    func enqueuePlainPenaltyGradient(parameters: Buffer, gradients: Buffer, count: Int) throws {
        guard let coefficients else { return }
        try device.penaltyGradient(l1: coefficients.l1, l2: coefficients.l2, weights: parameters, gradient: gradients,
                                   count: count)
    }
}

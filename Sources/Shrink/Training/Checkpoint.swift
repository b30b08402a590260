import Foundation

/// Everything needed to continue a run exactly: parameters, optimizer moments, the step
/// counters, the shuffle generator's state, this epoch's row order and its statistics so far.
/// Stored as one safetensors file (`checkpoint.safetensors` in the checkpoint folder),
/// written atomically, with the counters in its metadata.
public struct Checkpoint: Sendable, Equatable {
    public static let fileName = "checkpoint.safetensors"
    static let format = "shrink-checkpoint-1"

    public var parameters: [Float]
    public var moment1: [Float]
    public var moment2: [Float]
    /// The current epoch's statistics so far, laid out as `Workspace.StatSlots`: per model the
    /// data loss, penalty and correct count of each step, then the test correct count and loss.
    public var statistics: [Float]
    /// The current epoch's row order when shuffling.
    public var order: [Int32]?
    public var epoch: Int
    public var stepInEpoch: Int
    public var step: Int
    public var generator: [UInt64]
    /// The configuration and data shape the run was started with, as one string (what
    /// checkpoints before `settings` were checked by).
    public var fingerprint: String
    /// The run's settings by flag name (`--lr`: `0.01`, …), its data's shape and, when the
    /// writer gave it, a hash of the data's contents; a resume must match each. Empty in a
    /// checkpoint written before settings were stored.
    public var settings: [String: String] = [:]

    public static func url(in folder: URL) -> URL { folder.appendingPathComponent(fileName) }

    public func write(to folder: URL) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            throw DataError.unwritable(path: folder.path, reason: "cannot create the folder" +
                                       (underlying.map { ": " + String(cString: strerror(Int32($0.code))) } ?? ""))
        }
        var tensors: [(name: String, tensor: Tensor)] = [
            ("parameters", Tensor(shape: [parameters.count], values: parameters)),
            ("moment1", Tensor(shape: [moment1.count], values: moment1)),
            ("moment2", Tensor(shape: [moment2.count], values: moment2)),
            ("statistics", Tensor(shape: [statistics.count], values: statistics)),
        ]
        if let order {  // int32 bit patterns carried in an F32 tensor
            tensors.append(("order", Tensor(shape: [order.count], values: order.map { Float(bitPattern: UInt32(bitPattern: $0)) })))
        }
        let metadata = ["format": Self.format, "epoch": "\(epoch)", "step_in_epoch": "\(stepInEpoch)", "step": "\(step)",
                        "generator": generator.map(String.init).joined(separator: ","), "fingerprint": fingerprint]
            .merging(settings.map { (Self.settingPrefix + $0.key, $0.value) }) { $1 }
        try SafeTensors.write(tensors, to: Self.url(in: folder), metadata: metadata)
    }

    public static func read(from folder: URL) throws -> Checkpoint {
        let url = Self.url(in: folder)
        let (tensors, metadata) = try SafeTensors.parseFile(try NPY.readBytes(url), path: url.path)
        func fail(_ what: String) -> DataError { .malformed(path: url.path, reason: "not a Shrink checkpoint: \(what)") }
        guard metadata["format"] == format else { throw fail("format \(metadata["format"] ?? "missing")") }
        func int(_ key: String) throws -> Int {
            guard let v = metadata[key].flatMap({ Int($0) }), v >= 0 else { throw fail("bad \(key)") }
            return v
        }
        func values(_ name: String) throws -> [Float] {
            guard let t = tensors[name] else { throw fail("missing \(name)") }
            return t.values
        }
        let generator = (metadata["generator"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard generator.count == 4 else { throw fail("bad generator state") }
        return Checkpoint(
            parameters: try values("parameters"), moment1: try values("moment1"), moment2: try values("moment2"),
            statistics: try values("statistics"),
            order: tensors["order"].map { $0.values.map { Int32(bitPattern: $0.bitPattern) } },
            epoch: try int("epoch"), stepInEpoch: try int("step_in_epoch"), step: try int("step"),
            generator: generator, fingerprint: metadata["fingerprint"] ?? "",
            settings: Dictionary(uniqueKeysWithValues: metadata.compactMap { key, value in
                key.hasPrefix(settingPrefix) ? (String(key.dropFirst(settingPrefix.count)), value) : nil
            }))
    }

    /// Metadata keys of `settings`: "setting --lr".
    static let settingPrefix = "setting "
}

extension Trainer {
    /// What a resume must agree on: the configuration (the epoch count aside: a resumed run
    /// may train longer) and the data's shape.
    var fingerprint: String {
        var settings = configuration
        settings.epochs = 0
        let stacked = models > 1 ? " variants=\(variants)" : ""
        return "\(settings) rows=\(globalTrainRows) test=\(globalTestRows) columns=\(train.columns) outputs=\(model.outputs)" + stacked
    }

    /// What a resume must agree on, named as the command line's flags, in their order. The
    /// epoch count is left out (a resumed run may train longer); `dataHash` (the data's
    /// `contentHash`, when the caller has it) tells a file of the same shape from another.
    func settings(dataHash: UInt64?) -> [(name: String, value: String)] {
        func number(_ x: Float) -> String {
            let text = "\(x)"
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        let c = configuration, penalty = c.penalty
        var list: [(name: String, value: String)] = [
            ("--model", "\(c.architecture)"), ("--loss", "\(c.loss)"), ("--optimizer", c.optimizer.name),
            ("--lr", number(c.learningRate))]
        if case let .sgd(momentum, _) = c.optimizer { list.append(("--momentum", number(momentum))) }
        list += [("--weight-decay", number(c.optimizer.weightDecay)), ("--l1", number(penalty.l1)),
                 ("--l2", number(penalty.l2)), ("--l2-norm", number(penalty.l2Norm)),
                 ("--penalize", penalty.scope.rawValue), ("--prox", penalty.proximal ? "on" : "off"),
                 ("--batch-size", "\(c.batchSize)"), ("--no-shuffle", c.shuffle ? "off" : "on"), ("--seed", "\(c.seed)"),
                 ("--sparse-threshold", number(c.sparseThreshold)),
                 ("training rows", "\(globalTrainRows)"), ("test rows", "\(globalTestRows)"), ("features", "\(train.columns)"),
                 ("outputs", "\(model.outputs)")]
        if models > 1 { list.append(("models", "\(variants)")) }
        if let dataHash { list.append(("data rows (FNV-1a of the training and test rows, and --standardize)", String(dataHash, radix: 16))) }
        return list
    }

    /// The trainer's complete state (waits for queued work); `dataHash` as in `settings`.
    ///
    /// It holds the global state only, so that it resumes on any number of MPI ranks or in one
    /// process: between epochs no order (it is drawn afresh); inside an epoch the epoch's row
    /// order as positions in all the training rows (one process's order is that already) and,
    /// for a data-parallel run, the statistics of the steps so far summed over the ranks —
    /// which makes this a collective call there: every rank makes it at the same step.
    public func checkpoint(dataHash: UInt64? = nil) throws -> Checkpoint {
        let statsCount = workspace.parameterSlot
        var statistics = try device.read(workspace.stats, at: 0, count: statsCount)
        var order: [Int32]?
        if stepInEpoch > 0, let parallel, let plan {
            try combineStatistics(&statistics, plan: plan, parallel: parallel, steps: stepInEpoch, test: false)
            order = globalOrder.map { $0.map { Int32($0) } }
        } else if stepInEpoch > 0 {
            order = try workspace.order.map { order in
                var values = [Int32](repeating: 0, count: order.count)
                try values.withUnsafeMutableBytes { try device.read(order, at: 0, count: order.count, into: $0) }
                return values
            }
        }
        return Checkpoint(
            parameters: try model.parameterValues(), moment1: try device.read(workspace.moment1),
            moment2: try device.read(workspace.moment2), statistics: statistics, order: order,
            epoch: epoch, stepInEpoch: stepInEpoch, step: step, generator: shuffler.state, fingerprint: fingerprint,
            settings: Dictionary(uniqueKeysWithValues: settings(dataHash: dataHash).map { ($0.name, $0.value) }))
    }

    /// Writes the state into `folder` atomically, unless the weights are no longer finite (a
    /// diverging run keeps its last good checkpoint). Returns whether it wrote. In a
    /// data-parallel run every rank calls it (`checkpoint` is collective there) and one rank
    /// passes a folder; the others pass nil and write nothing.
    @discardableResult
    public func writeCheckpoint(to folder: URL?, dataHash: UInt64? = nil) throws -> Bool {
        let state = try checkpoint(dataHash: dataHash)
        guard let folder, state.parameters.allSatisfy(\.isFinite) else { return false }
        try state.write(to: folder)
        return true
    }

    /// Continues from `state`, which must come from a run with the same configuration and data
    /// (the same `dataHash`, when both the checkpoint and the caller have one). The error
    /// names each setting that differs.
    public func restore(_ state: Checkpoint, dataHash: UInt64? = nil) throws {
        if state.settings.isEmpty {  // written before settings were stored
            guard state.fingerprint == fingerprint else {
                throw TrainingError.invalidConfiguration(
                    "the checkpoint was made by a different run (\(state.fingerprint)); resume with the same flags and data")
            }
        } else {
            let differences = settings(dataHash: dataHash).compactMap { name, value in
                state.settings[name].flatMap { $0 == value ? nil : "\(name): checkpoint \($0), now \(value)" }
            }
            guard differences.isEmpty else {
                throw TrainingError.invalidConfiguration(
                    "the checkpoint was made by a different run: \(differences.joined(separator: "; ")) " +
                    "(resume with the same flags and data)")
            }
        }
        guard state.parameters.count == model.layout.totalCount, state.moment1.count == workspace.moment1.count,
              state.moment2.count == workspace.moment2.count, state.statistics.count == workspace.parameterSlot,
              state.stepInEpoch == 0 || state.order?.count == (configuration.shuffle ? globalTrainRows : nil),
              let generator = SeededGenerator(state: state.generator) else {
            throw TrainingError.invalidData("the checkpoint's tensors do not fit this run")
        }
        try device.write(state.parameters, to: model.parameters)
        try device.write(state.moment1, to: workspace.moment1)
        try device.write(state.moment2, to: workspace.moment2)
        try device.write(state.statistics, to: workspace.stats)
        if state.stepInEpoch > 0, let parallel {  // this rank's plan of the epoch's order; the steps so far summed
            try follow(globalOrder: state.order.map { $0.map { Int($0) } }, parallel)
            summedSteps = state.stepInEpoch
        } else if let order = workspace.order, let values = state.order, state.stepInEpoch > 0 {
            try device.write(values, to: order)
        }
        (epoch, stepInEpoch, step, shuffler) = (state.epoch, state.stepInEpoch, state.step, generator)
    }
}

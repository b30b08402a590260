import ArgumentParser
import Foundation
import Shrink

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "The L1-vs-L2 experiment: one model trained with no penalty, L1, L2, elastic net and weight decay.",
        discussion: """
            Defaults reproduce the PyTorch L1-vs-L2 script Shrink grew from: randn(1000, 10) features with random binary labels (seed 0), \
            an 80/20 split, mlp:50, bce, sgd lr 0.01, batch 32, 20 epochs, λ = 0.01.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var modelOptions: ModelOptions<CompareDefaults>
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var standardizeOptions: StandardizeOptions

    @Option(help: "λ for every penalty and for the weight decay run.") var lambda: Float = 0.01
    @Option(help: "all | weights (biases excluded).") var penalize: Penalty.Scope = .all
    @Option(help: "Draw every run's loss curve (SVG).") var plot: String?
    @Option(name: .customLong("save-models"), help: "Write each run's model into this folder (created when missing) as RUN.safetensors (none, l1, l2, elastic-net, weight-decay), with the metadata `predict` needs.")
    var saveModels: String?
    @Option(help: "Write a self-contained HTML report (loss, l1/l2, near_zero per epoch for every run).") var report: String?
    @Flag(help: "Train all runs at once as one stacked model (one forward and backward pass for all; equal to the separate runs within float rounding).")
    var batched = false

    func validate() throws {
        try validateNonNegative("--lambda", lambda)
        if let plot { try checkOutput("--plot", plot, extensions: ["svg"]) }
        if let report { try checkOutput("--report", report, extensions: ["html"]) }
        if let saveModels { try checkOutputFolder("--save-models", saveModels) }
    }

    /// The runs: (name, penalty and weight decay).
    var runs: [(name: String, variant: ModelVariant)] {
        Self.runs(lambda: lambda, penalize: penalize)
    }

    static func runs(lambda: Float, penalize: Penalty.Scope) -> [(name: String, variant: ModelVariant)] {
        [("none", ModelVariant(penalty: Penalty(scope: penalize))),
         ("L1", ModelVariant(penalty: Penalty(l1: lambda, scope: penalize))),
         ("L2", ModelVariant(penalty: Penalty(l2: lambda, scope: penalize))),
         ("elastic net", ModelVariant(penalty: Penalty(l1: lambda, l2: lambda, scope: penalize))),
         ("weight decay", ModelVariant(penalty: Penalty(scope: penalize), weightDecay: lambda))]
    }

    func run() throws {
        let m = modelOptions
        let architecture = try validated { try Architecture(parsing: m.model ?? "mlp:50") }
        let optimizerKind = m.optimizer ?? .sgd
        _ = try validated { try Optimizer(kind: optimizerKind, momentum: m.momentum, weightDecay: nil) }
        try reportingErrors {
            let world = try Communicator.world()
            world.silencingOtherRanks()
            let device = try deviceOptions.open(localRank: world.localRank)
            // The file's rows (this rank's, under mpirun), else the reference script's synthetic data.
            let rows = try dataOptions.trainingRows(seed: m.seed, loss: m.loss ?? .bce, standardize: standardizeOptions,
                                                    fingerprint: false, world: world) ?? {
                let data = try SyntheticData.seedDefault().encodingClasses(for: m.loss ?? .bce)
                let (rawTrain, rawTest) = try dataOptions.split(data, seed: m.seed)
                var (train, test, standardization) = try standardizeOptions.apply(train: rawTrain, test: rawTest)
                train.keepingNames(of: rawTrain)
                return TrainingRows(train: train, test: test, standardization: standardization, parallel: nil,
                                    modelInfo: [:], dataHash: nil)
            }()
            let (train, test, standardization, parallel) = (rows.train, rows.test, rows.standardization, rows.parallel)
            print("device: \(device.name) [\(device.kind.rawValue)]" + (world.size > 1 ? " on each of \(world.size) ranks" : ""))
            print("data: \(rows.globalTrainRows) training rows\(rows.globalTestRows > 0 ? ", \(rows.globalTestRows) test rows" : ""), " +
                  "\(train.columns) features; " +
                  "model: \(architecture), loss \(m.loss ?? .bce), \(optimizerKind.rawValue) lr \(m.lr ?? 0.01), λ \(lambda)")
            if let standardization { print(StandardizeOptions.notice(standardization, sparse: train.isSparse)) }
            let base = TrainingConfiguration(
                architecture: architecture, loss: m.loss ?? .bce,
                optimizer: try validated { try Optimizer(kind: optimizerKind, momentum: m.momentum, weightDecay: 0) },
                learningRate: m.lr ?? 0.01, epochs: m.epochs ?? 20, batchSize: m.batchSize ?? 32, shuffle: !m.noShuffle,
                seed: m.seed, sparseThreshold: m.sparseThreshold)
            let histories = try batched ? Self.trainBatched(base, runs, train, test, device, parallel)
                : Self.trainSeparately(base, runs, train, test, device, parallel)
            let table = histories.compactMap { history in
                history.epochs.last.map { Self.row(history.name, $0, seconds: history.epochs.reduce(0) { $0 + $1.seconds }) }
            }
            if batched { print("batched: all \(runs.count) runs as one stacked model (seconds are the shared time)") }
            print(Self.table(table, regression: (m.loss ?? .bce) == .mse))
            guard world.isRoot else { return }  // rank 0 writes every file
            if let plot {
                let chart = LineChart.lossChart(title: "Training loss by regularization",
                                                curves: histories.map { ($0.name, $0.epochs.map(\.loss)) })
                try writeText(chart.svg(), to: plot)
                print("plotted \(plot)")
            }
            if let saveModels {
                try FileManager.default.createDirectory(atPath: saveModels, withIntermediateDirectories: true)
                for run in histories {
                    let file = run.name.lowercased().replacingOccurrences(of: " ", with: "-") + ".safetensors"
                    try saveModel(run.state, loss: m.loss ?? .bce, data: train, standardization: standardization,
                                  info: ["trained_by": "shrink compare", "run": run.name, "lambda": "\(lambda)"]
                                      .merging(rows.modelInfo) { a, _ in a },
                                  to: (saveModels as NSString).appendingPathComponent(file))
                }
            }
            if let report {
                var page = HTMLReport(title: "shrink compare: \(architecture), λ \(lambda)")
                page.addTraining(histories.map { ($0.name, $0.epochs) })
                try writeText(page.html(), to: report)
                print("report \(report)")
            }
        }
    }

    /// Each run in turn, as `shrink train` would.
    static func trainSeparately(_ base: TrainingConfiguration, _ runs: [(name: String, variant: ModelVariant)],
                                _ train: Dataset, _ test: Dataset?,
                                _ device: any Device, _ parallel: DataParallel? = nil) throws -> [Run] {
        try runs.map { run in
            var configuration = base
            configuration.penalty = run.variant.penalty
            configuration.optimizer = base.optimizer.with(weightDecay: run.variant.weightDecay)
            let trainer = try Trainer(device: device, configuration: configuration, variants: nil, train: train, test: test,
                                      parallel: parallel)
            var epochs: [EpochMetrics] = []
            try trainer.run { epochs.append($0) }
            return Run(name: run.name, epochs: epochs, state: try trainer.model.stateDict())
        }
    }

    /// One run's name, metrics per epoch and final parameters.
    struct Run {
        let name: String
        let epochs: [EpochMetrics]
        let state: [(name: String, tensor: Tensor)]
    }

    /// All runs at once, as one stacked model.
    static func trainBatched(_ base: TrainingConfiguration, _ runs: [(name: String, variant: ModelVariant)],
                             _ train: Dataset, _ test: Dataset?,
                             _ device: any Device, _ parallel: DataParallel? = nil) throws -> [Run] {
        let trainer = try Trainer(device: device, configuration: base, variants: runs.map(\.variant), train: train, test: test,
                                  parallel: parallel)
        var epochs: [[EpochMetrics]] = []
        try trainer.runAll { epochs.append($0) }
        return try runs.enumerated().map { m, run in
            Run(name: run.name, epochs: epochs.map { $0[m] }, state: try trainer.model.stateDict(model: m))
        }
    }

    /// One run's last epoch: mse shows test_loss and test_r2, classification test_acc and test_loss.
    static func row(_ name: String, _ m: EpochMetrics, seconds: Double) -> [String] {
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "-" }
        let test = m.trainAccuracy == nil ? [f(m.testLoss), f(m.testR2)] : [f(m.testAccuracy ?? m.trainAccuracy), f(m.testLoss)]
        return [name, f(m.loss), f(m.dataLoss)] + test + [f(m.l1), f(m.l2), "\(m.nearZero)", "\(m.zeros)",
                                                          String(format: "%.3f", seconds)]
    }

    static func table(_ rows: [[String]], regression: Bool) -> String {
        let test = regression ? ["test_loss", "test_r2"] : ["test_acc", "test_loss"]
        let header = ["run", "loss", "data_loss"] + test + ["l1", "l2", "near_zero", "zeros", "seconds"]
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

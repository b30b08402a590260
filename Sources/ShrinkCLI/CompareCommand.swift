import ArgumentParser
import Foundation
import Shrink

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "The seed's experiment: one model trained with no penalty, L1, L2, elastic net and weight decay.",
        discussion: """
            Defaults reproduce the seed note: randn(1000, 10) features with random binary labels (seed 0), \
            an 80/20 split, mlp:50, bce, sgd lr 0.01, batch 32, 20 epochs, λ = 0.01.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var modelOptions: ModelOptions<CompareDefaults>
    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "λ for every penalty and for the weight decay run.") var lambda: Float = 0.01
    @Option(help: "all | weights (biases excluded).") var penalize: Penalty.Scope = .all
    @Option(help: "Draw every run's loss curve (SVG).") var plot: String?
    @Option(help: "Write a self-contained HTML report (loss, l1/l2, nz per epoch for every run).") var report: String?
    @Flag(help: "Train all runs at once as one stacked model (one forward and backward pass for all; equal to the separate runs within float rounding).")
    var batched = false

    func validate() throws {
        try validateNonNegative("--lambda", lambda)
        if let plot { try checkOutput("--plot", plot, extensions: ["svg"]) }
        if let report { try checkOutput("--report", report, extensions: ["html"]) }
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
        let optimizerName = m.optimizer ?? "sgd"
        _ = try validated { try Optimizer(name: optimizerName, momentum: m.momentum, weightDecay: nil) }
        try reportingErrors {
            let device = try deviceOptions.open()
            let data = try dataOptions.load(seed: m.seed) ?? SyntheticData.seedDefault()
            _ = try data.outputCount(for: m.loss ?? .bce)  // before the split: rows as in the file
            let (train, test) = try data.split(testFraction: dataOptions.testSplit, seed: m.seed)
            print("device: \(device.name) [\(device.kind.rawValue)]")
            print("data: \(train.rows) training rows\(test.map { ", \($0.rows) test rows" } ?? ""), \(train.columns) features; " +
                  "model: \(architecture), loss \(m.loss ?? .bce), \(optimizerName) lr \(m.lr ?? 0.01), λ \(lambda)")
            let base = TrainingConfiguration(
                architecture: architecture, loss: m.loss ?? .bce,
                optimizer: try validated { try Optimizer(name: optimizerName, momentum: m.momentum, weightDecay: 0) },
                learningRate: m.lr ?? 0.01, epochs: m.epochs ?? 20, batchSize: m.batchSize ?? 32, shuffle: !m.noShuffle,
                seed: m.seed, sparseThreshold: m.sparseThreshold)
            let histories = try batched ? Self.trainBatched(base, runs, train, test, device)
                : Self.trainSeparately(base, runs, train, test, device)
            let rows = histories.compactMap { history in
                history.epochs.last.map { Self.row(history.name, $0, seconds: history.epochs.reduce(0) { $0 + $1.seconds }) }
            }
            if batched { print("batched: all \(runs.count) runs as one stacked model (seconds are the shared time)") }
            print(Self.table(rows))
            if let plot {
                let chart = LineChart.lossChart(title: "Training loss by regularization",
                                                curves: histories.map { ($0.name, $0.epochs.map(\.loss)) })
                try writeText(chart.svg(), to: plot)
                print("plotted \(plot)")
            }
            if let report {
                var page = HTMLReport(title: "shrink compare: \(architecture), λ \(lambda)")
                page.addTraining(histories)
                try writeText(page.html(), to: report)
                print("report \(report)")
            }
        }
    }

    /// Each run in turn, as `shrink train` would.
    static func trainSeparately(_ base: TrainingConfiguration, _ runs: [(name: String, variant: ModelVariant)],
                                _ train: Dataset, _ test: Dataset?,
                                _ device: any Device) throws -> [(name: String, epochs: [EpochMetrics])] {
        try runs.map { run in
            var configuration = base
            configuration.penalty = run.variant.penalty
            configuration.optimizer = base.optimizer.with(weightDecay: run.variant.weightDecay)
            let trainer = try Trainer(device: device, configuration: configuration, train: train, test: test)
            var epochs: [EpochMetrics] = []
            try trainer.run { epochs.append($0) }
            return (run.name, epochs)
        }
    }

    /// All runs at once, as one stacked model.
    static func trainBatched(_ base: TrainingConfiguration, _ runs: [(name: String, variant: ModelVariant)],
                             _ train: Dataset, _ test: Dataset?,
                             _ device: any Device) throws -> [(name: String, epochs: [EpochMetrics])] {
        let trainer = try Trainer(device: device, configuration: base, variants: runs.map(\.variant), train: train, test: test)
        var epochs: [[EpochMetrics]] = []
        try trainer.runAll { epochs.append($0) }
        return runs.enumerated().map { m, run in (run.name, epochs.map { $0[m] }) }
    }

    static func row(_ name: String, _ m: EpochMetrics, seconds: Double) -> [String] {
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "-" }
        return [name, f(m.loss), f(m.dataLoss), f(m.testAccuracy ?? m.trainAccuracy), f(m.l1), f(m.l2),
                "\(m.nz)", "\(m.zeros)", String(format: "%.3f", seconds)]
    }

    static func table(_ rows: [[String]]) -> String {
        let header = ["run", "loss", "data_loss", "test_acc", "l1", "l2", "nz", "zeros", "seconds"]
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

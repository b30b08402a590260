import ArgumentParser
import Foundation
import Shrink

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train one model with the given penalties and optimizer.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var modelOptions: ModelOptions<TrainDefaults>
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var standardizeOptions: StandardizeOptions

    @Option(help: "L1 strength λ: adds λ·Σ|w|.") var l1: Float?
    @Option(help: "Squared-L2 strength λ: adds λ·Σw² (Keras' l2).") var l2: Float?
    @Option(name: .customLong("l2-norm"), help: "L2-norm strength λ: adds λ·Σ‖w‖₂ per tensor (not squared).")
    var l2Norm: Float?
    @Option(help: "all | weights (biases excluded).") var penalize: Penalty.Scope = .all
    @Flag(help: "Apply L1 as a proximal soft-threshold after each step (exact zeros).") var prox = false

    @Option(help: "Initial state: a safetensors file with the model's state_dict names (0.weight, ...; a bare nn.Linear's weight/bias also).") var `init`: String?
    @Option(help: "Write the trained model: the state_dict (safetensors, F32) with what `predict` needs in its metadata.") var save: String?
    @Option(help: "Write one JSON object per epoch.") var metrics: String?
    @Option(help: "Draw the loss curve (SVG).") var plot: String?
    @Option(help: "Write a self-contained HTML report (loss, l1/l2, near_zero per epoch).") var report: String?
    @Option(help: "Save a checkpoint (parameters, optimizer state, step, RNG, data position) into this folder every epoch.")
    var checkpoint: String?
    @Option(help: "Also checkpoint every N optimizer steps.") var checkpointEvery: Int?
    @Option(help: "Continue the run saved in this checkpoint folder (same flags and data).") var resume: String?

    func validate() throws {
        for (name, value) in [("--l1", l1), ("--l2", l2), ("--l2-norm", l2Norm)] { try validateNonNegative(name, value) }
        let m = modelOptions
        let missing = [("--model", m.model == nil), ("--loss", m.loss == nil), ("--optimizer", m.optimizer == nil),
                       ("--lr", m.lr == nil), ("--epochs", m.epochs == nil)].filter(\.1).map(\.0)
        if !missing.isEmpty { throw ValidationError("missing \(missing.joined(separator: ", "))") }
        if dataOptions.data == nil, dataOptions.synthetic == nil {
            throw ValidationError("give --data FILE (with --targets for .npy) or --synthetic KIND:N:P[:K]")
        }
        if prox, (l1 ?? 0) == 0 { throw ValidationError("--prox needs --l1 > 0") }
        if let checkpointEvery, checkpointEvery <= 0 { throw ValidationError("--checkpoint-every must be > 0") }
        if checkpointEvery != nil, checkpoint == nil { throw ValidationError("--checkpoint-every needs --checkpoint DIR") }
        if let save { try checkOutput("--save", save, extensions: ["safetensors"]) }
        if let metrics { try checkOutput("--metrics", metrics) }
        if let plot { try checkOutput("--plot", plot, extensions: ["svg"]) }
        if let report { try checkOutput("--report", report, extensions: ["html"]) }
        if let checkpoint { try checkOutputFolder("--checkpoint", checkpoint) }
    }

    var trainingConfiguration: TrainingConfiguration {
        get throws {
            let m = modelOptions
            return TrainingConfiguration(
                architecture: try validated { try Architecture(parsing: m.model ?? "linear") },
                loss: m.loss ?? .mse,
                optimizer: try validated { try Optimizer(kind: m.optimizer ?? .sgd, momentum: m.momentum, weightDecay: m.weightDecay) },
                learningRate: m.lr ?? 0.01,
                penalty: Penalty(l1: l1 ?? 0, l2: l2 ?? 0, l2Norm: l2Norm ?? 0, scope: penalize, proximal: prox),
                epochs: m.epochs ?? 1, batchSize: m.batchSize ?? 0, shuffle: !m.noShuffle, seed: m.seed,
                sparseThreshold: m.sparseThreshold)
        }
    }

    func run() throws {
        let configuration = try trainingConfiguration
        try reportingErrors {
            let world = try Communicator.world()
            world.silencingOtherRanks()
            let device = try deviceOptions.open(localRank: world.localRank)
            guard let rows = try dataOptions.trainingRows(seed: configuration.seed, loss: configuration.loss,
                                                          standardize: standardizeOptions,
                                                          fingerprint: checkpoint != nil || resume != nil, world: world) else {
                return
            }
            let (train, test, standardization) = (rows.train, rows.test, rows.standardization)
            let state = try `init`.map { try SafeTensors.read(URL(fileURLWithPath: $0)) }
            let trainer = try Trainer(device: device, configuration: configuration, variants: nil, train: train, test: test,
                                      initialState: state, parallel: rows.parallel)
            // A resume needs the same training rows: the data, the split and --standardize.
            let dataHash = rows.dataHash
            if let resume {
                try trainer.restore(try Checkpoint.read(from: URL(fileURLWithPath: resume)), dataHash: dataHash)
                guard trainer.hasEpochsLeft else {  // nothing to do is not an error: exit 0, nothing written
                    let (done, asked) = (trainer.epoch, configuration.epochs)
                    print(done == asked ? "the run in \(resume) is finished (\(done) of \(asked) epochs); nothing to do"
                          : "the run in \(resume) has trained \(done) epochs, more than --epochs \(asked); nothing to do")
                    return
                }
                print("resumed from \(resume) at epoch \(trainer.epoch), step \(trainer.step)")
            }
            // Rank 0 writes every file (its state is every rank's). Every rank makes each
            // checkpoint: inside an epoch a data-parallel one sums the statistics so far.
            let checkpointFolder = world.isRoot ? checkpoint.map { URL(fileURLWithPath: $0) } : nil
            func checkpointing(_ trainer: Trainer) throws {
                if checkpoint != nil { try trainer.writeCheckpoint(to: checkpointFolder, dataHash: dataHash) }
            }
            print("device: \(device.name) [\(device.kind.rawValue)]" + (world.size > 1 ? " on each of \(world.size) ranks" : ""))
            print("data: \(rows.globalTrainRows) training rows\(rows.globalTestRows > 0 ? ", \(rows.globalTestRows) test rows" : ""), " +
                  "\(train.columns) features; model: \(configuration.architecture) (\(trainer.model.layout.totalCount) parameters)")
            if let standardization { print(StandardizeOptions.notice(standardization, sparse: train.isSparse)) }
            let sink = try metrics.flatMap { world.isRoot ? try MetricsFile(path: $0, append: resume != nil) : nil }
            let table = MetricsTable(classifies: configuration.loss != .mse, hasTest: rows.globalTestRows > 0)
            print(table.header)
            var history: [EpochMetrics] = []
            while trainer.hasEpochsLeft {
                let epoch = try trainer.runEpoch(checkpointEvery: checkpointEvery ?? 0, checkpoint: checkpointing)
                try checkpointing(trainer)
                history.append(epoch)
                try sink?.append(epoch)
                if table.shouldPrint(epoch.epoch, of: configuration.epochs) { print(table.row(epoch)) }
            }
            guard world.isRoot else { return }
            if let save {
                try saveModel(try trainer.model.stateDict(), loss: configuration.loss, data: train,
                              standardization: standardization,
                              info: ["trained_by": "shrink train", "epochs": "\(trainer.epoch)"].merging(rows.modelInfo) { a, _ in a },
                              to: save)
            }
            if let plot {
                let chart = LineChart.lossChart(title: "Training loss", curves: [(name: "loss", losses: history.map(\.loss))])
                try writeText(chart.svg(), to: plot)
                print("plotted \(plot)")
            }
            if let report {
                var page = HTMLReport(title: "shrink train: \(configuration.architecture), \(configuration.loss)")
                page.addTraining([(name: "run", epochs: history)])
                try writeText(page.html(), to: report)
                print("report \(report)")
            }
        }
    }
}

/// Writes `text` atomically (temporary file, fsync, rename).
func writeText(_ text: String, to path: String) throws {
    try AtomicFile.write(Array(text.utf8), to: URL(fileURLWithPath: path))
}

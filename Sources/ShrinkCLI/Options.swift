import ArgumentParser
import Foundation
import Shrink

extension LossKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension Penalty.Scope: ExpressibleByArgument {}

/// `--device cpu|gpu|auto|opencl:P:D` (default: $SHRINK_DEVICE, else cpu).
struct DeviceOptions: ParsableArguments {
    @Option(help: "cpu | gpu | auto | opencl:P:D (default: $SHRINK_DEVICE, else cpu).")
    var device: String?

    func validate() throws {
        _ = try selection  // a bad --device or $SHRINK_DEVICE is a usage error
    }

    private func parse(_ text: String) throws -> DeviceSelection {
        do { return try DeviceSelection(parsing: text) } catch {
            throw ValidationError("\(error)")
        }
    }

    var selection: DeviceSelection {
        get throws {
            if let device { return try parse(device) }
            do { return try DeviceSelection.fromEnvironment(default: .cpu) } catch {
                throw ValidationError("SHRINK_DEVICE: \(error)")
            }
        }
    }

    /// Opens the device, printing the fallback notice when `gpu` finds none.
    func open(localRank: Int = 0) throws -> any Device {
        try selection.makeDevice(localRank: localRank, notice: printNotice)
    }
}

/// Where the rows come from: files, a synthetic kind, or (compare) the reference PyTorch script's data.
struct DataOptions: ParsableArguments {
    @Option(help: "Features: .npy [n, p] (with --targets), CSV with a header, or sparse: svmlight .svm/.svmlight/.libsvm (labels inside) or SciPy .npz (with --targets); by extension, any case.")
    var data: String?

    @Option(help: "Targets .npy [n] for an .npy or .npz --data.")
    var targets: String?

    @Option(help: "CSV column holding the targets (default: the last).")
    var targetColumn: String?

    @OptionGroup var sparseOptions: SparseDataOptions

    @Option(help: "KIND:N:P[:K] with KIND classification or regression.")
    var synthetic: String?

    @Option(help: "Fraction of rows held out (seeded) for testing; 0 = none (default: 0.2; fit: 0).")
    var testSplit: Double?

    /// The held-out fraction: --test-split, else the command's default.
    func testFraction(default fraction: Double = 0.2) -> Double { testSplit ?? fraction }

    @Option(help: "Write which rows were held out: CSV row,set (0-based row in file order; set train or test).")
    var splitOut: String?

    func validate() throws {
        if data != nil, synthetic != nil { throw ValidationError("give either --data or --synthetic, not both") }
        if targets != nil, data == nil { throw ValidationError("--targets needs --data") }
        try sparseOptions.check(data: data, targets: targets, targetColumn: targetColumn)
        if let testSplit, !(testSplit >= 0 && testSplit < 1) {
            throw ValidationError("--test-split must be in [0, 1), got \(testSplit)")
        }
        if let splitOut { try checkOutput("--split-out", splitOut, extensions: ["csv"]) }
        if let synthetic { try validated { try SyntheticData.check(synthetic) } }
    }

    /// The seeded split of `data` by `--test-split` (`Dataset.split`'s rows), written to
    /// `--split-out` when given.
    func split(_ data: Dataset, seed: UInt64, default fraction: Double = 0.2) throws -> (train: Dataset, test: Dataset?) {
        let (train, test) = try data.splitIndices(testFraction: testFraction(default: fraction), seed: seed)
        if let splitOut { try writeText(Dataset.splitCSV(rows: data.rows, test: test), to: splitOut) }
        return test.isEmpty ? (data, nil) : (data.subset(train), data.subset(test))
    }

    /// The dataset, or nil when no data flag was given; with `loss`, its labels mapped to
    /// classes (`Dataset.encodingClasses(for:)`).
    func load(seed: UInt64, loss: LossKind? = nil) throws -> Dataset? {
        try loadRecording(seed: seed, loss: loss)?.data
    }

    /// `load`, with what a model file trained on the data records of how it was read
    /// (`svmlight_zero_based`: `predict` and `evaluate` read svmlight rows the same way).
    func loadRecording(seed: UInt64, loss: LossKind? = nil) throws -> (data: Dataset, modelInfo: [String: String])? {
        var set: Dataset
        var info: [String: String] = [:]
        if let data {
            let url = URL(fileURLWithPath: data)
            let loaded = try DataLoader.loadFile(data: url, targets: targets.map { URL(fileURLWithPath: $0) },
                                                 targetColumn: targetColumn, sparse: sparseOptions.readOptions)
            set = loaded.data
            if let zeroBased = loaded.svmlightZeroBased { info[svmlightZeroBasedKey] = "\(zeroBased)" }
            let csv = DataFormat(url: url) == .csv
            try set.validateFinite(featuresPath: data, targetsPath: targets ?? data, headerLines: csv ? 1 : 0)
        } else if let synthetic {
            set = try SyntheticData.make(synthetic, seed: seed)
        } else {
            return nil
        }
        if let loss { set = try set.encodingClasses(for: loss) }
        return (set, info)
    }
}

/// What `--help` says of a `ModelOptions` flag the command requires or fills in later.
protocol ModelDefaults {
    /// Per flag name: "(required)" or "(default: X)".
    static var notes: [String: String] { get }
}

/// `train`: model, loss, optimizer, lr and epochs are required.
enum TrainDefaults: ModelDefaults {
    static let notes = ["model": "(required)", "loss": "(required)", "optimizer": "(required)", "lr": "(required)",
                        "epochs": "(required)", "batch-size": "(default: 0)"]
}

/// `compare`: the settings of the PyTorch script compare reproduces.
enum CompareDefaults: ModelDefaults {
    static let notes = ["model": "(default: mlp:50)", "loss": "(default: bce)", "optimizer": "(default: sgd)",
                        "lr": "(default: 0.01)", "epochs": "(default: 20)", "batch-size": "(default: 32)"]
}

/// Model and optimizer flags, shared by `train` and `compare`; `Defaults` gives each
/// command's help its own required flags and defaults (applied where the command builds
/// its configuration).
struct ModelOptions<Defaults: ModelDefaults>: ParsableArguments {
    private static func help(_ text: String, _ flag: String) -> ArgumentHelp {
        ArgumentHelp(Defaults.notes[flag].map { "\(text) \($0)" } ?? text)
    }

    @Option(help: help("linear | mlp:H1,H2,...", "model"))
    var model: String?

    @Option(help: help("mse | bce | ce", "loss"))
    var loss: LossKind?

    @Option(help: help("torch.optim's SGD, Adam or AdamW.", "optimizer"))
    var optimizer: OptimizerKind?

    @Option(help: help("Learning rate, > 0.", "lr"))
    var lr: Float?

    @Option(help: "SGD momentum in [0, 1). (default: 0)")
    var momentum: Float?

    @Option(help: "Weight decay (sgd/adam: added to the gradient; adamw: decoupled). (default: 0; adamw 0.01)")
    var weightDecay: Float?

    @Option(help: help("Epochs.", "epochs"))
    var epochs: Int?

    @Option(help: help("Rows per step; 0 = full batch.", "batch-size"))
    var batchSize: Int?

    @Flag(help: "Keep the row order (else reshuffled every epoch from --seed).")
    var noShuffle = false

    @Option(help: "Seed for init, shuffles, the test split and synthetic data.")
    var seed: UInt64 = 0

    @Option(help: "near_zero counts the penalized parameters with |w| < max|w| × this (not the nonzeros path counts).")
    var sparseThreshold: Float = 0.0005

    func validate() throws {
        if let model { _ = try validated { try Architecture(parsing: model) } }
        if let optimizer { _ = try validated { try Optimizer(kind: optimizer, momentum: momentum, weightDecay: weightDecay) } }
        try validatePositive("--lr", lr)
        try validateNonNegative("--weight-decay", weightDecay)
        if let momentum, !(momentum >= 0 && momentum < 1) {
            throw ValidationError("--momentum must be in [0, 1), got \(formatted(momentum))")
        }
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be > 0, got \(epochs)") }
        if let batchSize, batchSize < 0 { throw ValidationError("--batch-size must be ≥ 0, got \(batchSize)") }
        try validateNonNegative("--sparse-threshold", sparseThreshold)
    }
}

/// Turns a library configuration error into a usage error (exit 64).
func validated<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw ValidationError("\(error)") }
}

/// Checks a flag that must be finite and ≥ 0 (λ, weight decay).
func validateNonNegative(_ name: String, _ value: Float?) throws {
    if let value, !(value.isFinite && value >= 0) {
        throw ValidationError("\(name) must be a finite number ≥ 0, got \(formatted(value))")
    }
}

/// Checks a flag that must be finite and > 0 (lr).
func validatePositive(_ name: String, _ value: Float?) throws {
    if let value, !(value.isFinite && value > 0) {
        throw ValidationError("\(name) must be a finite number > 0, got \(formatted(value))")
    }
}

/// A flag's value as the user would write it: 0 and -1, not 0.0 and -1.0.
func formatted(_ value: Float) -> String {
    let text = "\(value)"
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

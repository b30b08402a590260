import ArgumentParser
import Foundation
import Shrink

/// The model file and the rows to apply it to, shared by `predict` and `evaluate`.
struct ModelInputOptions: ParsableArguments {
    @Option(help: "A model file Shrink saved (train/fit --save, path --save-best, compare --save-models), or a safetensors state dict (then give --loss). (required)")
    var model: String

    @Option(help: "Rows: .npy [n, p], CSV with a header (the model's feature columns are taken by name; other columns are ignored), or sparse: svmlight .svm/.svmlight/.libsvm or SciPy .npz, widened to the model's width when narrower. (required)")
    var data: String

    @Option(help: "Targets .npy [n] for an .npy or .npz --data (evaluate).")
    var targets: String?

    @Option(help: "CSV column holding the targets (default: the model's target column, else the last).")
    var targetColumn: String?

    @Option(help: "mse | bce | ce: only for a model file without Shrink metadata (one PyTorch wrote).")
    var loss: LossKind?

    @OptionGroup var sparseOptions: SparseDataOptions

    func validate() throws {
        try sparseOptions.check(data: data, targets: targets, targetColumn: targetColumn)
    }

    /// The model file, its loss filled in from --loss when the file has none.
    func loadModel() throws -> ModelFile {
        var file = try ModelFile.read(URL(fileURLWithPath: model))
        if let loss {
            if let saved = file.loss, saved != loss {
                throw DataError.invalid("--loss \(loss) but the model was trained with \(saved)")
            }
            file.loss = loss
            // Fails when the tensors cannot be a model of this loss.
            file = try ModelFile(tensors: file.tensors, loss: loss, classNames: file.classNames,
                                 featureNames: file.featureNames, targetName: file.targetName,
                                 standardization: file.standardization, info: file.info)
        }
        return file
    }

    /// The rows, with the model's features (by name from a CSV that has them) and the targets
    /// when present (required with `needTargets`).
    func loadRows(for file: ModelFile, needTargets: Bool) throws -> (data: Dataset, hasTargets: Bool) {
        let url = URL(fileURLWithPath: data)
        try DataLoader.requireFile(url)
        if let targets { try DataLoader.requireFile(URL(fileURLWithPath: targets)) }
        var loaded: (data: Dataset, hasTargets: Bool)
        switch url.pathExtension.lowercased() {
        case "csv":
            guard targets == nil else { throw DataError.invalid("--targets applies to .npy data; a CSV holds its target column") }
            let column = targetColumn ?? file.targetName
            if let names = file.featureNames {
                loaded = try CSVLoader.load(url, features: names, targetColumn: column, targetRequired: needTargets && column != nil)
            } else if let column {
                loaded = try CSVLoader.load(url, features: nil, targetColumn: column, targetRequired: true)
            } else {
                loaded = try CSVLoader.load(url, features: nil, targetColumn: nil, targetRequired: false)
                if needTargets || loaded.data.columns == file.inputs + 1 {
                    // No names to go by: as `train` reads a CSV, the last column is the target.
                    loaded = try CSVLoader.load(url, features: nil, targetColumn: nil, targetRequired: true)
                }
            }
            if needTargets, !loaded.hasTargets {
                throw DataError.invalid("\(data): no target column to evaluate against (give --target-column NAME)")
            }
        case "svm", "svmlight", "libsvm":
            // The labels are in the file: predict ignores them, evaluate scores against them.
            loaded = (try DataLoader.load(data: url, targets: nil, targetColumn: nil, sparse: sparseOptions.readOptions(for: file)), true)
        case "npz":
            if let targets {
                loaded = (try DataLoader.load(data: url, targets: URL(fileURLWithPath: targets), targetColumn: nil,
                                              sparse: sparseOptions.readOptions), true)
            } else if needTargets {
                throw DataError.invalid("\(data): .npz rows need --targets y.npy to be evaluated")
            } else {
                var x = try SciPySparse.read(url)
                if let width = sparseOptions.nFeatures { x = try DataLoader.widened(x, to: width, path: data, flag: "--n-features") }
                guard x.rows > 0 else { throw DataError.malformed(path: url.path, reason: "no rows (shape [0, \(x.columns)])") }
                loaded = (try Dataset(sparse: x, targets: [Float](repeating: 0, count: x.rows)), false)
            }
        case "npy":
            let x = try NPY.read(url)
            guard x.shape.count == 2 || x.shape.count == 1, x.shape[0] > 0 else {
                throw DataError.malformed(path: url.path, reason: "X must be 2-D [n, p], got shape \(x.shape)")
            }
            let rows = x.shape[0], columns = x.shape.count == 2 ? x.shape[1] : 1
            var values = [Float](repeating: 0, count: rows)
            if let targets {
                let y = try NPY.read(URL(fileURLWithPath: targets))
                guard y.shape.first == rows, y.values.count == rows else {
                    throw DataError.invalid("X has \(rows) rows (\(url.lastPathComponent)) but y has shape \(y.shape) (\(targets))")
                }
                values = y.values
            } else if needTargets {
                throw DataError.invalid("\(data): .npy rows need --targets y.npy to be evaluated")
            }
            loaded = (try Dataset(features: x.values, targets: values, rows: rows, columns: columns), targets != nil)
        default:
            throw DataError.invalid("\(data): unknown data format '.\(url.pathExtension)' (expected \(DataFormat.extensionList))")
        }
        if loaded.data.isSparse, loaded.data.columns < file.inputs {
            // An svmlight file is as wide as its largest index: the columns after it are empty.
            loaded.data = try DataLoader.widened(loaded.data, to: file.inputs, path: data, flag: "the model's")
        } else if loaded.data.isSparse, loaded.data.columns > file.inputs {
            throw DataError.invalid("\(data): \(loaded.data.columns) features, more than the model's \(file.inputs)")
        }
        try loaded.data.validateFinite(featuresPath: data, targetsPath: targets ?? data,
                                       headerLines: targets == nil && url.pathExtension.lowercased() == "csv" ? 1 : 0)
        try file.checkFeatures(of: loaded.data)
        return loaded
    }
}

/// `shrink predict`: a saved model applied to new rows.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Apply a saved model to new rows: values (mse), class labels (bce, ce) or, with --proba, class probabilities.",
        discussion: """
            The model file's metadata gives the loss, the class labels (as they were in the training \
            data: numbers or text), the feature names (a CSV's columns are matched by name) and the \
            standardization to apply. Without --out the predictions are printed as CSV.
            """)

    @OptionGroup var input: ModelInputOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(help: "Write the predictions: .csv (a header, one row per input row) or .npy (float32; --proba: [n, classes]).")
    var out: String?
    @Flag(help: "Class probabilities (scikit-learn's predict_proba: one column per class) instead of labels.")
    var proba = false

    func validate() throws {
        if let out {
            try checkOutput("--out", out, extensions: ["csv", "npy"])
        }
    }

    func run() throws {
        if try otherRanksStandAside("predict") { return }
        try reportingErrors {
            let file = try input.loadModel()
            let (data, _) = try input.loadRows(for: file, needTargets: false)
            if proba, file.loss == .mse { throw DataError.invalid("--proba needs a classifier (bce or ce); this model is mse") }
            let device = try deviceOptions.open()
            let prediction = try file.predict(data, device: device)
            let classes = prediction.classNames
            let toNPY = out.map { URL(fileURLWithPath: $0).pathExtension.lowercased() == "npy" } ?? false
            if toNPY, let out {
                let array: NPYArray
                if proba {
                    array = NPYArray(shape: [data.rows, classes.count], values: prediction.probabilities.map(Float.init))
                } else if file.loss == .mse {
                    array = NPYArray(shape: [data.rows], values: prediction.values.map(Float.init))
                } else {
                    let numbers = classes.map { Float($0) }
                    guard numbers.allSatisfy({ $0 != nil }) else {
                        throw DataError.invalid("the class labels are text (\(classes.prefix(3).joined(separator: ", "))...): write --out FILE.csv, or --proba to .npy")
                    }
                    array = NPYArray(shape: [data.rows], values: prediction.classIndices.map { numbers[$0]! })
                }
                try NPY.write(array, to: URL(fileURLWithPath: out))
            } else {
                let name = file.targetName ?? "prediction"
                var lines = [([name] + (proba ? classes.map { "proba_\($0)" } : [])).map(CSVLoader.field).joined(separator: ",")]
                let labels = prediction.labels, probabilities = prediction.probabilities
                for r in 0..<data.rows {
                    var cells = [CSVLoader.field(labels[r])]
                    if proba { cells += (0..<classes.count).map { "\(probabilities[r * classes.count + $0])" } }
                    lines.append(cells.joined(separator: ","))
                }
                let text = lines.joined(separator: "\n") + "\n"
                if let out { try writeText(text, to: out) } else { FileHandle.standardOutput.write(Data(text.utf8)) }
            }
            if let out {
                print("device: \(device.name) [\(device.kind.rawValue)]")
                print("predicted \(data.rows) rows (\(file.loss!)\(proba ? ", probabilities" : "")): wrote \(out)")
            }
        }
    }
}

import ArgumentParser
import Foundation
import Shrink

extension SVMLight.IndexBase: ExpressibleByArgument {}

/// The model-file metadata key saying whether the svmlight file a model was trained on was read
/// as zero-based ("true"/"false"); `predict` and `evaluate` read svmlight rows so unless
/// `--zero-based` is given.
let svmlightZeroBasedKey = "svmlight_zero_based"

/// `--zero-based` and `--n-features`: how a sparse `--data` file is read (every command that
/// takes `--data`). Both are usage errors with dense data or without `--data`, and
/// `--zero-based` with an `.npz` (whose indices count from 0 by definition).
struct SparseDataOptions: ParsableArguments {
    @Option(help: "svmlight --data only: true = indices count from 0, false = from 1; auto: zero-based when some index is 0, else one-based (scikit-learn's load_svmlight_file). (default: auto; predict, evaluate: as the model's svmlight training data was read, else auto)")
    var zeroBased: SVMLight.IndexBase?

    @Option(help: "Sparse --data only: the number of features. svmlight: an index at or beyond it is an error (default: the largest index + 1); .npz: at least the file's width, widened with empty columns.")
    var nFeatures: Int?

    /// What the loader takes.
    var readOptions: SparseReadOptions { SparseReadOptions(indexBase: zeroBased ?? .auto, features: nFeatures) }

    /// What the loader takes for rows a `model` is applied to: without `--zero-based`, the index
    /// base its svmlight training data was read with (`auto` for other models).
    func readOptions(for model: ModelFile) -> SparseReadOptions {
        var options = readOptions
        if zeroBased == nil, let saved = model.info[svmlightZeroBasedKey] {
            options.indexBase = saved == "true" ? .zero : .one
        }
        return options
    }

    /// The usage errors: a flag with no sparse `--data` to apply to, `--n-features` < 1, and
    /// targets from outside an svmlight file (its labels are inside) or a CSV column of an
    /// `.npz`. `data` is the `--data` path; an unknown extension is left to the loader's error.
    func check(data: String?, targets: String?, targetColumn: String?) throws {
        if let data, let format = DataFormat(path: data) {
            if format == .svmlight {
                for (flag, given) in [("--targets", targets != nil), ("--target-column", targetColumn != nil)] where given {
                    throw ValidationError("\(flag): an svmlight file holds its labels (the first number of each line), \(data)")
                }
            }
            if format == .npz, targetColumn != nil {
                throw ValidationError("--target-column applies to CSV data; the targets of an .npz come from --targets y.npy")
            }
        }
        if let nFeatures, nFeatures < 1 { throw ValidationError("--n-features must be at least 1, got \(nFeatures)") }
        let given = [("--zero-based", zeroBased != nil), ("--n-features", nFeatures != nil)].filter(\.1).map(\.0)
        guard let flag = given.first else { return }
        guard let data else { throw ValidationError("\(flag) needs sparse --data (.svm, .svmlight, .libsvm or .npz)") }
        guard let format = DataFormat(path: data) else { return }
        if !format.isSparse {
            throw ValidationError("\(flag) applies to sparse data (.svm, .svmlight, .libsvm, .npz), not the .\(format.rawValue) file \(data)")
        }
        if format == .npz, zeroBased != nil {
            throw ValidationError("--zero-based applies to svmlight files; the indices of an .npz (\(data)) count from 0")
        }
    }
}

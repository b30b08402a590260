import Foundation

/// A data file's format, from its extension (case-insensitive).
public enum DataFormat: String, Sendable, CaseIterable {
    /// CSV with a header; the target is one of its columns.
    case csv
    /// NumPy `.npy` X [n, p]; the targets come from another `.npy`.
    case npy
    /// svmlight / libsvm text (`.svm`, `.svmlight`, `.libsvm`): the label starts each line.
    case svmlight
    /// SciPy sparse `.npz` (`scipy.sparse.save_npz`); the targets come from an `.npy`.
    case npz

    /// The format `url`'s extension names, or nil for an unknown one.
    public init?(url: URL) {
        switch url.pathExtension.lowercased() {
        case "csv": self = .csv
        case "npy": self = .npy
        case "svm", "svmlight", "libsvm": self = .svmlight
        case "npz": self = .npz
        default: return nil
        }
    }

    public init?(path: String) { self.init(url: URL(fileURLWithPath: path)) }

    /// Whether the rows load as a sparse (CSR) dataset, never densified.
    public var isSparse: Bool { self == .svmlight || self == .npz }

    /// Whether the targets come from another file (`--targets`) rather than the data file.
    public var takesTargetsFile: Bool { self == .npy || self == .npz }

    /// The extensions recognised, for messages.
    public static let extensionList = ".npy, .csv, .svm, .svmlight, .libsvm or .npz"
}

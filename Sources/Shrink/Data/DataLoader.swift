import Foundation

/// How a sparse file is read: svmlight's index base and the width (`--zero-based`, `--n-features`).
public struct SparseReadOptions: Sendable, Equatable {
    /// svmlight only: whether indices count from 0; `.auto` as scikit-learn decides it.
    public var indexBase: SVMLight.IndexBase
    /// The number of features. svmlight: an index at or beyond it is an error (default: the
    /// largest index + 1). `.npz`: at least the file's width, which it widens with empty columns.
    public var features: Int?

    public init(indexBase: SVMLight.IndexBase = .auto, features: Int? = nil) {
        self.indexBase = indexBase
        self.features = features
    }
}

/// Loads a dataset from files: `.npy` features (with `.npy` targets), one CSV, an svmlight
/// file (labels inside) or a SciPy sparse `.npz` (with `.npy` targets). The format follows the
/// extension, case-insensitive (`DataFormat`); the sparse formats load as a sparse dataset.
public enum DataLoader {
    /// A loaded file: the dataset, and for an svmlight file whether its indices were read as
    /// zero-based (`--zero-based auto` decides per file: a model trained on one file records it,
    /// so that `predict` reads later files the same way).
    public struct Loaded: Sendable {
        public var data: Dataset
        public var svmlightZeroBased: Bool?
    }

    public static func load(data: URL, targets: URL?, targetColumn: String?,
                            sparse options: SparseReadOptions = SparseReadOptions()) throws -> Dataset {
        try loadFile(data: data, targets: targets, targetColumn: targetColumn, sparse: options).data
    }

    /// `load`, with what was decided while reading (`Loaded.svmlightZeroBased`).
    public static func loadFile(data: URL, targets: URL?, targetColumn: String?,
                                sparse options: SparseReadOptions = SparseReadOptions()) throws -> Loaded {
        switch try format(of: data, targets: targets, targetColumn: targetColumn, sparse: options) {
        case .csv:
            return Loaded(data: try CSVLoader.load(data, targetColumn: targetColumn))
        case .npy:
            let targets = targets!  // checked by `format`
            let x = try NPY.read(data)
            let y = try readTargets(targets)
            guard x.shape.count == 1 || x.shape.count == 2 else {
                throw DataError.malformed(path: data.path, reason: "X must be 2-D [n, p], got shape \(x.shape)")
            }
            let rows = x.shape[0], columns = x.shape.count == 2 ? x.shape[1] : 1
            guard y.count == rows else {
                throw DataError.invalid("X has \(rows) rows (\(data.lastPathComponent)) but y has \(y.count) (\(targets.lastPathComponent))")
            }
            guard rows > 0, columns > 0 else { throw DataError.invalid("\(data.path): no rows or no features (shape \(x.shape))") }
            return Loaded(data: try Dataset(features: x.values, targets: y, rows: rows, columns: columns))
        case .svmlight:
            let file = try SVMLight.read(data, indexBase: options.indexBase, features: options.features)
            return Loaded(data: try Dataset(sparse: file.matrix, targets: file.targets), svmlightZeroBased: file.zeroBased)
        case .npz:
            let targets = targets!  // checked by `format`
            var x = try SciPySparse.read(data)
            let y = try readTargets(targets)
            guard y.count == x.rows else {
                throw DataError.invalid("X has \(x.rows) rows (\(data.lastPathComponent)) but y has \(y.count) (\(targets.lastPathComponent))")
            }
            if let width = options.features { x = try widened(x, to: width, path: data.path, flag: "--n-features") }
            guard x.rows > 0, x.columns > 0 else {
                throw DataError.malformed(path: data.path, reason: "no rows or no features (shape [\(x.rows), \(x.columns)])")
            }
            return Loaded(data: try Dataset(sparse: x, targets: y))
        }
    }

    /// Throws the one-line error for a path that names no file, or a folder (before its
    /// extension is looked at, or a reader's less direct message).
    public static func requireFile(_ url: URL) throws {
        var folder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &folder) else {
            throw DataError.unreadable(path: url.path, reason: String(cString: strerror(ENOENT)))
        }
        if folder.boolValue { throw DataError.unreadable(path: url.path, reason: String(cString: strerror(EISDIR))) }
    }

    /// `data`'s format by its extension, after the checks that need no reading: a known
    /// extension; `--zero-based`/`--n-features` only with sparse data; the targets where the
    /// format takes them from (a CSV column, an svmlight file's labels, `--targets` for `.npy`
    /// and `.npz`); `--zero-based` not with `.npz`. Whole files and row shards share them.
    static func format(of data: URL, targets: URL?, targetColumn: String?,
                       sparse options: SparseReadOptions) throws -> DataFormat {
        try requireFile(data)
        if let targets { try requireFile(targets) }
        guard let format = DataFormat(url: data) else {
            throw DataError.invalid("\(data.path): unknown data format '.\(data.pathExtension)' (expected \(DataFormat.extensionList))")
        }
        if !format.isSparse, options != SparseReadOptions() {
            throw DataError.invalid("\(data.path): --zero-based and --n-features apply to sparse data (.svm, .svmlight, .libsvm, .npz)")
        }
        switch format {
        case .csv:
            guard targets == nil else { throw DataError.invalid("--targets applies to .npy data; a CSV holds its target column") }
        case .npy:
            guard targets != nil else { throw DataError.invalid("\(data.path): .npy features need --targets y.npy") }
        case .svmlight:
            guard targets == nil, targetColumn == nil else {
                throw DataError.invalid("\(data.path): an svmlight file holds its labels (the first number of each line); " +
                                        "drop --targets and --target-column")
            }
        case .npz:
            guard targetColumn == nil else { throw DataError.invalid("--target-column applies to CSV data; give --targets y.npy") }
            guard targets != nil else { throw DataError.invalid("\(data.path): .npz features need --targets y.npy") }
            if options.indexBase != .auto {
                throw DataError.invalid("\(data.path): --zero-based applies to svmlight files; .npz indices count from 0")
            }
        }
        return format
    }

    /// y [n] (or [n, 1]) from an `.npy` file.
    private static func readTargets(_ url: URL) throws -> [Float] {
        let y = try NPY.read(url)
        guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
            throw DataError.malformed(path: url.path, reason: "y must be 1-D [n], got shape \(y.shape)")
        }
        return y.values
    }

    /// `matrix` with empty columns appended up to `width`; an error naming both widths when the
    /// matrix is wider (`what` names where `width` came from: a flag, the model).
    public static func widened(_ matrix: SparseMatrix, to width: Int, path: String, flag what: String) throws -> SparseMatrix {
        guard width >= 1 else { throw DataError.invalid("\(what) must be at least 1, got \(width)") }
        guard matrix.columns <= width else {
            throw DataError.invalid("\(path): \(matrix.columns) features, more than \(what) \(width)")
        }
        guard matrix.columns < width else { return matrix }
        return try SparseMatrix(rows: matrix.rows, columns: width, rowStarts: matrix.rowStarts,
                                columnIndices: matrix.columnIndices, values: matrix.values)
    }

    /// `data` with empty columns appended up to `width` when sparse (labels and names kept); a
    /// dense dataset as it is.
    public static func widened(_ data: Dataset, to width: Int, path: String, flag what: String) throws -> Dataset {
        guard let sparse = data.sparse else { return data }
        var wide = try Dataset(sparse: try widened(sparse, to: width, path: path, flag: what), targets: data.targets)
        wide.classNames = data.classNames
        wide.targetName = data.targetName
        wide.featureNames = data.featureNames?.count == width ? data.featureNames : nil
        return wide
    }
}

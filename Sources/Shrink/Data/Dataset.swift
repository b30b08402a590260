/// Rows of features with one target each: the features either dense, row-major [rows,
/// columns], or sparse (CSR, `sparse`), and targets [rows].
///
/// A sparse dataset never holds a dense copy: `features` is the dense route only, and traps
/// on a sparse dataset (a code path that forgot `sparse` is a bug to find in tests, not a
/// silent 800 GB allocation). Code that takes either checks `sparse` first.
public struct Dataset: Sendable, Equatable {
    private var dense: [Float]
    /// The features in CSR form; nil for a dense dataset.
    public private(set) var sparse: SparseMatrix?
    public var targets: [Float]
    public let rows: Int
    public let columns: Int
    /// The feature names (a CSV header without the target column); nil when the file has none.
    public var featureNames: [String]?
    /// The class label values as the user wrote them, in `LabelEncoder` order (sorted);
    /// when set, `targets` hold class indices 0..<k into it. Set by a CSV loader for a text
    /// target column and by `encodingClasses(for:)`.
    public var classNames: [String]?
    /// The name of the target column (CSV); nil when the file has none.
    public var targetName: String?

    /// Throws unless features hold rows × columns values and targets hold rows.
    public init(features: [Float], targets: [Float], rows: Int, columns: Int) throws {
        guard rows >= 0, columns > 0, features.count == rows * columns else {
            throw DataError.invalid("features hold \(features.count) values, expected \(rows) rows × \(columns) columns")
        }
        guard targets.count == rows else {
            throw DataError.invalid("X has \(rows) rows but y has \(targets.count) values")
        }
        dense = features
        sparse = nil
        self.targets = targets
        self.rows = rows
        self.columns = columns
    }

    /// A sparse dataset: `features` in CSR form, one target per row.
    public init(sparse features: SparseMatrix, targets: [Float]) throws {
        guard features.columns > 0 else { throw DataError.invalid("the sparse features have no columns") }
        guard targets.count == features.rows else {
            throw DataError.invalid("X has \(features.rows) rows but y has \(targets.count) values")
        }
        dense = []
        sparse = features
        self.targets = targets
        rows = features.rows
        columns = features.columns
    }

    /// The dense features, row-major [rows, columns]. Traps on a sparse dataset (see the type's note).
    public var features: [Float] {
        get {
            precondition(sparse == nil, "dense features asked of a sparse dataset")
            return dense
        }
        set {
            precondition(sparse == nil, "dense features set on a sparse dataset")
            dense = newValue
        }
    }

    public var isSparse: Bool { sparse != nil }

    /// The same rows with dense features (for tests and small data: rows × columns Floats).
    public func densified() -> Dataset {
        guard let sparse else { return self }
        var copy = try! Dataset(features: sparse.dense(), targets: targets, rows: rows, columns: columns)
        copy.featureNames = featureNames
        copy.classNames = classNames
        copy.targetName = targetName
        return copy
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        var subset: Dataset
        // Sizes agree by construction.
        if let sparse {
            subset = try! Dataset(sparse: sparse.selectingRows(indices), targets: indices.map { targets[$0] })
        } else {
            var x = [Float]()
            x.reserveCapacity(indices.count * columns)
            for r in indices { x += dense[(r * columns)..<((r + 1) * columns)] }
            subset = try! Dataset(features: x, targets: indices.map { targets[$0] }, rows: indices.count, columns: columns)
        }
        subset.featureNames = featureNames
        subset.classNames = classNames
        subset.targetName = targetName
        return subset
    }

    /// A seeded shuffle split like scikit-learn's `train_test_split`: ⌈f·n⌉ rows go to the
    /// test set (none when f = 0), the rest to training, both in shuffled order.
    public func split(testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset?) {
        let (train, test) = try splitIndices(testFraction: testFraction, seed: seed)
        return test.isEmpty ? (self, nil) : (subset(train), subset(test))
    }

    /// The row indices (0-based, in file order's numbering) of `split`'s training and test
    /// sets, each in its shuffled order; with f = 0 every row trains, in file order.
    public func splitIndices(testFraction: Double, seed: UInt64) throws -> (train: [Int], test: [Int]) {
        try Self.splitIndices(rows: rows, testFraction: testFraction, seed: seed)
    }

    /// `splitIndices` for `rows` rows, without the data (what each rank of a job computes alike).
    public static func splitIndices(rows: Int, testFraction: Double, seed: UInt64) throws -> (train: [Int], test: [Int]) {
        guard testFraction >= 0, testFraction < 1 else {
            throw DataError.invalid("the test fraction must be in [0, 1), got \(testFraction)")
        }
        guard testFraction > 0 else { return (Array(0..<rows), []) }
        let testRows = Int((testFraction * Double(rows)).rounded(.up))
        guard testRows < rows else {
            throw DataError.invalid("a test fraction of \(testFraction) leaves no training rows out of \(rows)")
        }
        var rng = SeededGenerator(seed: seed ^ 0x5350_4C49_54)
        let order = rng.permutation(rows)
        return (Array(order[testRows...]), Array(order[..<testRows]))
    }

    /// The split as CSV `row,set`: one line per row of `rows` in file order, `row` 0-based
    /// (numpy's index), `set` `train` or `test` (`X[split.set == "test"]` selects the test rows).
    public static func splitCSV(rows: Int, test: [Int]) -> String {
        var isTest = [Bool](repeating: false, count: rows)
        for r in test { isTest[r] = true }
        var text = "row,set\n"
        for r in 0..<rows { text += "\(r),\(isTest[r] ? "test" : "train")\n" }
        return text
    }

    /// Throws on the first NaN or Inf, naming the file, its row and column (1-based) and how
    /// many rows hold one, as the parse errors do. `featuresPath`/`targetsPath` name the files
    /// (the same CSV for both; `headerLines` 1 counts rows as the CSV parse errors do, header included).
    public func validateFinite(featuresPath: String? = nil, targetsPath: String? = nil, headerLines: Int = 0) throws {
        func place(_ path: String?, row: Int) -> String {
            (path.map { "\($0): " } ?? "") + "row \(row + headerLines + 1)"
        }
        if let sparse, let i = sparse.values.firstIndex(where: { !$0.isFinite }) {
            var bad = Set<Int>()
            for r in 0..<rows where sparse.values[sparse.rowStarts[r]..<sparse.rowStarts[r + 1]].contains(where: { !$0.isFinite }) {
                bad.insert(r)
            }
            let row = sparse.rowStarts.lastIndex { $0 <= i }!
            throw DataError.invalid("\(place(featuresPath, row: row)), column \(sparse.columnIndices[i] + 1): " +
                                    "\(sparse.values[i]) in X (\(bad.count) of \(rows) rows hold NaN or Inf)")
        }
        if sparse == nil, let i = dense.firstIndex(where: { !$0.isFinite }) {
            var bad = Set<Int>()
            for (j, v) in dense.enumerated() where !v.isFinite { bad.insert(j / columns) }
            let column = featureNames.map { "'\($0[i % columns])'" } ?? "\(i % columns + 1)"
            throw DataError.invalid("\(place(featuresPath, row: i / columns)), column \(column): \(dense[i]) in X " +
                                    "(\(bad.count) of \(rows) rows hold NaN or Inf)")
        }
        if let r = targets.firstIndex(where: { !$0.isFinite }) {
            let count = targets.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            throw DataError.invalid("\(place(targetsPath, row: r)): \(targets[r]) in y (\(count) of \(rows) rows hold NaN or Inf)")
        }
    }
}

import Foundation

/// Per-column standardization x ↦ (x − mean)/scale, as scikit-learn's `StandardScaler`:
/// the mean and the population standard deviation (ddof 0) of each column, a column
/// without variance scaled by 1. Fitted on the training rows only and applied to every set;
/// a model file carries it in its `__metadata__` (`standardize_mean`, `standardize_scale`)
/// so that its tensors reproduce the predictions on raw data.
///
/// Sparse data is never centered (that would fill every zero): `apply(to:)` scales a CSR
/// matrix's stored values only, and so takes a standardization without means — scikit-learn's
/// `StandardScaler(with_mean=False)`, the means stored as 0: `Standardization(fitting:)
/// .scalingOnly()`. That is what `train --standardize` uses on sparse data; a model trained so
/// saves means 0 and predicts dense and sparse data alike. A model whose standardization has
/// means (trained on dense data) predicts sparse data with the standardization folded into its
/// first layer instead (`ModelFile.predict`: W/s, b − (W/s)·μ), never centering the matrix.
public struct Standardization: Sendable, Equatable {
    public let means: [Double]
    public let scales: [Double]

    /// The metadata keys: JSON arrays of numbers, one per feature.
    public static let meanKey = "standardize_mean"
    public static let scaleKey = "standardize_scale"

    /// Throws unless there is one scale per mean, every mean finite and every scale finite and > 0.
    public init(means: [Double], scales: [Double]) throws {
        guard means.count == scales.count, !means.isEmpty else {
            throw DataError.invalid("standardization: \(means.count) means but \(scales.count) scales")
        }
        if let j = means.firstIndex(where: { !$0.isFinite }) {
            throw DataError.invalid("standardization: mean \(j + 1) is \(means[j])")
        }
        if let j = scales.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw DataError.invalid("standardization: scale \(j + 1) is \(scales[j]), must be finite and > 0")
        }
        self.means = means
        self.scales = scales
    }

    /// Each column's mean and population standard deviation over `data`'s rows, in Double
    /// (two passes); a column with zero variance gets scale 1.
    public init(fitting data: Dataset) {
        (means, scales) = Self.statistics(data) { _ in }
    }

    /// The means and scales of `data`'s rows and of the rows that `reduce` adds: it turns
    /// this process's sums (per column, then the row count) into the sums over every process
    /// of a job (`Standardization(fitting:communicator:)`), once for the means and once for
    /// the squared deviations about them; the identity for one process. Sparse data is
    /// summed over its stored entries: each column's n − count implicit zeros add count·mean².
    static func statistics(_ data: Dataset, reduce: (inout [Double]) throws -> Void) rethrows
        -> (means: [Double], scales: [Double]) {
        let (n, p) = (data.rows, data.columns)
        var sums = [Double](repeating: 0, count: p + 1)
        sums[p] = Double(n)
        var counts = [Int](repeating: 0, count: p)  // stored entries per column (sparse)
        if let x = data.sparse {
            for (i, c) in x.columnIndices.enumerated() {
                sums[Int(c)] += Double(x.values[i])
                counts[Int(c)] += 1
            }
        } else {
            data.features.withUnsafeBufferPointer { x in
                for r in 0..<n {
                    for j in 0..<p { sums[j] += Double(x[r * p + j]) }
                }
            }
        }
        try reduce(&sums)
        let rows = sums[p]
        let means = (0..<p).map { rows > 0 ? sums[$0] / rows : 0 }
        var squares = [Double](repeating: 0, count: p)
        if let x = data.sparse {
            for (i, c) in x.columnIndices.enumerated() {
                let d = Double(x.values[i]) - means[Int(c)]
                squares[Int(c)] += d * d
            }
            for j in 0..<p { squares[j] += Double(n - counts[j]) * means[j] * means[j] }
        } else {
            data.features.withUnsafeBufferPointer { x in
                for r in 0..<n {
                    for j in 0..<p {
                        let d = Double(x[r * p + j]) - means[j]
                        squares[j] += d * d
                    }
                }
            }
        }
        try reduce(&squares)
        return (means, squares.map { $0 > 0 ? ($0 / rows).squareRoot() : 1 })
    }

    /// The same scales with every mean 0: x ↦ x/scale, scikit-learn's `StandardScaler(with_mean=False)`
    /// (its scales are the same standard deviations about the mean). The form sparse data takes.
    public func scalingOnly() -> Standardization {
        // Scales were validated; zero means are finite.
        try! Standardization(means: [Double](repeating: 0, count: scales.count), scales: scales)
    }

    /// Whether every mean is 0 (x ↦ x/scale): the only form `apply(to:)` takes for sparse data.
    public var isScalingOnly: Bool { means.allSatisfy { $0 == 0 } }

    /// `data` with every feature x replaced by (x − mean)/scale (computed in Double, stored
    /// as Float); the targets unchanged. Sparse data stays sparse: each stored value is divided
    /// by its column's scale (O(nnz), the zeros stay zeros), which needs `isScalingOnly`
    /// (centering would densify: see the type's note) — otherwise this throws.
    public func apply(to data: Dataset) throws -> Dataset {
        let p = means.count
        guard data.columns == p else {
            throw DataError.invalid("the data has \(data.columns) features, the standardization \(p)")
        }
        if let x = data.sparse { return try applyScaling(to: data, x) }
        var features = data.features
        for i in features.indices {
            let j = i % p
            features[i] = Float((Double(features[i]) - means[j]) / scales[j])
        }
        return try Dataset(features: features, targets: data.targets, rows: data.rows, columns: p)
    }

    /// A sparse dataset with each stored value v of column j replaced by v/scale_j (in Double,
    /// stored as Float), names and classes kept.
    private func applyScaling(to data: Dataset, _ x: SparseMatrix) throws -> Dataset {
        guard isScalingOnly else {
            throw DataError.invalid("standardizing sparse data would subtract the means and fill every zero: " +
                                    "scale it only (Standardization.scalingOnly(), StandardScaler(with_mean=False))")
        }
        var values = x.values
        for (i, c) in x.columnIndices.enumerated() { values[i] = Float(Double(values[i]) / scales[Int(c)]) }
        let scaled = try SparseMatrix(rows: x.rows, columns: x.columns, rowStarts: x.rowStarts,
                                      columnIndices: x.columnIndices, values: values)
        var result = try Dataset(sparse: scaled, targets: data.targets)
        result.featureNames = data.featureNames
        result.classNames = data.classNames
        result.targetName = data.targetName
        return result
    }

    /// `standardize_mean` and `standardize_scale` as JSON arrays of numbers, each printed
    /// with the shortest digits that read back to the same Double.
    public var metadata: [String: String] {
        func array(_ values: [Double]) -> String { "[" + values.map { "\($0)" }.joined(separator: ",") + "]" }
        return [Self.meanKey: array(means), Self.scaleKey: array(scales)]
    }

    /// Reads `metadata` back: nil when neither key is present; throws when one is missing or
    /// malformed.
    public init?(metadata: [String: String]) throws {
        let (meanText, scaleText) = (metadata[Self.meanKey], metadata[Self.scaleKey])
        if meanText == nil, scaleText == nil { return nil }
        guard let meanText, let scaleText else {
            throw DataError.invalid("model metadata has \(meanText == nil ? Self.scaleKey : Self.meanKey) " +
                                    "without \(meanText == nil ? Self.meanKey : Self.scaleKey)")
        }
        try self.init(means: try Self.numbers(meanText, key: Self.meanKey),
                      scales: try Self.numbers(scaleText, key: Self.scaleKey))
    }

    /// A JSON array of finite numbers, e.g. `[1.5,-2e-05]`.
    private static func numbers(_ text: String, key: String) throws -> [Double] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]"), trimmed.count >= 2 else {
            throw DataError.invalid("model metadata \(key) is not a JSON array of numbers: \(text.prefix(40))")
        }
        let body = trimmed.dropFirst().dropLast()
        return try body.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let token = item.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.allSatisfy({ "0123456789+-.eE".contains($0) }), let x = Double(token), x.isFinite else {
                throw DataError.invalid("model metadata \(key) holds '\(token)', not a finite number")
            }
            return x
        }
    }
}

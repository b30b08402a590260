import Foundation

/// `shrink bench sparse`'s data: a seeded, text-like CSR matrix (a tf-idf bag of words) with
/// a sparse true model, and its targets for the Lasso (regression) and for L1 logistic
/// regression (0/1 labels). The same seed gives the same bytes on every platform.
///
/// - Columns are words with Zipf frequencies: word j (0-based) is drawn with probability
///   ∝ 1/(j + 1)^s, s = `zipfExponent` (1.1), so column 0 is the commonest and the tail
///   columns are rare or empty, as in a vocabulary sorted by frequency.
/// - Row lengths (distinct words) are log-normal, σ = 0.75, with mean `nonZerosPerRow`;
///   `emptyRowFraction` (1%) of the rows are empty. A row draws words until it holds its
///   length; a word drawn c times has term frequency c.
/// - Values are scikit-learn's `TfidfVectorizer(sublinear_tf=True)`: (1 + ln c)·idf_j,
///   idf_j = ln((1 + n)/(1 + df_j)) + 1, each row scaled to unit L2 norm (all positive).
/// - The true model: `trueNonZeros` coefficients ±U(0.5, 1.5) on columns drawn from the
///   commonest 5% (those a row is likely to hold), z = X·w* scaled to unit standard deviation;
///   regression y = 1 + z + 0.5·N(0, 1), classification y ~ Bernoulli(σ(2z − 0.5)).
public struct SparseBenchData: Sendable {
    public let features: SparseMatrix
    /// The regression targets (Lasso).
    public let regressionTargets: [Float]
    /// The 0/1 labels (L1 logistic regression).
    public let labels: [Float]
    /// The true model's non-zero columns, sorted, and their coefficients (before z's scaling).
    public let trueColumns: [Int]
    public let trueCoefficients: [Double]

    public static let zipfExponent = 1.1
    public static let emptyRowFraction = 0.01
    static let rowLengthSigma = 0.75

    public var regression: Dataset { try! Dataset(sparse: features, targets: regressionTargets) }
    public var classification: Dataset { try! Dataset(sparse: features, targets: labels) }

    /// The default true-model size: p/1000, at least 5, at most 200.
    public static func defaultTrueNonZeros(columns: Int) -> Int { min(200, max(5, columns / 1000)) }

    public static func make(rows n: Int, columns p: Int, nonZerosPerRow: Double, seed: UInt64,
                            trueNonZeros: Int? = nil) throws -> SparseBenchData {
        guard n > 0, p > 0, nonZerosPerRow > 0, p <= Int(Int32.max) else {
            throw DataError.invalid("the sparse benchmark needs rows > 0, columns in 1...\(Int32.max) and non-zeros per row > 0")
        }
        var rng = SeededGenerator(seed: seed ^ 0x5350_4152_5345)  // "SPARSE"
        let (starts, columns, counts) = structure(rows: n, columns: p, nonZerosPerRow: nonZerosPerRow, rng: &rng)
        let values = tfidf(rows: n, columns: p, starts: starts, indices: columns, counts: counts)
        let x = try SparseMatrix(rows: n, columns: p, rowStarts: starts, columnIndices: columns, values: values)

        // The true model, on the commonest 5% of the columns.
        let pool = max(1, p / 20)
        let k = min(trueNonZeros ?? defaultTrueNonZeros(columns: p), pool)
        let chosen = Array(rng.permutation(pool).prefix(k)).sorted()
        let w = chosen.map { _ in rng.uniform(0.5, 1.5) * (rng.next() & 1 == 0 ? 1 : -1) }
        var wFull = [Double](repeating: 0, count: p)
        for (j, v) in zip(chosen, w) { wFull[j] = v }
        var z = (0..<n).map { r in
            (starts[r]..<starts[r + 1]).reduce(0.0) { $0 + Double(values[$1]) * wFull[Int(columns[$1])] }
        }
        let mean = z.reduce(0, +) / Double(n)
        let sd = (z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)).squareRoot()
        if sd > 0 { z = z.map { $0 / sd } }
        let regression = z.map { Float(1 + $0 + 0.5 * rng.normal()) }
        let labels = z.map { zr -> Float in rng.nextUnit() < 1 / (1 + exp(-(2 * zr - 0.5))) ? 1 : 0 }
        return SparseBenchData(features: x, regressionTargets: regression, labels: labels, trueColumns: chosen,
                               trueCoefficients: w)
    }

    /// Row offsets, sorted column indices and term counts.
    private static func structure(rows n: Int, columns p: Int, nonZerosPerRow: Double, rng: inout SeededGenerator)
        -> (starts: [Int], columns: [Int32], counts: [Int32]) {
        // The Zipf CDF over the columns.
        var cdf = [Double](repeating: 0, count: p)
        var total = 0.0
        for j in 0..<p {
            total += 1 / pow(Double(j + 1), zipfExponent)
            cdf[j] = total
        }
        for j in 0..<p { cdf[j] /= total }
        func word(_ u: Double) -> Int {
            var (low, high) = (0, p - 1)  // the first j with cdf[j] > u
            while low < high {
                let mid = (low + high) / 2
                if cdf[mid] > u { high = mid } else { low = mid + 1 }
            }
            return low
        }
        // The log-normal row length's mean is the target's over the non-empty rows.
        let mean = nonZerosPerRow / (1 - emptyRowFraction)
        let mu = log(mean) - rowLengthSigma * rowLengthSigma / 2
        let cap = max(1, min(p / 2, Int((10 * mean).rounded(.up))))

        var starts = [Int](repeating: 0, count: n + 1)
        var columns = [Int32](), counts = [Int32]()
        columns.reserveCapacity(Int(Double(n) * nonZerosPerRow * 1.05))
        counts.reserveCapacity(columns.capacity)
        var seenIn = [Int32](repeating: -1, count: p)  // the row that last drew the word
        var slot = [Int32](repeating: 0, count: p)     // its position in that row's list
        var rowWords = [Int32](), rowCounts = [Int32]()
        for r in 0..<n {
            let empty = rng.nextUnit() < emptyRowFraction
            let length = empty ? 0 : min(cap, max(1, Int(exp(mu + rowLengthSigma * rng.normal()).rounded())))
            rowWords.removeAll(keepingCapacity: true)
            rowCounts.removeAll(keepingCapacity: true)
            var draws = 0
            // Rare words are hard to collect: a row stops after 50 draws per word (then it is shorter).
            while rowWords.count < length, draws < 50 * length {
                let j = word(rng.nextUnit())
                draws += 1
                if seenIn[j] == Int32(truncatingIfNeeded: r) {
                    rowCounts[Int(slot[j])] += 1
                } else {
                    seenIn[j] = Int32(truncatingIfNeeded: r)
                    slot[j] = Int32(rowWords.count)
                    rowWords.append(Int32(j))
                    rowCounts.append(1)
                }
            }
            for i in rowWords.indices.sorted(by: { rowWords[$0] < rowWords[$1] }) {
                columns.append(rowWords[i])
                counts.append(rowCounts[i])
            }
            starts[r + 1] = columns.count
        }
        return (starts, columns, counts)
    }

    /// Sublinear tf-idf with smoothed idf, rows scaled to unit L2 norm.
    private static func tfidf(rows n: Int, columns p: Int, starts: [Int], indices: [Int32], counts: [Int32]) -> [Float] {
        var df = [Int](repeating: 0, count: p)
        for c in indices { df[Int(c)] += 1 }
        let idf = df.map { log(Double(1 + n) / Double(1 + $0)) + 1 }
        var values = [Float](repeating: 0, count: indices.count)
        for r in 0..<n where starts[r] < starts[r + 1] {
            let range = starts[r]..<starts[r + 1]
            let raw = range.map { (1 + log(Double(counts[$0]))) * idf[Int(indices[$0])] }
            let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for (i, v) in zip(range, raw) { values[i] = Float(v / norm) }
        }
        return values
    }
}

extension SparseMatrix {
    /// The non-zeros in each column (SciPy's `X.getnnz(axis=0)`).
    public func columnCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: columns)
        for c in columnIndices { counts[Int(c)] += 1 }
        return counts
    }
}

import Foundation

/// A sparse X by columns (CSC) for the exact solver, with X̃ = (X − 1μᵀ)/s kept implicit, as
/// scikit-learn's sparse coordinate descent and glmnet do: the means are never subtracted
/// from the stored entries (that would fill the matrix), each product with a column carries
/// them as one scalar term instead,
///
///   x̃_jᵀv = (Σ_{i∈nz(j)} x_ij vᵢ − μ_j Σᵢvᵢ)/s_j,
///
/// so a product or an update touches column j's non-zeros only. The raw entries stay in
/// float32 (they were float32 on input: the Double arithmetic on them is exact).
struct SparseColumns {
    let rows: Int, columns: Int
    /// Column j's entries are values[starts[j] ..< starts[j + 1]] in rows rowIndices[same range].
    let starts: [Int]
    let rowIndices: [Int32]
    let values: [Float]
    let means: [Double], scales: [Double]

    /// X's columns, their means μ and (with `standardize`) population standard deviations s
    /// (1 for a constant column, as `Standardization`), else s = 1.
    init(_ x: SparseMatrix, standardize: Bool) {
        let byColumns = x.transposed()
        let n = Double(x.rows)
        var means = [Double](repeating: 0, count: x.columns), scales = means
        for j in 0..<x.columns {
            let range = byColumns.rowStarts[j]..<byColumns.rowStarts[j + 1]
            var sum = 0.0
            for e in range { sum += Double(byColumns.values[e]) }
            let mean = sum / n
            // Over the stored entries; the n − count implicit zeros add (n − count)·μ².
            var squares = Double(x.rows - range.count) * mean * mean
            for e in range { squares += (Double(byColumns.values[e]) - mean) * (Double(byColumns.values[e]) - mean) }
            means[j] = mean
            scales[j] = standardize && squares > 0 ? (squares / n).squareRoot() : 1
        }
        self.init(byColumns: byColumns, rows: x.rows, means: means, scales: scales)
    }

    /// X's columns with the given centering and scaling (an MPI job's: statistics over the
    /// rows of every rank).
    init(_ x: SparseMatrix, means: [Double], scales: [Double]) {
        self.init(byColumns: x.transposed(), rows: x.rows, means: means, scales: scales)
    }

    private init(byColumns: SparseMatrix, rows: Int, means: [Double], scales: [Double]) {
        self.rows = rows
        columns = byColumns.rows
        starts = byColumns.rowStarts
        rowIndices = byColumns.columnIndices
        values = byColumns.values
        self.means = means
        self.scales = scales
    }

    var nonZeroCount: Int { values.count }

    /// The stored entries of column j.
    func count(_ j: Int) -> Int { starts[j + 1] - starts[j] }

    /// Σ_{i∈nz(j)} x_ij vᵢ: the raw column's product, without centering or scaling.
    @inline(__always) func rawDot(_ j: Int, _ v: UnsafePointer<Double>) -> Double {
        rowIndices.withUnsafeBufferPointer { rows in
            values.withUnsafeBufferPointer { x in
                var (s0, s1) = (0.0, 0.0)
                var e = starts[j]
                let end = starts[j + 1]
                while e + 2 <= end {
                    s0 += Double(x[e]) * v[Int(rows[e])]
                    s1 += Double(x[e + 1]) * v[Int(rows[e + 1])]
                    e += 2
                }
                if e < end { s0 += Double(x[e]) * v[Int(rows[e])] }
                return s0 + s1
            }
        }
    }

    /// x̃_jᵀv, given Σᵢvᵢ.
    func dot(_ j: Int, _ v: UnsafePointer<Double>, sum: Double) -> Double {
        (rawDot(j, v) - means[j] * sum) / scales[j]
    }

    /// y ← y + a·x̃_j over column j's non-zeros only; returns the uniform part −a·μ_j/s_j that
    /// the caller adds to every entry (once, for many columns).
    @discardableResult
    func addRaw(_ a: Double, column j: Int, to y: UnsafeMutablePointer<Double>) -> Double {
        let scaled = a / scales[j]
        rowIndices.withUnsafeBufferPointer { rows in
            values.withUnsafeBufferPointer { x in
                for e in starts[j]..<starts[j + 1] { y[Int(rows[e])] += scaled * Double(x[e]) }
            }
        }
        return -scaled * means[j]
    }

    /// Column j of X̃, dense [n] (for the support columns of a joint Newton step only).
    func dense(_ j: Int) -> [Double] {
        var out = [Double](repeating: -means[j] / scales[j], count: rows)
        out.withUnsafeMutableBufferPointer { _ = addRaw(1, column: j, to: $0.baseAddress!) }
        return out
    }

    /// For each of `list`'s columns, (Σ_{nz} x_ij vᵢ, Σ_{nz} x_ij² vᵢ): the raw column's
    /// weighted sum and weighted sum of squares.
    func weightedMoments(_ list: [Int], _ v: [Double]) -> [(first: Double, second: Double)] {
        v.withUnsafeBufferPointer { v in
            rowIndices.withUnsafeBufferPointer { rows in
                values.withUnsafeBufferPointer { x in
                    list.map { j in
                        var (first, second) = (0.0, 0.0)
                        for e in starts[j]..<starts[j + 1] {
                            let xv = Double(x[e]) * v[Int(rows[e])]
                            first += xv
                            second += xv * Double(x[e])
                        }
                        return (first, second)
                    }
                }
            }
        }
    }
}

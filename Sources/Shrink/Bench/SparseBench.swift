import Foundation

/// The measures `shrink bench sparse` puts next to each time, in Double over the CSR matrix
/// (never densified), with scikit-learn's objectives and an unpenalized intercept — the same
/// formulas as scripts/bench_sparse_peers.py, which scores the peers.
public enum SparseBench {
    /// Whether `CoordinateDescentSolver` and `RegularizationPath` take a sparse `Dataset`.
    /// Until the solvers on CSR (branch sp-solve) are merged they trap on one (`Dataset.features`),
    /// so the bench solves a densified copy when it is small enough, and skips Shrink otherwise.
    /// Set to true with that merge.
    public static let solversTakeSparseData = true

    /// The largest matrix (rows × columns) the bench densifies for Shrink when the solvers do not
    /// take sparse data: 2²⁶ floats, 256 MiB.
    public static let densifyLimit = 1 << 26

    /// ‖Xᵀ(y − ȳ)‖∞ / n · (1 + 10⁻⁴): `RegularizationPath.alphaMax` without standardization (mse
    /// and bce alike), computed on the stored entries.
    public static func alphaMax(_ x: SparseMatrix, targets y: [Float]) -> Double {
        let mean = y.reduce(0.0) { $0 + Double($1) } / Double(max(1, x.rows))
        var dots = [Double](repeating: 0, count: x.columns)
        for r in 0..<x.rows {
            let t = Double(y[r]) - mean
            for i in x.rowStarts[r]..<x.rowStarts[r + 1] { dots[Int(x.columnIndices[i])] += Double(x.values[i]) * t }
        }
        return (dots.map(abs).max() ?? 0) / Double(max(1, x.rows)) * (1 + 1e-4)
    }

    /// X·w + b in Double.
    public static func linear(_ x: SparseMatrix, _ w: [Double], _ b: Double) -> [Double] {
        (0..<x.rows).map { r in
            (x.rowStarts[r]..<x.rowStarts[r + 1]).reduce(b) { $0 + Double(x.values[$1]) * w[Int(x.columnIndices[$1])] }
        }
    }

    /// The Lasso objective ½·mean((y − Xw − b)²) + α‖w‖₁ with the best intercept for w,
    /// b = ȳ − x̄ᵀw (what implicit centering fits), so that intercepts do not enter the comparison.
    public static func lassoObjective(_ x: SparseMatrix, _ y: [Float], alpha: Double, w: [Double]) -> Double {
        let xw = linear(x, w, 0)
        let n = Double(x.rows)
        let b = zip(y, xw).reduce(0.0) { $0 + Double($1.0) - $1.1 } / n
        let squares = zip(y, xw).reduce(0.0) { $0 + (Double($1.0) - $1.1 - b) * (Double($1.0) - $1.1 - b) }
        return 0.5 * squares / n + alpha * w.reduce(0) { $0 + abs($1) }
    }

    /// The L1-logistic objective mean(log(1 + exp(−(2y − 1)(Xw + b)))) + α‖w‖₁, y in {0, 1}.
    public static func logisticObjective(_ x: SparseMatrix, _ y: [Float], alpha: Double, w: [Double], b: Double) -> Double {
        let z = linear(x, w, b)
        let loss = zip(y, z).reduce(0.0) { sum, pair in
            let m = -(2 * Double(pair.0) - 1) * pair.1  // log(1 + e^m), stable
            return sum + (m > 0 ? m + log1p(exp(-m)) : log1p(exp(m)))
        }
        return loss / Double(max(1, x.rows)) + alpha * w.reduce(0) { $0 + abs($1) }
    }

    /// max_j |w_j − w_ref,j| / (1 + |w_ref,j|): bench solvers' coefficient distance.
    public static func relativeError(_ w: [Double], _ reference: [Double]) -> Double {
        zip(w, reference).reduce(0) { max($0, abs($1.0 - $1.1) / (1 + abs($1.1))) }
    }

    /// One line of the data's statistics: size, non-zeros per row (mean, range), empty rows and
    /// columns, and the share of the non-zeros held by the commonest 1% of the columns.
    public static func describe(_ x: SparseMatrix) -> String {
        let lengths = (0..<x.rows).map { x.rowStarts[$0 + 1] - x.rowStarts[$0] }
        let counts = x.columnCounts().sorted(by: >)
        let head = counts.prefix(max(1, x.columns / 100)).reduce(0, +)
        return String(format: "%d × %d, %d non-zeros (%.1f per row, %d–%d), %d empty rows, %d empty columns, " +
                      "the commonest 1%% of the columns hold %.0f%% of the non-zeros",
                      x.rows, x.columns, x.nonZeroCount, Double(x.nonZeroCount) / Double(max(1, x.rows)),
                      lengths.min() ?? 0, lengths.max() ?? 0, lengths.filter { $0 == 0 }.count,
                      counts.filter { $0 == 0 }.count, 100 * Double(head) / Double(max(1, x.nonZeroCount)))
    }
}

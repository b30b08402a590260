import CBLAS
import Foundation

/// The data of a penalized linear problem, prepared once for `CoordinateDescentSolver`.
///
/// The problem is posed on X̃ = (X − x̄)/s: columns centered (the unpenalized intercept absorbs
/// x̄ᵀw, so b = b̃ − x̄ᵀw in the original units) and, with `standardize`, scaled to unit
/// variance (w = w̃/s), as glmnet does. X̃ is kept once, in Double, column-major, for the
/// coordinate updates. What touches every entry of X̃ on each pass — the screening gradient
/// X̃ᵀR that chooses the working set — runs on the device, on a float32 copy of X̃.
/// For mse with n > p the solver works on the Gram matrix G = X̃ᵀX̃/n instead (covariance
/// updates, as glmnet and scikit-learn's `precompute`): formed once by dsyrk in Double, since
/// its rounding is the solution's rounding.
///
/// A sparse X is kept by columns with X̃ implicit (`SparseColumns`): memory O(nnz + p), no
/// Gram route, and the screening pass is Xᵀ·R on the device (`sparseMatmul`, Xᵀ stored as
/// its own CSR) with the centering term −μ_jΣR and 1/s_j applied on the host.
final class SolverDesign {
    let loss: LossKind
    /// This process's rows (under mpirun, this rank's) and the columns.
    let rows: Int, columns: Int
    /// N: the rows over every rank (= `rows` in one process), the denominator of every mean.
    let totalRows: Int
    /// The job this design's sums run over (`Communicator.single`: one process, no sums).
    let communicator: Communicator
    /// 1 (mse, bce) or the class count (ce).
    let outputs: Int
    let means: [Double], scales: [Double]
    /// X̃ column-major: column j is x[j·n ..< (j+1)·n] (dense X; empty when X is sparse).
    let x: [Double]
    /// X by columns, X̃ implicit (sparse X; nil when X is dense).
    let sparse: SparseColumns?
    /// The targets (mse: centered, y − ȳ; bce: 0…1; ce: the class index as a Double).
    let targets: [Double]
    let targetMean: Double
    /// mse with n > p and p ≤ `gramLimit`: G = X̃ᵀX̃/n [p, p] (both triangles) and c = X̃ᵀỹ/n.
    let gram: (matrix: [Double], correlation: [Double])?
    /// ‖∇f(0)‖∞ with the intercepts fitted (α_max·ρ): the scale of every KKT tolerance.
    let scale: Double
    let device: any Device
    private var screening: (x: Buffer, r: Buffer, g: Buffer)?
    private var sparseScreening: (xt: SparseOperand, r: Buffer, g: Buffer)?

    /// Above this many columns the Gram matrix (p² Doubles) is not formed.
    static let gramLimit = 4096

    /// `communicator`: under mpirun, `data` is this rank's rows of the problem and every sum
    /// over rows (the statistics, X̃ᵀX̃ and X̃ᵀy, the screening gradient, the Newton models, the
    /// losses) is summed over the ranks (`sum`), so every rank holds the same global quantities.
    init(loss: LossKind, data: Dataset, standardize: Bool, device: any Device, classes: Int?,
         communicator: Communicator = .single) throws {
        let (n, p) = (data.rows, data.columns)
        let totalRows = try communicator.sum(n)
        guard totalRows > 0 else { throw TrainingError.invalidData("the solver needs at least one row") }
        self.loss = loss
        rows = n
        columns = p
        self.totalRows = totalRows
        self.communicator = communicator
        self.device = device
        let highest = try communicator.gather(Int(data.targets.max() ?? 0)).max()!
        let outputs = loss == .ce ? (classes ?? max(highest + 1, 2)) : 1
        self.outputs = outputs
        let y = data.targets.map(Double.init)
        var ySum = [y.reduce(0, +)]
        try communicator.agreedSum(&ySum)
        let targetMean = ySum[0] / Double(totalRows)
        self.targetMean = targetMean
        let targets = loss == .mse ? y.map { $0 - targetMean } : y
        self.targets = targets
        // One process: the statistics here, as always; a job: over every rank's rows.
        let statistics = communicator.usesMPI ? try Standardization.statistics(data) { try communicator.agreedSum(&$0) } : nil
        let unit = [Double](repeating: 1, count: p)
        if let matrix = data.sparse {
            let columns = statistics.map { SparseColumns(matrix, means: $0.means, scales: standardize ? $0.scales : unit) }
                ?? SparseColumns(matrix, standardize: standardize)
            (means, scales, x, sparse, gram) = (columns.means, columns.scales, [], columns, nil)
            var correlations = Self.correlationsAtZero(columns, loss: loss, y: y, targets: targets, outputs: outputs,
                                                       totalRows: totalRows)
            try communicator.agreedSum(&correlations)
            scale = correlations.map(abs).max() ?? 0
            return
        }
        sparse = nil
        var (x, means, squares) = Self.centeredColumns(data, means: statistics?.means)
        self.means = means
        // Population standard deviations (1 for a constant column), as `Standardization`.
        let scales = !standardize ? unit : statistics?.scales ?? squares.map { $0 > 0 ? ($0 / Double(n)).squareRoot() : 1 }
        self.scales = scales
        if standardize {
            for j in 0..<p where scales[j] != 1 {
                let inverse = 1 / scales[j]
                x.withUnsafeMutableBufferPointer { cblas_dscal(Int32(n), inverse, $0.baseAddress! + j * n, 1) }
            }
        }
        self.x = x
        var correlations = Self.correlationsAtZero(x, rows: n, columns: p, loss: loss, y: y, targets: targets,
                                                   outputs: outputs, totalRows: totalRows)
        try communicator.agreedSum(&correlations)
        scale = correlations.map(abs).max() ?? 0
        if loss == .mse, totalRows > p, p <= Self.gramLimit {
            var matrix = Self.gram(x, rows: n, columns: p, totalRows: totalRows)
            try communicator.agreedSum(&matrix)
            gram = (matrix, Array(correlations.suffix(p)))
        } else {
            gram = nil
        }
    }

    /// X − X̄ column-major [n, p] in Double, the column means (`means`, or this data's) and the
    /// sums of squared deviations.
    private static func centeredColumns(_ data: Dataset, means given: [Double]?)
        -> (x: [Double], means: [Double], squares: [Double]) {
        let (n, p) = (data.rows, data.columns)
        var sums = [Double](repeating: 0, count: p), squares = [Double](repeating: 0, count: p)
        if given == nil {
            data.features.withUnsafeBufferPointer { f in
                for r in 0..<n {
                    for j in 0..<p { sums[j] += Double(f[r * p + j]) }
                }
            }
        }
        let means = given ?? sums.map { $0 / Double(n) }
        var x = [Double](repeating: 0, count: n * p)
        data.features.withUnsafeBufferPointer { f in
            x.withUnsafeMutableBufferPointer { out in
                // Transposed in blocks of rows, so that both sides stay in cache.
                for first in stride(from: 0, to: n, by: 128) {
                    let last = min(first + 128, n)
                    for j in 0..<p {
                        var sum = 0.0
                        for r in first..<last {
                            let d = Double(f[r * p + j]) - means[j]
                            out[j * n + r] = d
                            sum += d * d
                        }
                        squares[j] += sum
                    }
                }
            }
        }
        return (x, means, squares)
    }

    /// X̃ᵀY/N [k, p], output by output (Y: the targets, centered for mse, or for ce the one-hot
    /// labels; X̃'s columns sum to 0 over all rows, so Ȳ drops out): the negative
    /// gradient at w = 0 with the intercepts fitted. Its largest magnitude is ‖∇f(0)‖∞, and
    /// for mse it is c = X̃ᵀỹ/N, which the Gram route keeps. This rank's rows' share.
    private static func correlationsAtZero(_ x: [Double], rows n: Int, columns p: Int, loss: LossKind, y: [Double],
                                           targets: [Double], outputs: Int, totalRows: Int) -> [Double] {
        var correlations = [Double](repeating: 0, count: outputs * p)
        guard n > 0 else { return correlations }
        for c in 0..<outputs {
            let column = loss == .ce ? y.map { Int($0) == c ? 1.0 : 0 } : targets
            correlations.withUnsafeMutableBufferPointer {
                cblas_dgemv(CblasColMajor, CblasTrans, Int32(n), Int32(p), 1 / Double(totalRows), x, Int32(n), column, 1, 0,
                            $0.baseAddress! + c * p, 1)
            }
        }
        return correlations
    }

    /// The same for a sparse X (X̃ implicit).
    private static func correlationsAtZero(_ x: SparseColumns, loss: LossKind, y: [Double], targets: [Double],
                                           outputs: Int, totalRows: Int) -> [Double] {
        var correlations = [Double](repeating: 0, count: outputs * x.columns)
        for c in 0..<outputs {
            let column = loss == .ce ? y.map { Int($0) == c ? 1.0 : 0 } : targets
            let sum = column.reduce(0, +)
            column.withUnsafeBufferPointer { v in
                for j in 0..<x.columns {
                    correlations[c * x.columns + j] = x.dot(j, v.baseAddress!, sum: sum) / Double(totalRows)
                }
            }
        }
        return correlations
    }

    /// G = X̃ᵀX̃/N, p×p row-major (dsyrk, then mirrored): this rank's rows' share.
    private static func gram(_ x: [Double], rows n: Int, columns p: Int, totalRows: Int) -> [Double] {
        var g = [Double](repeating: 0, count: p * p)
        guard n > 0 else { return g }
        // Column-major X̃ [n, p] is row-major X̃ᵀ [p, n]: G = X̃ᵀ(X̃ᵀ)ᵀ/N, upper triangle.
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(p), Int32(n), 1 / Double(totalRows), x, Int32(n), 0,
                    &g, Int32(p))
        for i in 0..<p { for j in 0..<i { g[i * p + j] = g[j * p + i] } }
        return g
    }

    /// X̃ᵀR for R = `residuals` [k, n] (output-major): [k, p], on the device in float32. The
    /// float32 copy of X̃ is made on first use.
    func screen(_ residuals: [Double]) throws -> [Double] {
        let (n, p, k) = (rows, columns, outputs)
        if n == 0 { return [Double](repeating: 0, count: k * p) }  // an MPI rank without rows
        if let sparse { return try screen(residuals, sparse) }
        if screening == nil {
            var copy = [Float](repeating: 0, count: n * p)
            for first in stride(from: 0, to: n, by: 128) {
                for j in 0..<p { for r in first..<min(first + 128, n) { copy[r * p + j] = Float(x[j * n + r]) } }
            }
            screening = (try device.makeBuffer(copy), try device.makeBuffer(count: k * n), try device.makeBuffer(count: k * p))
        }
        let (xb, rb, gb) = screening!
        try device.write(residuals.map { Float($0) }, to: rb)
        try device.matmul(MatmulShape(m: k, n: p, k: n), alpha: 1, a: rb, at: 0, b: xb, at: 0, beta: 0, c: gb, at: 0)
        return try device.read(gb).map(Double.init)
    }

    /// X̃ᵀR for a sparse X: Xᵀ·Rᵀ [p, k] by `sparseMatmul` (Xᵀ is the columns' CSR, uploaded on
    /// first use), then g_cj = ((XᵀRᵀ)_jc − μ_j Σᵢ R_ci)/s_j on the host.
    private func screen(_ residuals: [Double], _ x: SparseColumns) throws -> [Double] {
        let (n, p, k) = (rows, columns, outputs)
        if sparseScreening == nil {
            guard x.nonZeroCount < Int(Int32.max) else {
                throw TrainingError.invalidData("\(x.nonZeroCount) non-zeros: the device's sparse product takes < 2³¹")
            }
            let operand = SparseOperand(
                rows: p, columns: n, nonZeros: x.nonZeroCount, rowStarts: try device.makeBuffer(x.starts.map { Int32($0) }),
                columnIndices: try device.makeBuffer(x.rowIndices.isEmpty ? [0] : x.rowIndices),
                values: try device.makeBuffer(x.values.isEmpty ? [0] : x.values))
            sparseScreening = (operand, try device.makeBuffer(count: k * n), try device.makeBuffer(count: p * k))
        }
        let (xt, rb, gb) = sparseScreening!
        try device.write(residuals.map { Float($0) }, to: rb)
        try device.sparseMatmul(xt, n: k, transposeB: true, alpha: 1, b: rb, at: 0, beta: 0, c: gb, at: 0)
        let product = try device.read(gb)
        var g = [Double](repeating: 0, count: k * p)
        for c in 0..<k {
            let sum = residuals[(c * n)..<((c + 1) * n)].reduce(0, +)
            for j in 0..<p { g[c * p + j] = (Double(product[j * k + c]) - x.means[j] * sum) / x.scales[j] }
        }
        return g
    }

    /// `values` summed over the job's ranks, the same bits on each (nothing in one process).
    func sum(_ values: inout [Double]) throws {
        try communicator.agreedSum(&values)
    }

    /// x̃_jᵀv in Double for each column of `list`.
    func dots(_ list: [Int], _ v: [Double]) -> [Double] {
        v.withUnsafeBufferPointer { v in
            if let sparse {
                let sum = v.reduce(0, +)
                return list.map { sparse.dot($0, v.baseAddress!, sum: sum) }
            }
            return x.withUnsafeBufferPointer { x in list.map { dotProduct(x.baseAddress! + $0 * rows, v.baseAddress!, rows) } }
        }
    }

    /// X̃_S·u + b [n]: the combination of the columns `list` with `coefficients` (sparse X: their
    /// non-zeros, and the centering terms −Σu_jμ_j/s_j as one shift).
    func combination(_ list: [Int], _ coefficients: [Double], intercept b: Double) -> [Double] {
        let n = rows
        var out = [Double](repeating: 0, count: n)
        var shift = b
        out.withUnsafeMutableBufferPointer { out in
            for (j, u) in zip(list, coefficients) where u != 0 {
                if let sparse {
                    shift += sparse.addRaw(u, column: j, to: out.baseAddress!)
                } else {
                    x.withUnsafeBufferPointer { axpy(u, $0.baseAddress! + j * n, out.baseAddress!, n) }
                }
            }
            for i in 0..<n { out[i] += shift }
        }
        return out
    }

    /// Column j of X̃, dense [n].
    func column(_ j: Int) -> [Double] {
        sparse?.dense(j) ?? Array(x[(j * rows)..<((j + 1) * rows)])
    }

    /// Maps scaled-space (w̃, b̃) to the original units: w = w̃/s, b = b̃ − x̄ᵀw (mse: + ȳ).
    func originalUnits(weights: [Double], intercepts: [Double]) -> (w: [Double], b: [Double]) {
        let p = columns
        let w = weights.enumerated().map { $1 / scales[$0 % p] + 0 }  // + 0: no −0
        var b = (0..<outputs).map { c in
            (0..<p).reduce(intercepts[c] + (loss == .mse ? targetMean : 0)) { $0 - means[$1] * w[c * p + $1] }
        }
        if loss == .ce {
            let mean = b.reduce(0, +) / Double(outputs)
            b = b.map { $0 - mean }
        }
        return (w, b)
    }

    /// The inverse of `originalUnits` (a warm start in the user's units).
    func scaledUnits(_ solution: LinearSolution) -> (w: [Double], b: [Double]) {
        let p = columns
        let w = solution.coefficients.enumerated().map { $1 * scales[$0 % p] }
        let b = (0..<outputs).map { c in
            (0..<p).reduce(solution.intercepts[c] - (loss == .mse ? targetMean : 0)) {
                $0 + means[$1] * solution.coefficients[c * p + $1]
            }
        }
        return (w, b)
    }
}

/// aᵀb over `count` Doubles, four partial sums (vectorized). Not BLAS's ddot: OpenBLAS hands
/// long level-1 calls to its thread pool, whose start and spin-wait cost more than the dot
/// products of a coordinate sweep (measured: a third of an L1-logistic fit in sched_yield).
@inline(__always) func dotProduct(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ count: Int) -> Double {
    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
    var i = 0
    while i + 4 <= count {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
        i += 4
    }
    while i < count { s0 += a[i] * b[i]; i += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// y ← y + a·x over `count` Doubles (a plain loop, for the reason of `dotProduct`).
@inline(__always) func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int) {
    for i in 0..<count { y[i] += a * x[i] }
}

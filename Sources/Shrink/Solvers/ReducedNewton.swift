import CBLAS
import Foundation

/// The proximal-Newton step of an MPI job (H2O's distributed GLM and Snap ML do the same):
/// the rows are spread over the ranks, so coordinate descent with residual updates — one sum
/// over all rows per coordinate move — is out of reach. Instead each step's quadratic model is
/// formed in the working set's own coordinates, summed over the ranks once, and solved on
/// every rank alike:
///
///   H = [X̃_W, 1]ᵀ V [X̃_W, 1]   ((|W| + 1)², the intercept's row and column last; mse: none),
///   g = [X̃_W, 1]ᵀ ρ,            with ρ = −∂f/∂η and V = diag(∂²f/∂η²) of output c,
///
/// the model being ½uᵀHu − (g + Hu₀)ᵀu + penalty(u) in u = (w_W, b) around u₀. Coordinate
/// descent on it is `GramSolver`'s (covariance updates, the intercept unpenalized, the same
/// exact solve on the support), and the step then goes through the same Armijo line search,
/// whose losses are summed over the ranks. For mse the model is the objective itself: one
/// step solves the working-set problem.
extension SolverDesign {
    /// H (size², symmetric) and g (size), size = |W| + (intercept ? 1 : 0), over every rank's
    /// rows: this process's rows' share, then `sum`.
    func reducedModel(_ working: [Int], rho: [Double], v: [Double], intercept: Bool) throws
        -> (hessian: [Double], gradient: [Double]) {
        let (n, m) = (rows, working.count)
        let size = m + (intercept ? 1 : 0)
        var packed = [Double](repeating: 0, count: size * size + size)  // H (upper triangle), then g
        if n > 0 {
            if let sparse {
                sparseShare(sparse, working, rho: rho, v: v, intercept: intercept, into: &packed)
            } else {
                denseShare(working, rho: rho, v: v, intercept: intercept, into: &packed)
            }
        }
        try sum(&packed)
        var hessian = Array(packed.prefix(size * size))
        for i in 0..<size { for j in 0..<i { hessian[i * size + j] = hessian[j * size + i] } }
        return (hessian, Array(packed.suffix(size)))
    }

    /// Dense X̃ (column-major): H's upper triangle by dsyrk over blocks of rows of √v∘[X̃_W, 1],
    /// g by dot products.
    private func denseShare(_ working: [Int], rho: [Double], v: [Double], intercept: Bool, into packed: inout [Double]) {
        let (n, m) = (rows, working.count)
        let size = m + (intercept ? 1 : 0)
        let root = v.map { $0.squareRoot() }
        let blockRows = 1024
        var block = [Double](repeating: 0, count: blockRows * size)
        x.withUnsafeBufferPointer { x in
            packed.withUnsafeMutableBufferPointer { out in
                for first in stride(from: 0, to: n, by: blockRows) {
                    let count = min(blockRows, n - first)
                    for (a, j) in working.enumerated() {
                        let column = x.baseAddress! + j * n + first
                        for r in 0..<count { block[a * count + r] = root[first + r] * column[r] }
                    }
                    if intercept { for r in 0..<count { block[m * count + r] = root[first + r] } }
                    // Column-major block [count, size]: H += blockᵀ·block, upper triangle (row-major H).
                    cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, Int32(size), Int32(count), 1, block,
                                Int32(count), 1, out.baseAddress!, Int32(size))
                }
                rho.withUnsafeBufferPointer { rho in
                    for (a, j) in working.enumerated() {
                        out[size * size + a] = dotProduct(x.baseAddress! + j * n, rho.baseAddress!, n)
                    }
                }
            }
        }
        if intercept { packed[size * size + m] = rho.reduce(0, +) }
    }

    /// Sparse X (X̃ implicit): the raw weighted products over the columns' non-zeros, R_ab =
    /// Σᵢ vᵢx_ia x_ib (one scattered column against each later one), M_a = Σᵢ vᵢx_ia and
    /// Σᵢ x_ia ρᵢ, then centered and scaled: H_ab = (R_ab − μ_aM_b − μ_bM_a + μ_aμ_bΣv)/(s_a s_b),
    /// H_a,b₀ = (M_a − μ_aΣv)/s_a, g_a = (Σ x_ia ρᵢ − μ_aΣρ)/s_a.
    private func sparseShare(_ x: SparseColumns, _ working: [Int], rho: [Double], v: [Double], intercept: Bool,
                             into packed: inout [Double]) {
        let m = working.count
        let size = m + (intercept ? 1 : 0)
        let (sumV, sumRho) = (v.reduce(0, +), rho.reduce(0, +))
        let moments = x.weightedMoments(working, v).map(\.first)
        var scattered = [Double](repeating: 0, count: rows)
        rho.withUnsafeBufferPointer { rho in
            scattered.withUnsafeMutableBufferPointer { t in
                for (a, j) in working.enumerated() {
                    for e in x.starts[j]..<x.starts[j + 1] { t[Int(x.rowIndices[e])] = v[Int(x.rowIndices[e])] * Double(x.values[e]) }
                    let (mu, s) = (x.means[j], x.scales[j])
                    for b in a..<m {
                        let k = working[b]
                        let raw = x.rawDot(k, t.baseAddress!)
                        packed[a * size + b] = (raw - mu * moments[b] - x.means[k] * moments[a] + mu * x.means[k] * sumV)
                            / (s * x.scales[k])
                    }
                    for e in x.starts[j]..<x.starts[j + 1] { t[Int(x.rowIndices[e])] = 0 }
                    if intercept { packed[a * size + m] = (moments[a] - mu * sumV) / s }
                    packed[size * size + a] = x.dot(j, rho.baseAddress!, sum: sumRho)
                }
            }
        }
        if intercept {
            packed[m * size + m] = sumV
            packed[size * size + m] = sumRho
        }
    }
}

extension CoordinateDescentSolver.State {
    /// One proximal-Newton step for output c on the model summed over the ranks (see
    /// `SolverDesign.reducedModel`): coordinate descent on it to `tolerance`, the exact solve
    /// on its support when due, then the line search (mse: none needed). False when the line
    /// search found no step that lowers the objective (nothing moved).
    @discardableResult
    mutating func reducedNewtonStep(output c: Int, working: [Int], tolerance: Double) throws -> Bool {
        let (n, p, m) = (design.rows, design.columns, working.count)
        let intercept = design.loss != .mse
        let size = m + (intercept ? 1 : 0)
        guard size > 0 else { return false }
        let (rho, v) = negativeGradient(output: c, curvature: true)
        let (hessian, gradient) = try design.reducedModel(working, rho: rho, v: v, intercept: intercept)
        let startW = Array(w[(c * p)..<((c + 1) * p)]), startB = b[c]
        let start = working.map { w[c * p + $0] } + (intercept ? [b[c]] : [])
        // q = g + H·u₀ − H·u, the model's negative gradient: g at u = u₀.
        var (u, q) = (start, gradient)
        var solver = GramSolver(gram: hessian, columns: size, working: Array(0..<size), l1: l1, l2: l2)
        solver.free = intercept ? m : nil
        var rental = CoordinateDescentSolver.Rental(), error = CoordinateDescentSolver.ErrorEstimate()
        while sweeps < maxSweeps {
            let (violation, change) = solver.sweep(&q, &u)
            sweeps += 1
            if violation <= tolerance, error.update(change) <= errorTarget * tolerance / target { break }
            let support = (0..<size).filter { u[$0] != 0 }
            if rental.due(support: support, spent: solver.sweepCost, polishCost: solver.polishCost(support.count)),
               solver.polish(&q, &u) { break }
        }
        if solver.polishCost(u.filter { $0 != 0 }.count) <= max(rental.total, 1e6) { _ = solver.polish(&q, &u) }
        // The model's step Δu on this rank's rows, Δη = X̃_W·Δw + Δb, its first-order decrease
        // gᵀΔu and its curvature ΔuᵀHΔu = ΔηᵀVΔη (g and H are over every row already).
        let du = zip(u, start).map { $0 - $1 }
        let moves = Array(du.prefix(m))
        let deltaEta = design.combination(working, moves, intercept: intercept ? du[m] : 0)
        let decrease = zip(gradient, du).reduce(0.0) { $0 + $1.0 * $1.1 }
        let curvature = (0..<size).reduce(0.0) { total, i in
            total + du[i] * (0..<size).reduce(0.0) { $0 + hessian[i * size + $1] * du[$1] }
        }
        for (a, j) in working.enumerated() { w[c * p + j] = u[a] }
        if intercept { b[c] = u[m] }
        // The losses are sums over every rank's rows (each rank's rounding, then the sum's): a
        // model change below 10⁻¹² of the objective is within their noise, and taken whole.
        let step = design.loss == .mse ? 1 : try lineSearch(output: c, working: working, deltaEta: deltaEta,
                                                             decrease: decrease, startW: startW, startB: startB,
                                                             curvature: curvature, roundingLevel: 1e-12)
        for (a, j) in working.enumerated() { w[c * p + j] = startW[j] + step * moves[a] }
        b[c] = startB + step * (b[c] - startB)
        eta.withUnsafeMutableBufferPointer { eta in
            for i in 0..<n { eta[c * n + i] += step * deltaEta[i] }
        }
        guard w.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else {
            throw TrainingError.diverged(epoch: 1, step: sweeps, what: "the coordinate-descent solver's coefficients")
        }
        return step > 0
    }
}

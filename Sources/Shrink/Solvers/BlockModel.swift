import CBLAS
import Foundation

/// One output's quadratic model of the data term around the current linear predictor η
/// (a proximal-Newton step, as glmnet's IRLS and skglm's prox_newton), over the working-set
/// coefficients and the intercept:
///
///   Q(Δw, Δb) = −ρ₀ᵀΔη + ½ Σᵢ vᵢ Δηᵢ²,  Δη = X̃_W Δw + Δb,
///
/// with ρ₀ = −∂f/∂η and vᵢ = ∂²f/∂ηᵢ² (mse: (y − η)/n and 1/n, where Q is the objective itself;
/// bce: (y − σ(η))/n and σ(1 − σ)/n; ce, class c: (Y_c − P_c)/n and P_c(1 − P_c)/n, the
/// Hessian's diagonal block). `rho` tracks −∂Q/∂η = ρ₀ − v∘Δη as coordinates move.
///
/// For a sparse X (implicit centering, `SparseColumns`) a move of Δη by δ·x̃_j changes the
/// column's non-zeros and every entry by the same −δμ_j/s_j: that uniform part is kept as the
/// scalar `shift` c, so the true Δη is deltaEta + c and the true ρ is rho − c·v, and
/// `rhoSum` = Σᵢ rhoᵢ is kept in step, so that a move costs O(nnz_j). `settle` folds c in.
struct BlockModel {
    var rho: [Double]
    let rhoStart: [Double]
    var deltaEta: [Double]
    let v: [Double]
    let sumV: Double
    let fitsIntercept: Bool
    /// The uniform part of Δη not yet in `deltaEta` and `rho` (0 for a dense X).
    var shift = 0.0
    /// Σᵢ rhoᵢ of the stored rho (kept in step by the sparse moves only; exact after `settle`).
    var rhoSum: Double

    /// A constant v (mse): Δη is not tracked while coordinates move but recovered at the end
    /// as (ρ₀ − ρ)/v, one pass instead of one per update.
    let constantV: Double?

    init(rho: [Double], v: [Double], fitsIntercept: Bool, constantV: Double? = nil) {
        self.rho = rho
        rhoStart = rho
        deltaEta = [Double](repeating: 0, count: rho.count)
        self.v = v
        sumV = v.reduce(0, +)
        self.fitsIntercept = fitsIntercept
        self.constantV = constantV
        rhoSum = rho.reduce(0, +)
    }

    /// Sets Δη (and ρ = ρ₀ − v∘Δη).
    mutating func reset(deltaEta values: [Double]) {
        deltaEta = values
        for i in rho.indices { rho[i] = rhoStart[i] - v[i] * values[i] }
        shift = 0
        rhoSum = rho.reduce(0, +)
    }

    /// The model's value −ρ₀ᵀΔη + ½Σvᵢ Δηᵢ² at Δη = `values`.
    func value(at values: [Double]) -> Double {
        var total = 0.0
        for i in values.indices { total += values[i] * (0.5 * v[i] * values[i] - rhoStart[i]) }
        return total
    }

    /// Brings Δη and ρ up to date: folds the shift in, and recovers Δη = (ρ₀ − ρ)/v when a
    /// constant-v model tracked only ρ.
    mutating func settle() {
        if shift != 0 {
            for i in rho.indices { rho[i] -= shift * v[i] }
            if constantV == nil { for i in deltaEta.indices { deltaEta[i] += shift } }
            shift = 0
        }
        rhoSum = rho.reduce(0, +)
        guard let constantV else { return }
        for i in rho.indices { deltaEta[i] = (rhoStart[i] - rho[i]) / constantV }
    }

    /// ρ₀ᵀΔη: the first-order change of the data term is its negative.
    /// (Call `settle` first.)
    var firstOrderDecrease: Double { zip(rhoStart, deltaEta).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Moves Δη by δ·column (rho by −δ·v∘column); `column` nil means the intercept's column of 1s.
    mutating func move(_ delta: Double, column: UnsafePointer<Double>?) {
        let n = rho.count
        if let constantV {
            let scaled = delta * constantV
            rho.withUnsafeMutableBufferPointer { rho in
                if let column { for i in 0..<n { rho[i] -= scaled * column[i] } } else { for i in 0..<n { rho[i] -= scaled } }
            }
            return
        }
        v.withUnsafeBufferPointer { v in
            rho.withUnsafeMutableBufferPointer { rho in
                deltaEta.withUnsafeMutableBufferPointer { eta in
                    if let column {
                        for i in 0..<n {
                            rho[i] -= delta * v[i] * column[i]
                            eta[i] += delta * column[i]
                        }
                    } else {
                        for i in 0..<n {
                            rho[i] -= delta * v[i]
                            eta[i] += delta
                        }
                    }
                }
            }
        }
    }
}

/// Soft-thresholding: sign(z)·max(|z| − t, 0).
@inline(__always) func softThreshold(_ z: Double, _ t: Double) -> Double {
    z > t ? z - t : (z < -t ? z + t : 0)
}

/// The violation of one coefficient's optimality condition, given the negative gradient g of
/// the smooth part (data term without the L2 term) at w: w ≠ 0: |g − λ₂w − λ₁·sign(w)|;
/// w = 0: max(|g| − λ₁, 0).
@inline(__always) func coordinateViolation(_ g: Double, _ w: Double, l1: Double, l2: Double) -> Double {
    w != 0 ? abs(g - l2 * w - (w > 0 ? l1 : -l1)) : max(abs(g) - l1, 0)
}

/// Coordinate descent on a `BlockModel` (residual updates, O(n) per coordinate) and its exact
/// solve on the support (Newton on the signs fixed: one Cholesky), for one output's
/// coefficients `w[offset ..< offset + p]` over the working set.
struct BlockSolver {
    let design: SolverDesign
    let working: [Int]
    let l1: Double, l2: Double
    /// Σᵢ vᵢ x̃ᵢⱼ² for each working column.
    let curvature: [Double]
    /// Sparse X: Σ_{i∈nz(j)} vᵢ x_ij for each working column (raw x; empty for a dense X).
    let weighted: [Double]

    init(design: SolverDesign, working: [Int], model: BlockModel, l1: Double, l2: Double) {
        self.design = design
        self.working = working
        self.l1 = l1
        self.l2 = l2
        let n = design.rows
        if let x = design.sparse {
            (curvature, weighted) = Self.sparseCurvature(x, working: working, model: model)
            return
        }
        weighted = []
        curvature = working.map { j in
            design.x.withUnsafeBufferPointer { x in
                model.v.withUnsafeBufferPointer { v in
                    var h = 0.0
                    for i in 0..<n { h += v[i] * x[j * n + i] * x[j * n + i] }
                    return h
                }
            }
        }
    }

    /// One cyclic pass over the working set, then the intercept. Returns the largest
    /// violation met (each coordinate's, just before its update) and the largest move,
    /// relative to 1 + |w_j|.
    /// `positions` (indices into the working set) restricts the pass to those coordinates.
    func sweep(_ model: inout BlockModel, _ w: inout [Double], offset: Int, intercept b: inout Double,
               positions: [Int]? = nil) -> (violation: Double, change: Double) {
        if let x = design.sparse {
            return sparseSweep(x, &model, &w, offset: offset, intercept: &b, positions: positions)
        }
        let n = design.rows
        var worst = 0.0, change = 0.0
        design.x.withUnsafeBufferPointer { x in
            for index in positions ?? Array(working.indices) {
                let j = working[index]
                let column = x.baseAddress! + j * n
                let g = model.rho.withUnsafeBufferPointer { dotProduct(column, $0.baseAddress!, n) }
                let old = w[offset + j]
                worst = max(worst, coordinateViolation(g, old, l1: l1, l2: l2))
                let h = curvature[index]
                guard h + l2 > 0 else { continue }
                let new = softThreshold(g + h * old, l1) / (h + l2)
                if new != old {
                    model.move(new - old, column: column)
                    w[offset + j] = new
                    change = max(change, abs(new - old) / (1 + abs(new)))
                }
            }
        }
        if model.fitsIntercept, model.sumV > 0 {
            let g = model.rho.reduce(0, +)
            worst = max(worst, abs(g))
            let delta = g / model.sumV
            model.move(delta, column: nil)
            b += delta
            change = max(change, abs(delta) / (1 + abs(b)))
        }
        return (worst, change)
    }

    /// The cost of one sweep, and of `polish` on a support of `size` columns, in scalar-loop
    /// flops: BLAS-3 (dsyrk, the Cholesky) counts an eighth, its measured speed-up here.
    /// A sparse X: the sweep costs its columns' non-zeros, and `polish` forms A by one scatter
    /// per column and sparse dot products (m·nnz_S), no BLAS-3.
    var sweepCost: Double {
        if let x = design.sparse { return Double(working.reduce(0) { $0 + 3 * x.count($1) + 20 }) }
        return Double(3 * design.rows * max(working.count, 1))
    }
    func polishCost(_ support: [Int]) -> Double {
        let m = Double(support.count + 1), n = Double(design.rows)
        if let x = design.sparse {
            let entries = Double(support.reduce(0) { $0 + x.count($1) })
            return m * entries + m * m * m / 24 + 2 * n
        }
        return (n * m * m + m * m * m / 3) / 8 + 3 * n * m
    }

    /// Solves the model over the working set's nonzeros (and the intercept) with their signs
    /// fixed: (A + λ₂I)d = g − λ₂w − λ₁s, A = [X̃_S 1]ᵀV[X̃_S 1], and moves towards that
    /// solution as `GramSolver.polish` does (all the way, or up to the first zero). True when
    /// the model over the working set is then solved exactly.
    func polish(_ model: inout BlockModel, _ w: inout [Double], offset: Int, intercept b: inout Double) -> Bool {
        if let x = design.sparse { return sparsePolish(x, &model, &w, offset: offset, intercept: &b) }
        let n = design.rows
        let support = working.filter { w[offset + $0] != 0 }
        let m = support.count + (model.fitsIntercept ? 1 : 0)
        guard m > 0, support.count < n || l2 > 0 else { return false }  // else A is singular
        var z = [Double](repeating: 0, count: n * m)      // √v ∘ [X̃_S 1], column-major
        let root = model.v.map { $0.squareRoot() }
        for (a, j) in support.enumerated() { for i in 0..<n { z[a * n + i] = root[i] * design.x[j * n + i] } }
        if model.fitsIntercept { for i in 0..<n { z[support.count * n + i] = root[i] } }
        var matrix = [Double](repeating: 0, count: m * m)
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, Int32(m), Int32(n), 1, z, Int32(n), 0, &matrix, Int32(m))
        var rhs = [Double](repeating: 0, count: m)
        for (a, g) in design.dots(support, model.rho).enumerated() {
            let wj = w[offset + support[a]]
            matrix[a * m + a] += l2
            rhs[a] = g - l2 * wj - (wj > 0 ? l1 : -l1)
        }
        if model.fitsIntercept { rhs[m - 1] = model.rho.reduce(0, +) }
        guard choleskySolve(&matrix, &rhs, size: m) else { return false }
        let (step, blocking) = stepToBoundary(support.map { w[offset + $0] }, Array(rhs.prefix(support.count)))
        design.x.withUnsafeBufferPointer { x in
            for (a, j) in support.enumerated() {
                let delta = a == blocking ? -w[offset + j] : step * rhs[a]
                model.move(delta, column: x.baseAddress! + j * n)
                w[offset + j] = a == blocking ? 0 : w[offset + j] + delta
            }
        }
        if model.fitsIntercept {
            model.move(step * rhs[m - 1], column: nil)
            b += step * rhs[m - 1]
        }
        guard blocking == nil else { return false }
        let zeros = working.filter { w[offset + $0] == 0 }
        return !design.dots(zeros, model.rho).contains { abs($0) > l1 }
    }
}

/// Solves A·x = b in place (A symmetric positive definite, upper triangle of column-major A
/// read) by LAPACK's dposv; false when A is not positive definite.
func choleskySolve(_ matrix: inout [Double], _ rhs: inout [Double], size: Int) -> Bool {
    var n = Int32(size), one: Int32 = 1, info: Int32 = 0
    var upper = Int8(UInt8(ascii: "U"))
    var lda = n
    var ldb = n
    dposv_(&upper, &n, &one, &matrix, &lda, &rhs, &ldb, &info)
    return info == 0 && rhs.allSatisfy(\.isFinite)
}

import Foundation

/// `BlockSolver` on a sparse X (`SparseColumns`, X̃ = (X − 1μᵀ)/s implicit), with the model's
/// uniform part c (`BlockModel.shift`) and S = Σᵢ rhoᵢ (`rhoSum`) kept as scalars. With
/// a_j = Σ_{i∈nz(j)} vᵢx_ij (`weighted`, fixed for a Newton step) and V = Σᵢvᵢ:
///
///   gradient  g_j = x̃_jᵀρ = (Σ_{nz} x_ij rhoᵢ − c·a_j − μ_j(S − c·V))/s_j
///   curvature h_j = Σᵢvᵢx̃_ij² = (Σ_{nz} vᵢx_ij² − 2μ_j a_j + μ_j²V)/s_j²
///   move      Δη += δx̃_j: rho −= (δ/s_j)v∘x_j and Δη += (δ/s_j)x_j on nz(j), S −= (δ/s_j)a_j,
///             c −= δμ_j/s_j;  the intercept: c += δ
///
/// so that a coordinate update costs O(nnz_j) and the intercept's O(1).
extension BlockSolver {
    /// (h_j, a_j) for each working column.
    static func sparseCurvature(_ x: SparseColumns, working: [Int], model: BlockModel)
        -> (curvature: [Double], weighted: [Double]) {
        let moments = x.weightedMoments(working, model.v)
        let curvature = zip(working, moments).map { j, m in
            let (mean, scale) = (x.means[j], x.scales[j])
            return max(m.second - 2 * mean * m.first + mean * mean * model.sumV, 0) / (scale * scale)
        }
        return (curvature, moments.map(\.first))
    }

    /// `sweep` on a sparse X: one cyclic pass over the working set (or `positions`), then the
    /// intercept, each coordinate touching its column's non-zeros only.
    func sparseSweep(_ x: SparseColumns, _ model: inout BlockModel, _ w: inout [Double], offset: Int,
                     intercept b: inout Double, positions: [Int]?) -> (violation: Double, change: Double) {
        var worst = 0.0, change = 0.0
        var (shift, rhoSum) = (model.shift, model.rhoSum)
        let (sumV, constantV, tracksEta) = (model.sumV, model.constantV ?? 0, model.constantV == nil)
        let count = positions?.count ?? working.count
        x.starts.withUnsafeBufferPointer { starts in
        x.rowIndices.withUnsafeBufferPointer { rows in
        x.values.withUnsafeBufferPointer { values in
        model.v.withUnsafeBufferPointer { v in
        model.rho.withUnsafeMutableBufferPointer { rho in
        model.deltaEta.withUnsafeMutableBufferPointer { eta in
            for step in 0..<count {
                let index = positions?[step] ?? step
                let j = working[index]
                let (first, end) = (starts[j], starts[j + 1])
                var raw = 0.0
                for e in first..<end { raw += Double(values[e]) * rho[Int(rows[e])] }
                let (mean, scale, a) = (x.means[j], x.scales[j], weighted[index])
                let g = (raw - shift * a - mean * (rhoSum - shift * sumV)) / scale
                let old = w[offset + j]
                worst = max(worst, coordinateViolation(g, old, l1: l1, l2: l2))
                let h = curvature[index]
                guard h + l2 > 0 else { continue }
                let new = softThreshold(g + h * old, l1) / (h + l2)
                guard new != old else { continue }
                let scaled = (new - old) / scale
                if tracksEta {
                    for e in first..<end {
                        let (r, value) = (Int(rows[e]), scaled * Double(values[e]))
                        rho[r] -= value * v[r]
                        eta[r] += value
                    }
                } else {
                    let move = scaled * constantV
                    for e in first..<end { rho[Int(rows[e])] -= move * Double(values[e]) }
                }
                rhoSum -= scaled * a
                shift -= scaled * mean
                w[offset + j] = new
                change = max(change, abs(new - old) / (1 + abs(new)))
            }
        }}}}}}
        (model.shift, model.rhoSum) = (shift, rhoSum)
        if model.fitsIntercept, sumV > 0 {
            let g = rhoSum - shift * sumV
            worst = max(worst, abs(g))
            let delta = g / sumV
            // A move at rounding level is none: S − cV of scalars never reaches 0 exactly, and a
            // 10⁻³² move each sweep would keep the error estimate from ever seeing the moves end.
            if abs(delta) > 1e-15 * (1 + abs(b)) {
                model.shift += delta
                b += delta
                change = max(change, abs(delta) / (1 + abs(b)))
            }
        }
        return (worst, change)
    }

    /// `polish` on a sparse X: A = [X̃_S 1]ᵀV[X̃_S 1] from the raw columns — Σᵢvᵢx_iax_ib by
    /// scattering v∘x_a into a dense scratch row and reading it along x_b (m·nnz_S), then
    ///   A_ab = (Σvx_ax_b − μ_b a_a − μ_a a_b + μ_aμ_bV)/(s_as_b),  A_a1 = (a_a − μ_aV)/s_a,  A_11 = V.
    func sparsePolish(_ x: SparseColumns, _ model: inout BlockModel, _ w: inout [Double], offset: Int,
                      intercept b: inout Double) -> Bool {
        model.settle()  // c = 0: rho is ρ
        let support = working.filter { w[offset + $0] != 0 }
        let m = support.count + (model.fitsIntercept ? 1 : 0)
        guard m > 0, support.count < design.rows || l2 > 0 else { return false }  // else A is singular
        let a = x.weightedMoments(support, model.v).map(\.first)
        var matrix = [Double](repeating: 0, count: m * m)  // column-major, upper triangle
        var scratch = [Double](repeating: 0, count: design.rows)
        for (p, jp) in support.enumerated() {
            let (mp, sp) = (x.means[jp], x.scales[jp])
            for e in x.starts[jp]..<x.starts[jp + 1] {
                let r = Int(x.rowIndices[e])
                scratch[r] = model.v[r] * Double(x.values[e])
            }
            scratch.withUnsafeBufferPointer { scratch in
                for q in p..<support.count {
                    let jq = support[q]
                    let raw = x.rawDot(jq, scratch.baseAddress!)
                    let (mq, sq) = (x.means[jq], x.scales[jq])
                    matrix[q * m + p] = (raw - mq * a[p] - mp * a[q] + mp * mq * model.sumV) / (sp * sq)
                }
            }
            for e in x.starts[jp]..<x.starts[jp + 1] { scratch[Int(x.rowIndices[e])] = 0 }
            if model.fitsIntercept { matrix[(m - 1) * m + p] = (a[p] - mp * model.sumV) / sp }
            matrix[p * m + p] += l2
        }
        if model.fitsIntercept { matrix[(m - 1) * m + m - 1] = model.sumV }
        var rhs = [Double](repeating: 0, count: m)
        for (p, g) in design.dots(support, model.rho).enumerated() {
            let wj = w[offset + support[p]]
            rhs[p] = g - l2 * wj - (wj > 0 ? l1 : -l1)
        }
        if model.fitsIntercept { rhs[m - 1] = model.rhoSum }
        guard choleskySolve(&matrix, &rhs, size: m) else { return false }
        let (step, blocking) = stepToBoundary(support.map { w[offset + $0] }, Array(rhs.prefix(support.count)))
        for (p, j) in support.enumerated() {
            let delta = p == blocking ? -w[offset + j] : step * rhs[p]
            model.move(delta, column: j, of: x, weighted: a[p])
            w[offset + j] = p == blocking ? 0 : w[offset + j] + delta
        }
        if model.fitsIntercept {
            model.shift += step * rhs[m - 1]
            b += step * rhs[m - 1]
        }
        guard blocking == nil else { return false }
        model.settle()
        let zeros = working.filter { w[offset + $0] == 0 }
        return !design.dots(zeros, model.rho).contains { abs($0) > l1 }
    }
}

extension BlockModel {
    /// Sparse X: moves Δη by δ·x̃_j (`weighted` = a_j = Σ_{nz} vᵢx_ij), O(nnz_j).
    mutating func move(_ delta: Double, column j: Int, of x: SparseColumns, weighted: Double) {
        let scaled = delta / x.scales[j]
        for e in x.starts[j]..<x.starts[j + 1] {
            let (r, value) = (Int(x.rowIndices[e]), scaled * Double(x.values[e]))
            rho[r] -= value * v[r]
            if constantV == nil { deltaEta[r] += value }
        }
        rhoSum -= scaled * weighted
        shift -= scaled * x.means[j]
    }
}

import CBLAS
import Foundation
import ShrinkCompute

extension CoordinateDescentSolver.State {
    /// Entries of Z that a sparse problem may always hold.
    static let smallJointBlock = 1 << 22

    /// A proximal-Newton step for ce over every class at once, on the working set's nonzeros
    /// with their signs fixed and the last intercept pinned (softmax ignores a common shift):
    /// the full multinomial Hessian H[(c,a),(c',b)] = (1/n)Σᵢ Pᵢc(δcc' − Pᵢc')zᵢₐzᵢb with
    /// zᵢ = [x̃ᵢ 1], solved by Cholesky, then moved along up to the first sign change and
    /// backtracked on the true objective. The class blocks of `newtonStep` find the support;
    /// this step then converges quadratically where they, coupled through the softmax,
    /// converge slowly. False when skipped (too large, singular) or no better.
    ///
    /// Under mpirun every rank forms its rows' share of H and g, the shares are summed once
    /// (`SolverDesign.sum`, the same bits on every rank), every rank solves the same system, and
    /// the line search's objectives are sums over every rank's rows: every rank takes the same
    /// step.
    mutating func jointNewtonStep(working: [Int]) throws -> Bool {
        let variables = newtonVariables(working: working)
        guard !variables.isEmpty, variables.count <= 400 else { return false }
        // Z is dense [n, m]: on a sparse X only while it is no larger than X and the logits, or
        // small outright (4M Doubles, 32 MiB): memory stays O(nnz + model). Under mpirun the
        // ranks decide together (a step skipped on one rank is skipped on all).
        if let x = design.sparse {
            var tooLarge = [design.rows * variables.count > max(x.nonZeroCount + design.rows * design.outputs,
                                                                Self.smallJointBlock) ? 1.0 : 0]
            try design.sum(&tooLarge)
            guard tooLarge[0] == 0 else { return false }
        }
        sweeps += 1  // counted as one sweep, so that --max-iterations bounds these steps too
        let z = variableColumns(variables)
        var (hessian, rhs) = try newtonSystem(variables, z: z)
        guard choleskySolve(&hessian, &rhs, size: variables.count) else { return false }
        return try lineSearch(variables, z: z, direction: rhs, working: working)
    }

    /// A variable of the joint step: class `output`'s coefficient of `column`, or its intercept
    /// (column nil).
    typealias NewtonVariable = (output: Int, column: Int?)

    /// The working set's nonzeros of every class, and every intercept but the last (pinned:
    /// softmax ignores a common shift).
    private func newtonVariables(working: [Int]) -> [NewtonVariable] {
        let (p, k) = (design.columns, design.outputs)
        var variables: [NewtonVariable] = []
        for c in 0..<k {
            for j in working where w[c * p + j] != 0 { variables.append((c, j)) }
            if c < k - 1 { variables.append((c, nil)) }
        }
        return variables
    }

    /// Z = [z_u] column-major [n, m]: each variable's column (x̃_j, or 1s for an intercept).
    private func variableColumns(_ variables: [NewtonVariable]) -> [Double] {
        let n = design.rows
        var z = [Double](repeating: 1, count: n * variables.count)
        for (u, variable) in variables.enumerated() {
            if let j = variable.column { z.replaceSubrange((u * n)..<((u + 1) * n), with: design.column(j)) }
        }
        return z
    }

    /// The softmax probabilities P, row-major [n, k], at the current logits.
    private func classShares() -> [Double] {
        let (n, k) = (design.rows, design.outputs)
        var shares = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let row = LossFormula.softmax((0..<k).map { eta[$0 * n + i] })
            for c in 0..<k { shares[i * k + c] = row[c] }
        }
        return shares
    }

    /// The Newton system H·δ = −(g + penalty gradient) over the variables, with
    /// g = Zᵀ(P − Y)/n per class and H block (c, d) = Z_cᵀ diag(P_c(δcd − P_d)/n) Z_d (dgemm), plus
    /// λ₂ on the coefficients' diagonal and a 10⁻⁹ relative damping. n counts every rank's rows;
    /// this process's rows give their share of g and H, summed over the ranks.
    private func newtonSystem(_ variables: [NewtonVariable], z: [Double]) throws -> (hessian: [Double], rhs: [Double]) {
        let (n, p, k, m) = (design.rows, design.columns, design.outputs, variables.count)
        let shares = classShares()
        let inverse = 1 / Double(design.totalRows)
        var rhs = [Double](repeating: 0, count: m)
        let first = (0..<k).map { c in variables.firstIndex { $0.output == c } ?? m }
        let counts = (0..<k).map { c in variables.filter { $0.output == c }.count }
        var hessian = [Double](repeating: 0, count: m * m)
        for c in 0..<k where counts[c] > 0 && n > 0 {
            let residual = (0..<n).map { i in (shares[i * k + c] - (Int(design.targets[i]) == c ? 1 : 0)) * inverse }
            var g = [Double](repeating: 0, count: counts[c])
            z.withUnsafeBufferPointer { zp in
                cblas_dgemv(CblasColMajor, CblasTrans, Int32(n), Int32(counts[c]), 1, zp.baseAddress! + first[c] * n,
                            Int32(n), residual, 1, 0, &g, 1)
            }
            for a in 0..<counts[c] { rhs[first[c] + a] = g[a] }
            for d in c..<k where counts[d] > 0 {
                var weighted = [Double](repeating: 0, count: n * counts[c])   // diag(ω) Z_c
                for a in 0..<counts[c] {
                    for i in 0..<n {
                        let omega = shares[i * k + c] * ((c == d ? 1 : 0) - shares[i * k + d]) * inverse
                        weighted[a * n + i] = omega * z[(first[c] + a) * n + i]
                    }
                }
                var block = [Double](repeating: 0, count: counts[c] * counts[d])   // column-major [m_c, m_d]
                z.withUnsafeBufferPointer { zp in
                    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(counts[c]), Int32(counts[d]), Int32(n), 1,
                                weighted, Int32(n), zp.baseAddress! + first[d] * n, Int32(n), 0, &block, Int32(counts[c]))
                }
                for a in 0..<counts[c] {
                    for e in 0..<counts[d] {
                        let (u, v) = (first[c] + a, first[d] + e)
                        hessian[v * m + u] = block[e * counts[c] + a]
                        hessian[u * m + v] = block[e * counts[c] + a]
                    }
                }
            }
        }
        var packed = hessian + rhs  // summed over the ranks (nothing to do in one process)
        try design.sum(&packed)
        (hessian, rhs) = (Array(packed.prefix(m * m)), Array(packed.suffix(m)))
        for u in 0..<m {
            guard let column = variables[u].column else { rhs[u] = -rhs[u]; continue }
            let value = w[variables[u].output * p + column]
            rhs[u] = -(rhs[u] + l2 * value + (value > 0 ? l1 : -l1))
            hessian[u * m + u] += l2
        }
        // Softmax is flat along a shift of a column's coefficients in every class: with λ₂ = 0 and
        // the column in every class's support, H is singular there. A little damping keeps the
        // solve defined; along such a direction the step then runs to the first coefficient
        // that reaches zero (where the L1 term's kink sits), as an active-set step should.
        let damping = 1e-9 * ((0..<m).map { hessian[$0 * m + $0] }.max() ?? 0)
        for u in 0..<m { hessian[u * m + u] += damping }
        return (hessian, rhs)
    }

    /// Moves along `direction` up to the first sign change of a coefficient (that one lands on
    /// zero), halving the step until the objective decreases; restores the iterate and returns
    /// false when no step of at least 10⁻⁶ of it does.
    private mutating func lineSearch(_ variables: [NewtonVariable], z: [Double], direction: [Double],
                                     working: [Int]) throws -> Bool {
        let (n, p, k, m) = (design.rows, design.columns, design.outputs, variables.count)
        let coefficientIndices = (0..<m).filter { variables[$0].column != nil }
        let (limit, blocking) = stepToBoundary(coefficientIndices.map { w[variables[$0].output * p + variables[$0].column!] },
                                               coefficientIndices.map { direction[$0] })
        var delta = [Double](repeating: 0, count: k * n)      // Δη per class for the full step
        for u in 0..<m {
            let c = variables[u].output
            for i in 0..<n { delta[c * n + i] += direction[u] * z[u * n + i] }
        }
        let start = try objective(working: working)
        let (savedW, savedB, savedEta) = (w, b, eta)
        var t = limit
        while t > 1e-6 {
            for (position, u) in coefficientIndices.enumerated() {
                let index = variables[u].output * p + variables[u].column!
                w[index] = position == blocking && t == limit ? 0 : savedW[index] + t * direction[u]
            }
            for u in 0..<m where variables[u].column == nil { b[variables[u].output] = savedB[variables[u].output] + t * direction[u] }
            for a in 0..<(k * n) { eta[a] = savedEta[a] + t * delta[a] }
            if try objective(working: working) < start { return true }
            t /= 2
        }
        (w, b, eta) = (savedW, savedB, savedEta)
        return false
    }

    /// The objective (mean data loss over every rank's rows + penalty over the working set) at
    /// the current iterate.
    func objective(working: [Int]) throws -> Double {
        let p = design.columns
        var penalty = 0.0
        for c in 0..<design.outputs {
            for j in working { penalty += l1 * abs(w[c * p + j]) + l2 / 2 * w[c * p + j] * w[c * p + j] }
        }
        return try lossAndScore().0 + penalty
    }
}

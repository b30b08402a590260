import Foundation

extension CoordinateDescentSolver.State {
    /// A proximal-Newton step for ce over every class at once, on the working set's nonzeros
    /// with their signs fixed and the last intercept pinned (softmax ignores a common shift):
    /// the full multinomial Hessian H[(c,a),(c',b)] = (1/n)Σᵢ Pᵢc(δcc' − Pᵢc')zᵢₐzᵢb with
    /// zᵢ = [x̃ᵢ 1], solved by Cholesky, then moved along up to the first sign change and
    /// backtracked on the true objective. The class blocks of `newtonStep` find the support;
    /// this step then converges quadratically where they, coupled through the softmax,
    /// converge slowly. False when skipped (too large, singular) or no better.
    mutating func jointNewtonStep(working: [Int]) -> Bool {
        let (n, p, k) = (design.rows, design.columns, design.outputs)
        var variables: [(output: Int, column: Int?)] = []   // column nil: the intercept
        for c in 0..<k {
            for j in working where w[c * p + j] != 0 { variables.append((c, j)) }
            if c < k - 1 { variables.append((c, nil)) }
        }
        let m = variables.count
        guard m > 0, m <= 400 else { return false }
        var shares = [Double](repeating: 0, count: n * k)   // P, row-major [n, k]
        for i in 0..<n {
            var top = -Double.infinity
            for c in 0..<k { top = max(top, eta[c * n + i]) }
            var total = 0.0
            for c in 0..<k { shares[i * k + c] = exp(eta[c * n + i] - top); total += shares[i * k + c] }
            for c in 0..<k { shares[i * k + c] /= total }
        }
        func z(_ u: Int, _ i: Int) -> Double { variables[u].column.map { design.x[$0 * n + i] } ?? 1 }
        var hessian = [Double](repeating: 0, count: m * m), rhs = [Double](repeating: 0, count: m)
        let inverse = 1 / Double(n)
        for u in 0..<m {
            let (c, column) = variables[u]
            var g = 0.0
            for i in 0..<n { g += (shares[i * k + c] - (Int(design.targets[i]) == c ? 1 : 0)) * z(u, i) }
            g *= inverse
            if let column {
                let value = w[c * p + column]
                rhs[u] = -(g + l2 * value + (value > 0 ? l1 : -l1))
                hessian[u * m + u] += l2
            } else {
                rhs[u] = -g
            }
            for v in u..<m {
                let d = variables[v].output
                var h = 0.0
                for i in 0..<n { h += shares[i * k + c] * ((c == d ? 1 : 0) - shares[i * k + d]) * z(u, i) * z(v, i) }
                hessian[v * m + u] += h * inverse
                if v != u { hessian[u * m + v] = hessian[v * m + u] }
            }
        }
        guard choleskySolve(&hessian, &rhs, size: m) else { return false }
        let coefficientIndices = (0..<m).filter { variables[$0].column != nil }
        let (limit, blocking) = stepToBoundary(coefficientIndices.map { w[variables[$0].output * p + variables[$0].column!] },
                                               coefficientIndices.map { rhs[$0] })
        var delta = [Double](repeating: 0, count: k * n)      // Δη per class for the full step
        for u in 0..<m {
            let c = variables[u].output
            for i in 0..<n { delta[c * n + i] += rhs[u] * z(u, i) }
        }
        let start = objective(working: working)
        let (savedW, savedB, savedEta) = (w, b, eta)
        var t = limit
        while t > 1e-6 {
            for (position, u) in coefficientIndices.enumerated() {
                let index = variables[u].output * p + variables[u].column!
                w[index] = position == blocking && t == limit ? 0 : savedW[index] + t * rhs[u]
            }
            for u in 0..<m where variables[u].column == nil { b[variables[u].output] = savedB[variables[u].output] + t * rhs[u] }
            for a in 0..<(k * n) { eta[a] = savedEta[a] + t * delta[a] }
            if objective(working: working) < start { return true }
            t /= 2
        }
        (w, b, eta) = (savedW, savedB, savedEta)
        return false
    }

    /// The objective (mean data loss + penalty over the working set) at the current iterate.
    func objective(working: [Int]) -> Double {
        let p = design.columns
        var penalty = 0.0
        for c in 0..<design.outputs {
            for j in working { penalty += l1 * abs(w[c * p + j]) + l2 / 2 * w[c * p + j] * w[c * p + j] }
        }
        return lossAndScore().0 + penalty
    }
}

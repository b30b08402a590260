import CBLAS
import Foundation

/// Coordinate descent on the Gram matrix (covariance updates, Friedman, Hastie & Tibshirani
/// 2010 §2.2) for mse: with G = X̃ᵀX̃/n and c = X̃ᵀỹ/n the objective is
/// ½wᵀGw − cᵀw + λ₁‖w‖₁ + λ₂/2‖w‖², and q = c − Gw (the negative gradient) is kept for every
/// column, so a coordinate update costs O(p) whatever n is and the screening pass is free.
struct GramSolver {
    let gram: [Double]
    let columns: Int
    let working: [Int]
    let l1: Double, l2: Double
    /// A coordinate without penalty (the intercept of a Newton model, `reducedNewtonStep`).
    var free: Int? = nil

    /// The penalties of coordinate j.
    @inline(__always) private func penalties(_ j: Int) -> (Double, Double) { j == free ? (0, 0) : (l1, l2) }

    /// One cyclic pass over the working set; returns the largest violation met and the largest
    /// move, relative to 1 + |w_j|.
    func sweep(_ q: inout [Double], _ w: inout [Double]) -> (violation: Double, change: Double) {
        let p = columns
        var worst = 0.0, change = 0.0
        gram.withUnsafeBufferPointer { g in
            q.withUnsafeMutableBufferPointer { q in
                for j in working {
                    let old = w[j], gj = q[j]
                    let (l1, l2) = penalties(j)
                    worst = max(worst, coordinateViolation(gj, old, l1: l1, l2: l2))
                    let h = g[j * p + j]
                    guard h + l2 > 0 else { continue }
                    let new = softThreshold(gj + h * old, l1) / (h + l2)
                    if new != old {
                        axpy(-(new - old), g.baseAddress! + j * p, q.baseAddress!, p)
                        w[j] = new
                        change = max(change, abs(new - old) / (1 + abs(new)))
                    }
                }
            }
        }
        return (worst, change)
    }

    /// As `BlockSolver.sweepCost` and `polishCost`: the Cholesky counts an eighth.
    var sweepCost: Double { Double(2 * columns * max(working.count, 1)) }
    func polishCost(_ size: Int) -> Double {
        let m = Double(size)
        return m * m * m / 24 + m * m + 2 * Double(columns) * m
    }

    /// Solves the problem over the working set's nonzeros with their signs fixed:
    /// (G_SS + λ₂I)d = q_S − λ₂w_S − λ₁s, and moves towards that solution — all the way when
    /// every sign holds, else up to the first coefficient that reaches zero, which is set to
    /// zero (an active-set step: the objective decreases along the segment either way). True
    /// when the problem over the working set is then solved exactly.
    func polish(_ q: inout [Double], _ w: inout [Double]) -> Bool {
        let p = columns
        let support = working.filter { w[$0] != 0 }
        let m = support.count
        guard m > 0 else { return false }
        var matrix = [Double](repeating: 0, count: m * m)
        var rhs = [Double](repeating: 0, count: m)
        for (a, j) in support.enumerated() {
            let (l1, l2) = penalties(j)
            for (c, k) in support.enumerated() { matrix[c * m + a] = gram[j * p + k] }
            matrix[a * m + a] += l2
            rhs[a] = q[j] - l2 * w[j] - (w[j] > 0 ? l1 : -l1)
        }
        guard choleskySolve(&matrix, &rhs, size: m) else { return false }
        let (step, blocking) = stepToBoundary(support.map { w[$0] }, rhs, free: free.flatMap { support.firstIndex(of: $0) })
        gram.withUnsafeBufferPointer { g in
            q.withUnsafeMutableBufferPointer { q in
                for (a, j) in support.enumerated() {
                    let delta = a == blocking ? -w[j] : step * rhs[a]
                    cblas_daxpy(Int32(p), -delta, g.baseAddress! + j * p, 1, q.baseAddress!, 1)
                    w[j] = a == blocking ? 0 : w[j] + delta
                }
            }
        }
        return blocking == nil && !working.contains { w[$0] == 0 && abs(q[$0]) > penalties($0).0 }
    }
}

/// The largest t ≤ 1 such that w + t·d keeps every sign of w (but w[free]'s, unpenalized),
/// and which coefficient reaches zero there (nil when t = 1 keeps them all).
func stepToBoundary(_ w: [Double], _ d: [Double], free: Int? = nil) -> (step: Double, blocking: Int?) {
    var step = 1.0, blocking: Int?
    for a in w.indices where a != free && ((w[a] + d[a] > 0) != (w[a] > 0) || w[a] + d[a] == 0) {
        let t = -w[a] / d[a]
        if t < step || blocking == nil { (step, blocking) = (min(t, 1), a) }
    }
    return (step, blocking)
}

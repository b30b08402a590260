import Foundation

/// Anderson acceleration of a fixed-point iteration such as a coordinate-descent sweep
/// (Anderson 1965; for coordinate descent Bertrand & Massias 2021, as skglm's solvers): from
/// the last K + 1 iterates x₀…x_K with moves uᵢ = xᵢ₊₁ − xᵢ, the combination Σcᵢxᵢ₊₁ with
/// Σcᵢ = 1 that minimizes ‖Σcᵢuᵢ‖₂ — c = z/Σz for (UᵀU)z = 1. The caller keeps it only if it
/// lowers the objective, so the iteration's own convergence guarantee stands.
struct Anderson {
    let depth: Int
    private var history: [[Double]] = []

    init(depth: Int = 5) { self.depth = depth }

    /// Records an iterate; every `depth` + 1 iterates, returns the extrapolated point (and
    /// starts a new history).
    mutating func record(_ x: [Double]) -> [Double]? {
        history.append(x)
        guard history.count == depth + 1 else { return nil }
        defer { history.removeAll(keepingCapacity: true) }
        let k = depth, m = x.count
        let moves = (0..<k).map { i in (0..<m).map { history[i + 1][$0] - history[i][$0] } }
        var gram = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in i..<k {
                let dot = zip(moves[i], moves[j]).reduce(0) { $0 + $1.0 * $1.1 }
                gram[j * k + i] = dot
                gram[i * k + j] = dot
            }
        }
        let trace = (0..<k).reduce(0.0) { $0 + gram[$1 * k + $1] }
        guard trace > 0 else { return nil }
        for i in 0..<k { gram[i * k + i] += 1e-10 * trace }  // UᵀU is often nearly singular
        var z = [Double](repeating: 1, count: k)
        guard choleskySolve(&gram, &z, size: k) else { return nil }
        let total = z.reduce(0, +)
        guard total != 0, total.isFinite else { return nil }
        var point = [Double](repeating: 0, count: m)
        for i in 0..<k {
            let c = z[i] / total
            for a in 0..<m { point[a] += c * history[i + 1][a] }
        }
        return point
    }
}

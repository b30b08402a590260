import CBLAS
import Foundation

/// The optimality (KKT) conditions of the penalized linear problem, checked on the host in
/// Double for K solutions at once (two dgemms). In scikit-learn's scale, with g = ∇ of the
/// data term, λ₁ = αρ, λ₂ = α(1−ρ):
///   w_j ≠ 0: g_j + λ₂w_j + λ₁·sign(w_j) = 0,   w_j = 0: |g_j| ≤ λ₁,   every intercept: ∂/∂b = 0.
/// A solution's violation is the largest miss, divided by ‖∇f(0)‖∞ (the data term's gradient
/// at w = 0 with the intercepts fitted: the scale of α_max), so one tolerance serves any data.
struct KKTCheck {
    let loss: LossKind
    let rows: Int, columns: Int
    /// The data route: the (scaled) features [n, p] and targets the problem is posed on.
    let x: [Double], y: [Double]
    /// The Gram route (mse): G = X̃ᵀX̃/n [p, p] and c = X̃ᵀỹ/n, so g = G·w − c and the
    /// intercept ȳ − x̄ᵀw is optimal by construction.
    let gram: (matrix: [Double], c: [Double])?
    /// ‖∇f(0)‖∞, at least 10⁻¹² (a zero gradient at w = 0 leaves nothing to scale).
    let scale: Double

    init(loss: LossKind, data: Dataset) {
        self.loss = loss
        rows = data.rows
        columns = data.columns
        x = data.features.map(Double.init)
        y = data.targets.map(Double.init)
        gram = nil
        scale = max(Self.gradientAtZero(data, loss: loss), 1e-12)
    }

    init(gram matrix: [Double], c: [Double]) {
        loss = .mse
        rows = 0
        columns = c.count
        (x, y) = ([], [])
        gram = (matrix, c)
        scale = max(c.map(abs).max() ?? 0, 1e-12)  // ∇f(0) = −c on centered data
    }

    /// ‖Xᵀ(Y − Ȳ)‖∞ / n with Y = y (mse, bce) or the one-hot labels (ce), X's columns divided
    /// by `scales` when given: the data term's gradient at w = 0 with the intercepts fitted.
    static func gradientAtZero(_ data: Dataset, loss: LossKind, scales: [Double]? = nil) -> Double {
        let (n, p) = (data.rows, data.columns)
        let scales = scales ?? [Double](repeating: 1, count: p)
        let classes = loss == .ce ? Int(data.targets.max() ?? 0) + 1 : 1
        var best = 0.0
        for c in 0..<classes {
            let target = data.targets.map { loss == .ce ? (Int($0) == c ? 1.0 : 0) : Double($0) }
            let mean = target.reduce(0, +) / Double(n)
            var dots = [Double](repeating: 0, count: p)
            if let x = data.sparse {  // over the stored entries (the zeros add nothing)
                for r in 0..<n {
                    let t = target[r] - mean
                    for e in x.rowStarts[r]..<x.rowStarts[r + 1] { dots[Int(x.columnIndices[e])] += Double(x.values[e]) * t }
                }
            } else {
                data.features.withUnsafeBufferPointer { x in
                    for r in 0..<n {  // row by row: X is row-major
                        let t = target[r] - mean
                        for j in 0..<p { dots[j] += Double(x[r * p + j]) * t }
                    }
                }
            }
            for j in 0..<p { best = max(best, abs(dots[j]) / scales[j]) }
        }
        return best / Double(n)
    }

    /// The relative violation of each of K models: `weights` [K·k, p] and `intercepts` [K·k]
    /// (k outputs per model), each model with its own α.
    func violations(weights: [Double], intercepts: [Double], outputs k: Int, alphas: [Double], l1Ratio: Double) -> [Double] {
        if let gram {
            let p = columns
            var gradient = (0..<alphas.count).flatMap { _ in gram.c.map { -$0 } }   // [K, p]: G·w − c
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(alphas.count), Int32(p), Int32(p), 1, weights,
                        Int32(p), gram.matrix, Int32(p), 1, &gradient, Int32(p))
            return misses(gradient: gradient, interceptGradient: [Double](repeating: 0, count: alphas.count),
                          weights: weights, outputs: 1, alphas: alphas, l1Ratio: l1Ratio)
        }
        let (n, p) = (rows, columns)
        let columnsOut = alphas.count * k
        var z = [Double](repeating: 0, count: n * columnsOut)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(columnsOut), Int32(p), 1, x, Int32(p),
                    weights, Int32(p), 0, &z, Int32(columnsOut))
        // z ← ∂(data term)/∂(logits), row by row (the mean's 1/n included).
        for r in 0..<n {
            for m in 0..<alphas.count {
                let first = r * columnsOut + m * k
                switch loss {
                case .mse: z[first] = (z[first] + intercepts[m] - y[r]) / Double(n)
                case .bce:
                    let f = z[first] + intercepts[m]
                    z[first] = (LossFormula.sigmoid(f) - y[r]) / Double(n)
                case .ce:
                    var top = -Double.infinity
                    for c in 0..<k { z[first + c] += intercepts[m * k + c]; top = max(top, z[first + c]) }
                    var total = 0.0
                    for c in 0..<k { z[first + c] = exp(z[first + c] - top); total += z[first + c] }
                    for c in 0..<k { z[first + c] = (z[first + c] / total - (Int(y[r]) == c ? 1 : 0)) / Double(n) }
                }
            }
        }
        var gradient = [Double](repeating: 0, count: columnsOut * p)   // Rᵀ·X: [K·k, p]
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(columnsOut), Int32(p), Int32(n), 1, z, Int32(columnsOut),
                    x, Int32(p), 0, &gradient, Int32(p))
        let interceptGradient = (0..<columnsOut).map { column in (0..<n).reduce(0.0) { $0 + z[$1 * columnsOut + column] } }
        return misses(gradient: gradient, interceptGradient: interceptGradient, weights: weights, outputs: k,
                      alphas: alphas, l1Ratio: l1Ratio)
    }

    /// Each model's largest miss of the conditions, relative to `scale`.
    private func misses(gradient: [Double], interceptGradient: [Double], weights: [Double], outputs k: Int,
                        alphas: [Double], l1Ratio: Double) -> [Double] {
        let p = columns
        return alphas.enumerated().map { m, alpha in
            let (l1, l2) = (alpha * l1Ratio, alpha * (1 - l1Ratio))
            var worst = 0.0
            for c in 0..<k {
                worst = max(worst, abs(interceptGradient[m * k + c]))
                for j in 0..<p {
                    let (w, g) = (weights[(m * k + c) * p + j], gradient[(m * k + c) * p + j])
                    worst = max(worst, w != 0 ? abs(g + l2 * w + l1 * (w > 0 ? 1 : -1)) : max(abs(g) - l1, 0))
                }
            }
            return worst / scale
        }
    }
}

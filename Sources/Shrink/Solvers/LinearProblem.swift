import CBLAS
import Foundation

/// The penalized linear problem of scikit-learn's `Lasso`/`ElasticNet`/`Ridge` and L1/L2/
/// elastic-net `LogisticRegression`, in scikit-learn's convention:
///
///   mse:  (1/2n)‖y − Xw − b‖² + α·ρ‖w‖₁ + α(1−ρ)/2·‖w‖²
///   bce:  (1/n)Σ logloss(yᵢ, xᵢᵀw + b) + α·ρ‖w‖₁ + α(1−ρ)/2·‖w‖²
///   ce:   (1/n)Σ −log softmax(W xᵢ + b)_{yᵢ} + α·ρ‖W‖₁ + α(1−ρ)/2·‖W‖²_F   (k classes, W [k, p])
///
/// with unpenalized intercepts (`--alpha` α, `--l1-ratio` ρ); ce is scikit-learn's
/// multinomial `LogisticRegression`. `standardize` scales each
/// column to unit variance before solving and maps the coefficients back, as glmnet does.
public struct LinearProblem: Sendable {
    public var loss: LossKind
    public var alpha: Double
    public var l1Ratio: Double
    public var standardize: Bool

    public init(loss: LossKind, alpha: Double, l1Ratio: Double, standardize: Bool = false) {
        self.loss = loss; self.alpha = alpha; self.l1Ratio = l1Ratio; self.standardize = standardize
    }

    func validate() throws {
        guard alpha.isFinite, alpha >= 0 else { throw TrainingError.invalidConfiguration("--alpha must be ≥ 0, got \(alpha)") }
        guard l1Ratio >= 0, l1Ratio <= 1 else { throw TrainingError.invalidConfiguration("--l1-ratio must be in [0, 1], got \(l1Ratio)") }
    }
}

/// A solution: coefficients, intercepts and how it was reached. One output (mse, bce) has p
/// coefficients and one intercept; ce has k·p, class by class (row c of nn.Linear's [k, p]
/// weight), and k intercepts centered to sum 0 (softmax only sees their differences).
public struct LinearSolution: Sendable {
    public var coefficients: [Double]
    public var intercepts: [Double]
    /// The objective minimized (with `standardize`, the penalty is on the scaled coefficients w·s).
    public var objective: Double
    /// The mean data loss on the rows it was fit to (mse: squared error; bce, ce: log loss).
    public var dataLoss: Double = .nan
    /// scikit-learn's `score` on the rows it was fit to: R² (mse) or accuracy (bce, ce).
    public var score: Double = .nan
    /// The largest miss of the optimality conditions, relative to ‖∇f(0)‖∞ (see `KKTCheck`).
    public var kktViolation: Double = .nan
    public var iterations: Int
    public var converged: Bool
    public var nonzeros: Int { coefficients.filter { $0 != 0 }.count }
    public var outputs: Int { intercepts.count }
    /// The first (for mse and bce the only) intercept.
    public var intercept: Double { intercepts[0] }

    public init(coefficients: [Double], intercepts: [Double], objective: Double, iterations: Int, converged: Bool) {
        self.coefficients = coefficients; self.intercepts = intercepts; self.objective = objective
        self.iterations = iterations; self.converged = converged
    }

    /// Class c's row of coefficients.
    public func coefficients(ofOutput c: Int) -> ArraySlice<Double> {
        let p = coefficients.count / outputs
        return coefficients[(c * p)..<((c + 1) * p)]
    }

    /// The state dict of the equivalent `nn.Linear(p, k)`.
    public var stateDict: [(name: String, tensor: Tensor)] {
        [("0.weight", Tensor(shape: [outputs, coefficients.count / outputs], values: coefficients.map { Float($0) })),
         ("0.bias", Tensor(shape: [outputs], values: intercepts.map { Float($0) }))]
    }
}

extension LinearProblem {
    /// scikit-learn's objective at (w, b), in Double on the host.
    public func objective(_ data: Dataset, _ w: [Double], _ b: [Double]) -> Double {
        let solution = LinearSolution(coefficients: w, intercepts: b, objective: 0, iterations: 0, converged: true)
        return objective(meanLoss: LinearSolution.meanLosses(loss, data, [solution])[0], coefficients: w)
    }

    /// The objective from the mean data loss (mse's halved, scikit-learn's ½) and the penalty.
    func objective(meanLoss: Double, coefficients w: [Double]) -> Double {
        let l1 = w.reduce(0) { $0 + abs($1) }, l2 = w.reduce(0) { $0 + $1 * $1 }
        return (loss == .mse ? 0.5 : 1) * meanLoss + alpha * l1Ratio * l1 + alpha * (1 - l1Ratio) / 2 * l2
    }
}

extension LinearSolution {
    /// The mean data loss and scikit-learn's `score` (R² for mse, accuracy for bce and ce) of
    /// this solution on `data` (e.g. held-out rows).
    public func evaluate(on data: Dataset, loss: LossKind) -> (loss: Double, score: Double) {
        Self.evaluate(loss, data, [self])[0]
    }

    /// The mean data loss of each solution on `data`: squared error (mse), log loss (bce) or
    /// softmax cross-entropy (ce), in Double; every solution's logits from one dgemm.
    static func meanLosses(_ loss: LossKind, _ data: Dataset, _ solutions: [LinearSolution]) -> [Double] {
        evaluate(loss, data, solutions).map(\.loss)
    }

    /// X·Wᵀ [n, columns] for W [columns, p] in Double: one dgemm for dense X; for sparse X each
    /// row's non-zeros against each row of W (no dense copy of X).
    private static func logits(_ data: Dataset, _ w: [Double], columns: Int) -> [Double] {
        let (n, p) = (data.rows, data.columns)
        var z = [Double](repeating: 0, count: n * columns)
        if let x = data.sparse {
            for r in 0..<n {
                for m in 0..<columns {
                    var sum = 0.0
                    for e in x.rowStarts[r]..<x.rowStarts[r + 1] { sum += Double(x.values[e]) * w[m * p + Int(x.columnIndices[e])] }
                    z[r * columns + m] = sum
                }
            }
            return z
        }
        let dense = data.features.map(Double.init)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(columns), Int32(p), 1, dense, Int32(max(p, 1)),
                    w, Int32(max(p, 1)), 0, &z, Int32(columns))
        return z
    }

    /// Each solution's mean data loss and scikit-learn's `score` on `data`: R² for mse (1 −
    /// Σ(y − f)²/Σ(y − ȳ)²), accuracy for bce (logit > 0 predicts 1) and ce (the first argmax).
    static func evaluate(_ loss: LossKind, _ data: Dataset,
                         _ solutions: [LinearSolution]) -> [(loss: Double, score: Double)] {
        evaluate(loss, data, solutions) { _ in }
    }

    /// The same over the rows of every rank of an MPI job, `data` being this rank's (possibly
    /// none): every rank gets the same numbers.
    public static func evaluate(_ loss: LossKind, _ data: Dataset, _ solutions: [LinearSolution],
                                communicator: Communicator) throws -> [(loss: Double, score: Double)] {
        try evaluate(loss, data, solutions) { try communicator.agreedSum(&$0) }
    }

    /// `evaluate`, with `reduce` turning this process's sums into the sums over every process
    /// (the row count and Σy first, then Σ(y − ȳ)² and each solution's loss and hits).
    private static func evaluate(_ loss: LossKind, _ data: Dataset, _ solutions: [LinearSolution],
                                 reduce: (inout [Double]) throws -> Void) rethrows -> [(loss: Double, score: Double)] {
        guard let first = solutions.first else { return [] }
        var totals = [Double(data.rows), data.targets.reduce(0.0) { $0 + Double($1) }]
        try reduce(&totals)
        let (count, mean) = (totals[0], totals[1] / totals[0])
        guard count > 0 else { return solutions.map { _ in (.nan, .nan) } }
        let (n, k) = (data.rows, first.outputs)
        let columns = solutions.count * k                      // every model's every output
        let z = n > 0 ? logits(data, solutions.flatMap(\.coefficients), columns: columns) : []
        // [Σ(y − ȳ)², then per solution: the summed loss, the rows right]
        var sums = [data.targets.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }]
        for (m, s) in solutions.enumerated() {
            var total = 0.0, right = 0
            for r in 0..<n {
                let y = Double(data.targets[r])
                let first = r * columns + m * k                  // this model's logits: z[first + c] + b_c
                switch loss {
                case .mse:
                    let d = y - (z[first] + s.intercepts[0])
                    total += d * d
                case .bce:
                    let f = z[first] + s.intercepts[0]
                    total += LossFormula.binaryCrossEntropy(logit: f, target: y)
                    if (f > 0) == (y > 0.5) { right += 1 }
                case .ce:
                    let logits = (0..<k).map { z[first + $0] + s.intercepts[$0] }
                    let best = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
                    let label = Int(y)
                    total += label >= 0 && label < k ? LossFormula.logSumExp(logits) - logits[label] : .nan
                    if best == label { right += 1 }
                }
            }
            sums += [total, Double(right)]
        }
        try reduce(&sums)
        let spread = sums[0]
        return solutions.indices.map { m in
            let (total, right) = (sums[1 + 2 * m], sums[2 + 2 * m])
            let score = loss == .mse ? (spread > 0 ? 1 - total / spread : .nan) : right / count
            return (total / count, score)
        }
    }
}

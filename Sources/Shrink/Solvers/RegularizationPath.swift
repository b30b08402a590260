import Foundation

/// A regularization path (glmnet's and scikit-learn's `enet_path`): α from α_max, where every
/// coefficient is zero, down to ε·α_max in log steps, each solve warm-started from the last;
/// with K-fold cross-validation, α_min (least mean validation loss) and α_1se (the largest α
/// whose mean is within one standard error of that minimum, glmnet's rule).
public struct RegularizationPath: Sendable {
    public struct Point: Sendable {
        public var alpha: Double
        public var solution: LinearSolution
        /// Mean loss on the training rows (mse: squared error; bce: log loss).
        public var trainLoss: Double
        /// Mean loss on the validation rows, when given.
        public var validationLoss: Double?
    }

    public struct CrossValidation: Sendable {
        public var meanLoss: [Double]
        public var standardError: [Double]
        public var alphaMin: Double
        public var alpha1SE: Double
    }

    public var points: [Point]
    public var crossValidation: CrossValidation?

    /// α_max: the smallest α whose solution is all zeros, ‖Xᵀ(y − ȳ)‖∞ / (n·max(ρ, 10⁻³)).
    public static func alphaMax(_ data: Dataset, l1Ratio: Double, standardize: Bool) -> Double {
        let scales = standardize ? ProximalSolver.columnScales(data) : [Double](repeating: 1, count: data.columns)
        let n = Double(data.rows)
        let mean = data.targets.reduce(0.0) { $0 + Double($1) } / n
        var best = 0.0
        for j in 0..<data.columns {
            var dot = 0.0
            for r in 0..<data.rows { dot += Double(data.features[r * data.columns + j]) / scales[j] * (Double(data.targets[r]) - mean) }
            best = max(best, abs(dot))
        }
        return best / (n * max(l1Ratio, 1e-3))
    }

    /// The grid: `count` values from α_max down to ε·α_max, evenly spaced in log α.
    public static func grid(alphaMax: Double, epsilon: Double, count: Int) -> [Double] {
        guard count > 1 else { return [alphaMax] }
        return (0..<count).map { alphaMax * pow(epsilon, Double($0) / Double(count - 1)) }
    }

    /// Computes the path on `train` (scored on `validation` when given) and, with `folds` ≥ 2,
    /// the cross-validation curve over seeded folds of `train`. `batched` solves every α at
    /// once as one K-model problem (one matmul for all) instead of one after another with
    /// warm starts.
    public static func compute(loss: LossKind, l1Ratio: Double, standardize: Bool, train: Dataset, validation: Dataset?,
                               epsilon: Double, count: Int, folds: Int, seed: UInt64, device: any Device,
                               tolerance: Double = 1e-6, batched: Bool = false) throws -> RegularizationPath {
        let alphas = grid(alphaMax: alphaMax(train, l1Ratio: l1Ratio, standardize: standardize), epsilon: epsilon, count: count)
        func walk(_ data: Dataset, scoring: Dataset?) throws -> [Point] {
            let solutions: [LinearSolution]
            if batched {
                solutions = try BatchedProximalSolver(loss: loss, data: data, standardize: standardize, models: alphas.count,
                                                      device: device)
                    .solve(alphas: alphas, l1Ratio: l1Ratio, tolerance: tolerance)
            } else {
                let solver = try ProximalSolver(loss: loss, data: data, standardize: standardize, device: device)
                var start: LinearSolution?
                solutions = try alphas.map { alpha in
                    let solution = try solver.solve(alpha: alpha, l1Ratio: l1Ratio, tolerance: tolerance,
                                                    maxIterations: 100_000, start: start)
                    start = solution
                    return solution
                }
            }
            return zip(alphas, solutions).map { alpha, solution in
                Point(alpha: alpha, solution: solution, trainLoss: meanLoss(loss, data, solution),
                      validationLoss: scoring.map { meanLoss(loss, $0, solution) })
            }
        }
        let points = try walk(train, scoring: validation)
        guard folds >= 2 else { return RegularizationPath(points: points, crossValidation: nil) }
        guard folds <= train.rows else {
            throw TrainingError.invalidConfiguration("--cv \(folds) needs at least \(folds) rows, got \(train.rows)")
        }
        var rng = SeededGenerator(seed: seed ^ 0x4356)
        let order = rng.permutation(train.rows)
        var losses = [[Double]](repeating: [], count: alphas.count)  // [α][fold]
        for k in 0..<folds {
            let held = order.enumerated().filter { $0.offset % folds == k }.map(\.element)
            let kept = order.enumerated().filter { $0.offset % folds != k }.map(\.element)
            for (i, point) in try walk(train.subset(kept), scoring: train.subset(held)).enumerated() {
                losses[i].append(point.validationLoss ?? .nan)
            }
        }
        let means = losses.map { $0.reduce(0, +) / Double(folds) }
        let errors = zip(losses, means).map { values, mean in
            (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(folds - 1) / Double(folds)).squareRoot()
        }
        let best = means.indices.min { means[$0] < means[$1] }!
        let oneSE = means.indices.first { means[$0] <= means[best] + errors[best] }!  // α descends: first = largest
        return RegularizationPath(points: points, crossValidation: CrossValidation(
            meanLoss: means, standardError: errors, alphaMin: alphas[best], alpha1SE: alphas[oneSE]))
    }

    /// Mean squared error (mse) or mean log loss (bce) of a solution on `data`.
    static func meanLoss(_ loss: LossKind, _ data: Dataset, _ s: LinearSolution) -> Double {
        var total = 0.0
        for r in 0..<data.rows {
            let f = (0..<data.columns).reduce(s.intercept) { $0 + Double(data.features[r * data.columns + $1]) * s.coefficients[$1] }
            let y = Double(data.targets[r])
            total += loss == .mse ? (y - f) * (y - f) : max(f, 0) - f * y + log1p(exp(-abs(f)))
        }
        return total / Double(max(data.rows, 1))
    }

    /// One JSON document: the grid, each point's coefficients and scores, and the CV choice.
    public var json: String {
        func number(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "null" } ?? "null" }
        let rows = points.map { p in
            "{\"alpha\":\(number(p.alpha)),\"nonzeros\":\(p.solution.nonzeros),\"objective\":\(number(p.solution.objective))," +
                "\"train_loss\":\(number(p.trainLoss)),\"validation_loss\":\(number(p.validationLoss))," +
                "\"intercept\":\(number(p.solution.intercept)),\"iterations\":\(p.solution.iterations)," +
                "\"coefficients\":[\(p.solution.coefficients.map { number($0) }.joined(separator: ","))]}"
        }
        var text = "{\"path\":[\n" + rows.joined(separator: ",\n") + "\n]"
        if let cv = crossValidation {
            text += ",\"cv\":{\"mean_loss\":[\(cv.meanLoss.map { number($0) }.joined(separator: ","))]," +
                "\"standard_error\":[\(cv.standardError.map { number($0) }.joined(separator: ","))]," +
                "\"alpha_min\":\(number(cv.alphaMin)),\"alpha_1se\":\(number(cv.alpha1SE))}"
        }
        return text + "}\n"
    }

    /// CSV: one row per α with its scores and coefficients.
    public var csv: String {
        let p = points.first?.solution.coefficients.count ?? 0
        var lines = ["alpha,nonzeros,objective,train_loss,validation_loss,intercept," + (0..<p).map { "w\($0)" }.joined(separator: ",")]
        for point in points {
            lines.append(([point.alpha, Double(point.solution.nonzeros), point.solution.objective, point.trainLoss,
                           point.validationLoss ?? .nan, point.solution.intercept] + point.solution.coefficients)
                .map { $0.isNaN ? "" : "\($0)" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

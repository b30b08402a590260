import Foundation

/// Evaluation metrics in Double, each matching its `sklearn.metrics` namesake (scikit-learn 1.9):
/// same definitions, same edge cases. Class labels are integers 0..<k. Inputs scikit-learn rejects
/// (no rows, lengths that differ, NaN or infinity, probabilities outside [0, 1]) throw
/// `MetricsError.invalid`.
public enum Metrics {
    // MARK: Regression

    /// r2_score: 1 − Σ(y − ŷ)² / Σ(y − ȳ)². Constant targets (force_finite=True): 1 when the
    /// predictions are perfect, else 0. NaN for a single row (not defined for fewer than two).
    public static func r2(predicted: [Double], actual: [Double]) throws -> Double {
        try checkPair("r2", predicted, actual)
        let n = actual.count
        guard n >= 2 else { return .nan }
        let mean = actual.reduce(0, +) / Double(n)
        var residual = 0.0, total = 0.0
        for i in 0..<n {
            residual += (actual[i] - predicted[i]) * (actual[i] - predicted[i])
            total += (actual[i] - mean) * (actual[i] - mean)
        }
        if residual == 0 { return 1 }
        if total == 0 { return 0 }
        return 1 - residual / total
    }

    /// mean_squared_error: mean((y − ŷ)²).
    public static func meanSquaredError(predicted: [Double], actual: [Double]) throws -> Double {
        try checkPair("mse", predicted, actual)
        return zip(predicted, actual).reduce(0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) } / Double(actual.count)
    }

    /// mean_absolute_error: mean(|y − ŷ|).
    public static func meanAbsoluteError(predicted: [Double], actual: [Double]) throws -> Double {
        try checkPair("mae", predicted, actual)
        return zip(predicted, actual).reduce(0) { $0 + abs($1.1 - $1.0) } / Double(actual.count)
    }

    // MARK: Classification

    /// accuracy_score: the fraction of rows whose predicted label equals the actual one.
    public static func accuracy(predicted: [Int], actual: [Int]) throws -> Double {
        try checkCounts("accuracy", predicted.count, actual.count)
        return Double(zip(predicted, actual).filter { $0 == $1 }.count) / Double(actual.count)
    }

    /// confusion_matrix(labels: 0..<classes): entry [i][j] counts rows of true class i predicted
    /// as class j (rows = true class, columns = predicted, as scikit-learn).
    public static func confusionMatrix(predicted: [Int], actual: [Int], classes: Int) throws -> [[Int]] {
        try checkCounts("confusion_matrix", predicted.count, actual.count)
        guard classes >= 1 else { throw MetricsError.invalid(metric: "confusion_matrix", reason: "no classes") }
        try checkLabels("confusion_matrix", predicted, classes: classes)
        try checkLabels("confusion_matrix", actual, classes: classes)
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, a) in zip(predicted, actual) { matrix[a][p] += 1 }
        return matrix
    }

    /// log_loss(labels: 0..<classes) of row-major probabilities (rows × classes):
    /// mean over rows of −log(clip(P[i, yᵢ], ε, 1 − ε)), ε = Double.ulpOfOne (float64 machine
    /// epsilon). As scikit-learn ≥ 1.5, rows are clipped but not renormalized.
    public static func logLoss(probabilities: [Double], actual: [Int], classes: Int) throws -> Double {
        let metric = "log_loss"
        guard classes >= 2 else {
            throw MetricsError.invalid(metric: metric, reason: "needs at least 2 classes, got \(classes)")
        }
        try checkCounts(metric, probabilities.count, actual.count * classes, what: "probabilities")
        try checkProbabilities(metric, probabilities)
        try checkLabels(metric, actual, classes: classes)
        var sum = 0.0
        for (i, label) in actual.enumerated() { sum -= log(clipped(probabilities[i * classes + label])) }
        return sum / Double(actual.count)
    }

    /// log_loss of one probability row per sample (the row length is the number of classes;
    /// one column means P(class 1), as scikit-learn).
    public static func logLoss(probabilities: [[Double]], actual: [Int]) throws -> Double {
        let classes = probabilities.first?.count ?? 2
        guard probabilities.allSatisfy({ $0.count == classes }) else {
            throw MetricsError.invalid(metric: "log_loss", reason: "probability rows of different lengths")
        }
        if classes == 1 { return try logLoss(positiveProbabilities: probabilities.map { $0[0] }, actual: actual) }
        return try logLoss(probabilities: probabilities.flatMap { $0 }, actual: actual, classes: classes)
    }

    /// Binary log_loss(labels: [0, 1]) of P(class 1) per row: P(class 0) = 1 − p, then both clipped
    /// to [ε, 1 − ε] as scikit-learn does with a one-dimensional `y_proba`.
    public static func logLoss(positiveProbabilities: [Double], actual: [Int]) throws -> Double {
        let metric = "log_loss"
        try checkCounts(metric, positiveProbabilities.count, actual.count)
        try checkProbabilities(metric, positiveProbabilities)
        try checkLabels(metric, actual, classes: 2)
        var sum = 0.0
        for (p, label) in zip(positiveProbabilities, actual) { sum -= log(clipped(label == 1 ? p : 1 - p)) }
        return sum / Double(actual.count)
    }

    /// Binary roc_auc_score: the trapezoidal area under the ROC curve of `scores` (higher means
    /// class 1), so a tie between a positive and a negative counts ½. Computed from integer
    /// counts: Σ over score levels of Δfp·(tp_before + tp_after) / (2·P·N), rounded once.
    /// Throws `MetricsError.oneClass` when `actual` holds one class only.
    public static func rocAUC(scores: [Double], actual: [Int]) throws -> Double {
        let metric = "roc_auc"
        try checkCounts(metric, scores.count, actual.count)
        try checkFinite(metric, scores)
        try checkLabels(metric, actual, classes: 2)
        let positives = actual.reduce(0, +), negatives = actual.count - positives
        guard positives > 0, negatives > 0 else { throw MetricsError.oneClass }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0, twiceArea = 0, start = 0
        while start < order.count {
            // One ROC point per distinct score: every row tied at this score crosses together.
            var end = start, newTrue = 0
            while end < order.count, scores[order[end]] == scores[order[start]] {
                newTrue += actual[order[end]]
                end += 1
            }
            let newFalse = end - start - newTrue
            twiceArea += newFalse * (2 * truePositives + newTrue)
            truePositives += newTrue
            start = end
        }
        return Double(twiceArea) / (2 * Double(positives) * Double(negatives))
    }

    // MARK: Checks

    /// ε of scikit-learn's clipping: float64 machine epsilon (np.finfo(np.float64).eps).
    static let epsilon = Double.ulpOfOne

    private static func clipped(_ p: Double) -> Double { min(max(p, epsilon), 1 - epsilon) }

    private static func checkPair(_ metric: String, _ predicted: [Double], _ actual: [Double]) throws {
        try checkCounts(metric, predicted.count, actual.count)
        try checkFinite(metric, predicted, what: "predictions")
        try checkFinite(metric, actual, what: "targets")
    }

    private static func checkCounts(_ metric: String, _ count: Int, _ expected: Int, what: String = "predictions") throws {
        guard expected > 0 else { throw MetricsError.invalid(metric: metric, reason: "no rows") }
        guard count == expected else {
            throw MetricsError.invalid(metric: metric, reason: "got \(count) \(what), expected \(expected)")
        }
    }

    private static func checkFinite(_ metric: String, _ values: [Double], what: String = "scores") throws {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw MetricsError.invalid(metric: metric, reason: "\(what) hold \(values[i]) at index \(i)")
        }
    }

    private static func checkProbabilities(_ metric: String, _ values: [Double]) throws {
        if let i = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw MetricsError.invalid(metric: metric, reason: "probability \(values[i]) at index \(i) is not in [0, 1]")
        }
    }

    private static func checkLabels(_ metric: String, _ labels: [Int], classes: Int) throws {
        if let i = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw MetricsError.invalid(metric: metric, reason: "label \(labels[i]) at index \(i) is not in 0..<\(classes)")
        }
    }
}

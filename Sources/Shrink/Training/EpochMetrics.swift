/// What one epoch measured. Accuracies are nil for regression (`mse`), `testR2`
/// is nil for classification, and the test values are nil without a test split.
public struct EpochMetrics: Sendable, Hashable {
    public var epoch: Int
    /// Σ over batches of (data loss + penalty) × batch size / n — the reference PyTorch script's `epoch_loss`.
    public var loss: Double
    public var dataLoss: Double
    public var penalty: Double
    /// Running accuracy over the epoch's batches, each measured before its update.
    public var trainAccuracy: Double?
    /// Accuracy on the held-out rows after the epoch.
    public var testAccuracy: Double?
    /// The data loss (no penalty) on the held-out rows after the epoch: the loss's mean over them.
    public var testLoss: Double?
    /// mse: R² = 1 − Σ(f − y)²/Σ(y − ȳ)² on the held-out rows, as scikit-learn's `r2_score`
    /// (1 for a perfect fit of constant targets, 0 otherwise; NaN for fewer than two rows).
    public var testR2: Double?
    /// ‖w‖₁ and ‖w‖₂ over the penalized parameters (all, or weights with `--penalize weights`).
    public var l1: Double
    public var l2: Double
    /// Penalized parameters near zero: |w| < max|w|·sparse threshold (`near_zero`, and `nz`
    /// as the metrics file also names it). Not the count of nonzeros `path` prints.
    public var nearZero: Int
    /// Penalized parameters exactly 0.
    public var zeros: Int
    public var seconds: Double

    /// One JSON object on one line, keyed by the fields' snake_case names (`near_zero` also
    /// as `nz`); NaN/Inf as null.
    public var jsonLine: String {
        func number(_ x: Double?) -> String {
            guard let x, x.isFinite else { return "null" }
            return "\(x)"
        }
        var fields = ["\"epoch\":\(epoch)", "\"loss\":\(number(loss))", "\"data_loss\":\(number(dataLoss))",
                      "\"penalty\":\(number(penalty))"]
        if let trainAccuracy { fields.append("\"train_accuracy\":\(number(trainAccuracy))") }
        if let testAccuracy { fields.append("\"test_accuracy\":\(number(testAccuracy))") }
        if let testLoss { fields.append("\"test_loss\":\(number(testLoss))") }
        if let testR2 { fields.append("\"test_r2\":\(number(testR2))") }
        fields += ["\"l1\":\(number(l1))", "\"l2\":\(number(l2))", "\"near_zero\":\(nearZero)", "\"nz\":\(nearZero)",
                   "\"zeros\":\(zeros)", "\"seconds\":\(number(seconds))"]
        return "{" + fields.joined(separator: ",") + "}"
    }
}

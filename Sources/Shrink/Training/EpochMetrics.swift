/// What one epoch measured (SPEC §3). Accuracies are nil for regression (`mse`) and
/// `testAccuracy` is nil without a test split.
public struct EpochMetrics: Sendable, Hashable {
    public var epoch: Int
    /// Σ over batches of (data loss + penalty) × batch size / n — the seed's `epoch_loss`.
    public var loss: Double
    public var dataLoss: Double
    public var penalty: Double
    /// Running accuracy over the epoch's batches, each measured before its update.
    public var trainAccuracy: Double?
    /// Accuracy on the held-out rows after the epoch.
    public var testAccuracy: Double?
    /// ‖w‖₁ and ‖w‖₂ over the penalized parameters (all, or weights with `--penalize weights`).
    public var l1: Double
    public var l2: Double
    /// Penalized parameters with |w| < max|w|·sparse threshold.
    public var nz: Int
    /// Penalized parameters exactly 0.
    public var zeros: Int
    public var seconds: Double

    /// One JSON object on one line, keys as SPEC §3 names them; NaN/Inf as null.
    public var jsonLine: String {
        func number(_ x: Double?) -> String {
            guard let x, x.isFinite else { return "null" }
            return "\(x)"
        }
        var fields = ["\"epoch\":\(epoch)", "\"loss\":\(number(loss))", "\"data_loss\":\(number(dataLoss))",
                      "\"penalty\":\(number(penalty))"]
        if let trainAccuracy { fields.append("\"train_accuracy\":\(number(trainAccuracy))") }
        if let testAccuracy { fields.append("\"test_accuracy\":\(number(testAccuracy))") }
        fields += ["\"l1\":\(number(l1))", "\"l2\":\(number(l2))", "\"nz\":\(nz)", "\"zeros\":\(zeros)",
                   "\"seconds\":\(number(seconds))"]
        return "{" + fields.joined(separator: ",") + "}"
    }
}

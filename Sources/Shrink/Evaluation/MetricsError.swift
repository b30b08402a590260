/// Errors computing evaluation metrics; each description is one line naming the metric.
public enum MetricsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Inputs the metric cannot take: no rows, lengths that differ, NaN or infinity, a label
    /// outside 0..<classes, a probability outside [0, 1], outputs of the wrong shape.
    case invalid(metric: String, reason: String)
    /// ROC AUC of targets holding one class only (scikit-learn: "Only one class present in
    /// y_true. ROC AUC score is not defined in that case.").
    case oneClass

    public var description: String {
        switch self {
        case let .invalid(metric, reason): return "\(metric): \(reason)"
        case .oneClass: return "roc_auc: only one class present in the targets; ROC AUC is not defined in that case"
        }
    }
}

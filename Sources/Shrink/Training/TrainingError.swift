/// Errors of the training layer, each one line.
public enum TrainingError: Error, Sendable, CustomStringConvertible {
    /// A flag value or configuration outside its domain.
    case invalidConfiguration(String)
    /// Data that does not fit the model or loss.
    case invalidData(String)
    /// The loss or the weights became NaN or Inf.
    case diverged(epoch: Int, step: Int, what: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message), .invalidData(let message): return message
        case let .diverged(epoch, step, what):
            return "training diverged: \(what) became NaN or Inf at epoch \(epoch), step \(step); lower --lr or the penalties"
        }
    }
}

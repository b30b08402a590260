/// Errors reading data and model files; each description is one line naming the file.
public enum DataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file that cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// A file that cannot be created or written.
    case unwritable(path: String, reason: String)
    /// A file whose contents break its format's rules.
    case malformed(path: String, reason: String)
    /// Data that is well-formed but unusable (shapes, NaN, labels).
    case invalid(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .unwritable(path, reason): return "cannot write \(path): \(reason)"
        case let .malformed(path, reason): return "\(path): \(reason)"
        case let .invalid(message): return message
        }
    }
}

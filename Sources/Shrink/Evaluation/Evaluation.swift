import Foundation

/// The metrics of a model's raw outputs on labelled rows, as `shrink evaluate` reports them, each
/// computed by `Metrics` (scikit-learn's definitions):
/// - mse (one output per row, the prediction): mse (= the loss), r2, mae;
/// - bce (one logit z per row): P(class 1) = σ(z), P(class 0) = σ(−z), both computed stably;
///   log_loss, accuracy (z > 0 ⇒ class 1), roc_auc (of the logits; NaN when the targets hold one
///   class, as scikit-learn returns), and the confusion matrix;
/// - ce (k logits per row): P = softmax(z) computed stably (max subtracted); log_loss, accuracy
///   (argmax, the first maximum on ties), and the confusion matrix.
/// log_loss equals the mean training loss except where scikit-learn's clipping of the
/// probabilities to [ε, 1 − ε] applies (a logit margin beyond about 36).
public struct Evaluation: Sendable {
    /// One named value, in display order.
    public struct Metric: Sendable, Equatable {
        public let name: String
        public let value: Double
    }

    public let loss: LossKind
    public let rows: Int
    /// mse: mse, r2, mae; bce: log_loss, accuracy, roc_auc; ce: log_loss, accuracy.
    public let metrics: [Metric]
    /// bce and ce: entry [i][j] counts rows of true class i predicted as j; nil for mse.
    public let confusionMatrix: [[Int]]?
    /// bce and ce: one display name per class (default "0", "1", ...); nil for mse.
    public let classNames: [String]?

    /// The value of the metric called `name`, if this loss reports it.
    public subscript(name: String) -> Double? { metrics.first { $0.name == name }?.value }

    /// `outputs` are row-major rows × k model outputs (k = 1 for mse and bce); `targets` one per
    /// row: values for mse, class labels 0..<k (k = 2 for bce) stored as whole numbers otherwise.
    /// `classNames` (bce, ce) are only displayed; mse ignores them.
    public init(loss: LossKind, outputs: [Double], targets: [Double], classNames: [String]? = nil) throws {
        if loss == .mse {
            self = try Self.regression(outputs: outputs, targets: targets)
            return
        }
        let labels = try targets.enumerated().map { row, value in
            guard let label = Int(exactly: value) else {
                throw MetricsError.invalid(metric: "evaluate", reason: "target \(value) at row \(row) is not a class label")
            }
            return label
        }
        self = try Self.classification(loss: loss, outputs: outputs, labels: labels, classNames: classNames)
    }

    /// As above with integer targets (class labels for bce and ce).
    public init(loss: LossKind, outputs: [Double], targets: [Int], classNames: [String]? = nil) throws {
        self = loss == .mse
            ? try Self.regression(outputs: outputs, targets: targets.map(Double.init))
            : try Self.classification(loss: loss, outputs: outputs, labels: targets, classNames: classNames)
    }

    private init(loss: LossKind, rows: Int, metrics: [Metric], confusionMatrix: [[Int]]? = nil, classNames: [String]? = nil) {
        self.loss = loss
        self.rows = rows
        self.metrics = metrics
        self.confusionMatrix = confusionMatrix
        self.classNames = classNames
    }

    private static func regression(outputs: [Double], targets: [Double]) throws -> Evaluation {
        try checkOutputs(outputs, rows: targets.count, perRow: 1)
        let metrics = [
            Metric(name: "mse", value: try Metrics.meanSquaredError(predicted: outputs, actual: targets)),
            Metric(name: "r2", value: try Metrics.r2(predicted: outputs, actual: targets)),
            Metric(name: "mae", value: try Metrics.meanAbsoluteError(predicted: outputs, actual: targets)),
        ]
        return Evaluation(loss: .mse, rows: targets.count, metrics: metrics)
    }

    private static func classification(loss: LossKind, outputs: [Double], labels: [Int],
                                       classNames: [String]?) throws -> Evaluation {
        let rows = labels.count
        let classes = loss == .bce ? 2 : (rows > 0 ? outputs.count / rows : 0)
        try checkOutputs(outputs, rows: rows, perRow: loss == .bce ? 1 : max(classes, 2))
        if let row = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw MetricsError.invalid(metric: "evaluate", reason: "target \(labels[row]) at row \(row) is not a class in 0..<\(classes)")
        }
        let names = classNames ?? (0..<classes).map(String.init)
        guard names.count == classes else {
            throw MetricsError.invalid(metric: "evaluate", reason: "\(names.count) class names for \(classes) classes")
        }
        let probabilities: [Double], predicted: [Int]
        if loss == .bce {
            probabilities = outputs.flatMap { [sigmoid(-$0), sigmoid($0)] }
            predicted = outputs.map { $0 > 0 ? 1 : 0 }
        } else {
            probabilities = (0..<rows).flatMap { softmax(outputs[($0 * classes)..<(($0 + 1) * classes)]) }
            predicted = (0..<rows).map { argmax(outputs[($0 * classes)..<(($0 + 1) * classes)]) }
        }
        var metrics = [
            Metric(name: "log_loss", value: try Metrics.logLoss(probabilities: probabilities, actual: labels, classes: classes)),
            Metric(name: "accuracy", value: try Metrics.accuracy(predicted: predicted, actual: labels)),
        ]
        if loss == .bce {
            let auc: Double
            do { auc = try Metrics.rocAUC(scores: outputs, actual: labels) } catch MetricsError.oneClass { auc = .nan }
            metrics.append(Metric(name: "roc_auc", value: auc))
        }
        let matrix = try Metrics.confusionMatrix(predicted: predicted, actual: labels, classes: classes)
        return Evaluation(loss: loss, rows: rows, metrics: metrics, confusionMatrix: matrix, classNames: names)
    }

    /// At least one row, `perRow` finite outputs for each.
    private static func checkOutputs(_ outputs: [Double], rows: Int, perRow: Int) throws {
        guard rows > 0 else { throw MetricsError.invalid(metric: "evaluate", reason: "no rows") }
        guard outputs.count == rows * perRow else {
            throw MetricsError.invalid(metric: "evaluate", reason: "\(outputs.count) model outputs for \(rows) rows; expected \(perRow) per row")
        }
        if let i = outputs.firstIndex(where: { !$0.isFinite }) {
            throw MetricsError.invalid(metric: "evaluate", reason: "the model's output \(outputs[i]) at row \(i / perRow) is not finite")
        }
    }

    /// σ(z) = 1 / (1 + e^−z), without overflow for either sign.
    static func sigmoid(_ z: Double) -> Double { LossFormula.sigmoid(z) }

    /// softmax(z)ⱼ = e^(zⱼ − max z) / Σ e^(zᵢ − max z).
    static func softmax(_ z: ArraySlice<Double>) -> [Double] { LossFormula.softmax(z) }

    /// The index of the first maximum (numpy.argmax), counted from the slice's start.
    static func argmax(_ z: ArraySlice<Double>) -> Int {
        var best = z.startIndex
        for i in z.indices where z[i] > z[best] { best = i }
        return best - z.startIndex
    }
}

// MARK: Rendering

extension Evaluation {
    /// Aligned `metric  value` lines and rows; then, for bce and ce, the confusion matrix with the
    /// class names as row (true) and column (predicted) headers.
    public var table: String {
        let lines = [("metric", "value")] + metrics.map { ($0.name, Self.format($0.value)) } + [("rows", "\(rows)")]
        let width = lines.map { $0.0.count }.max()! + 2
        var text = lines.map { Self.padRight($0.0, width) + $0.1 }.joined(separator: "\n") + "\n"
        if let confusionMatrix, let classNames {
            let corner = "true \\ predicted"
            let first = ([corner] + classNames).map(\.count).max()! + 2
            let widths = classNames.indices.map { j in
                max(classNames[j].count, confusionMatrix.map { "\($0[j])".count }.max() ?? 1)
            }
            var grid = [Self.padRight(corner, first) + zip(classNames, widths).map { Self.padLeft($0, $1) }.joined(separator: "  ")]
            for (name, row) in zip(classNames, confusionMatrix) {
                grid.append(Self.padRight(name, first) + zip(row, widths).map { Self.padLeft("\($0)", $1) }.joined(separator: "  "))
            }
            text += "\n" + grid.joined(separator: "\n") + "\n"
        }
        return text
    }

    /// One JSON object, keys in a fixed order: loss, rows, metrics (in display order), and for bce
    /// and ce confusion_matrix and classes. Numbers print as Swift's shortest round-trip form; NaN
    /// and infinities as null.
    public var json: String {
        func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
        var fields = ["\"loss\": \(JSONText.string(loss.rawValue))", "\"rows\": \(rows)",
                      "\"metrics\": {" + metrics.map { "\(JSONText.string($0.name)): \(number($0.value))" }.joined(separator: ", ") + "}"]
        if let confusionMatrix, let classNames {
            let rows = confusionMatrix.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }
            fields.append("\"confusion_matrix\": [" + rows.joined(separator: ", ") + "]")
            fields.append("\"classes\": [" + classNames.map(JSONText.string).joined(separator: ", ") + "]")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// Six significant digits ("%.6g"); "nan" for an undefined metric.
    private static func format(_ x: Double) -> String { x.isNaN ? "nan" : String(format: "%.6g", x) }

    private static func padRight(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - s.count))
    }

    private static func padLeft(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}

import Foundation
@testable import Shrink
import XCTest

/// `Metrics` and `Evaluation` against scikit-learn on the same inputs
/// (scripts/gen_metrics_fixtures.py → Fixtures/metrics/metrics.json): toy edge cases (ties,
/// perfect and inverted separation, probabilities of exactly 0 and 1, constant targets, classes
/// never predicted) and real data (logits of fixed linear models on breast_cancer, wine, diabetes).
final class MetricsTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Regression: Decodable { let name: String, predicted: [Double], actual: [Double], r2: Double?, mse: Double, mae: Double }
        struct Accuracy: Decodable { let name: String, predicted: [Int], actual: [Int], expected: Double }
        struct LogLoss: Decodable { let name: String, probabilities: [Double], classes: Int, actual: [Int], expected: Double }
        struct BinaryLogLoss: Decodable { let name: String, positive: [Double], actual: [Int], expected: Double }
        struct ROCAUC: Decodable { let name: String, scores: [Double], actual: [Int], expected: Double }
        struct Confusion: Decodable { let name: String, predicted: [Int], actual: [Int], classes: Int, expected: [[Int]] }
        struct EvaluationCase: Decodable {
            let name: String, loss: String, outputs: [Double], targets: [Double]
            let metrics: [String: Double?]
            let confusion_matrix: [[Int]]?
        }
        let regression: [Regression]
        let accuracy: [Accuracy]
        let log_loss: [LogLoss]
        let log_loss_binary: [BinaryLogLoss]
        let roc_auc: [ROCAUC]
        let confusion: [Confusion]
        let evaluation: [EvaluationCase]
    }

    private static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("metrics").appendingPathComponent("metrics.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// |actual − expected| ≤ relative·|expected|; a nil expectation (scikit-learn's NaN) wants NaN.
    private func assertMatches(_ actual: Double, _ expected: Double?, relative: Double, _ label: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        guard let expected else { return XCTAssertTrue(actual.isNaN, "\(label): \(actual), expected NaN", file: file, line: line) }
        XCTAssertLessThanOrEqual(abs(actual - expected), relative * abs(expected), "\(label): \(actual) vs \(expected)",
                                 file: file, line: line)
    }

    // MARK: Metrics

    func testRegressionMetricsMatchScikitLearn() throws {
        let cases = Self.fixture.regression
        XCTAssertEqual(Set(cases.map(\.name)), ["small", "negative-r2", "random", "constant-perfect", "constant-imperfect",
                                                "perfect", "one-sample", "diabetes"])
        for c in cases {
            assertMatches(try Metrics.r2(predicted: c.predicted, actual: c.actual), c.r2, relative: 1e-12, "r2 \(c.name)")
            assertMatches(try Metrics.meanSquaredError(predicted: c.predicted, actual: c.actual), c.mse, relative: 1e-12, "mse \(c.name)")
            assertMatches(try Metrics.meanAbsoluteError(predicted: c.predicted, actual: c.actual), c.mae, relative: 1e-12, "mae \(c.name)")
        }
    }

    func testAccuracyMatchesScikitLearn() throws {
        for c in Self.fixture.accuracy {
            assertMatches(try Metrics.accuracy(predicted: c.predicted, actual: c.actual), c.expected, relative: 1e-12, c.name)
        }
    }

    /// Includes probabilities of exactly 0 and 1 (clipped to [ε, 1 − ε], ε = 2.2e-16), rows that
    /// do not sum to one (not renormalized) and targets holding one class.
    func testLogLossMatchesScikitLearn() throws {
        XCTAssertEqual(Self.fixture.log_loss.count, 5)
        XCTAssertEqual(Self.fixture.log_loss_binary.count, 5)
        for c in Self.fixture.log_loss {
            let flat = try Metrics.logLoss(probabilities: c.probabilities, actual: c.actual, classes: c.classes)
            assertMatches(flat, c.expected, relative: 1e-12, c.name)
            let rows = stride(from: 0, to: c.probabilities.count, by: c.classes).map { Array(c.probabilities[$0..<($0 + c.classes)]) }
            XCTAssertEqual(try Metrics.logLoss(probabilities: rows, actual: c.actual), flat, c.name)
        }
        for c in Self.fixture.log_loss_binary {
            assertMatches(try Metrics.logLoss(positiveProbabilities: c.positive, actual: c.actual), c.expected, relative: 1e-12,
                          "binary \(c.name)")
            XCTAssertEqual(try Metrics.logLoss(probabilities: c.positive.map { [$0] }, actual: c.actual),
                           try Metrics.logLoss(positiveProbabilities: c.positive, actual: c.actual), c.name)
        }
    }

    /// Tied scores (a positive–negative tie counts ½), perfect (1) and inverted (0) separation,
    /// 7 positives in 200, +0 tied with −0, and breast_cancer logits.
    func testROCAUCMatchesScikitLearn() throws {
        XCTAssertEqual(Self.fixture.roc_auc.count, 8)
        for c in Self.fixture.roc_auc {
            assertMatches(try Metrics.rocAUC(scores: c.scores, actual: c.actual), c.expected, relative: 1e-12, c.name)
        }
    }

    func testROCAUCOfOneClassThrows() {
        for labels in [[1, 1, 1], [0, 0, 0]] {
            XCTAssertThrowsError(try Metrics.rocAUC(scores: [0.1, 0.5, 0.3], actual: labels)) {
                XCTAssertEqual($0 as? MetricsError, .oneClass)
                XCTAssertTrue("\($0)".contains("only one class"), "\($0)")
            }
        }
    }

    func testConfusionMatrixMatchesScikitLearn() throws {
        for c in Self.fixture.confusion {
            XCTAssertEqual(try Metrics.confusionMatrix(predicted: c.predicted, actual: c.actual, classes: c.classes), c.expected, c.name)
        }
    }

    /// What scikit-learn rejects, and labels outside 0..<k, throw with the metric's name.
    func testInvalidInputsThrow() {
        let calls: [(String, () throws -> Any)] = [
            ("mse", { try Metrics.meanSquaredError(predicted: [1, 2], actual: [1]) }),
            ("r2", { try Metrics.r2(predicted: [], actual: []) }),
            ("mae", { try Metrics.meanAbsoluteError(predicted: [1, .nan], actual: [1, 2]) }),
            ("accuracy", { try Metrics.accuracy(predicted: [], actual: []) }),
            ("log_loss", { try Metrics.logLoss(positiveProbabilities: [0.5, 1.2], actual: [0, 1]) }),
            ("log_loss", { try Metrics.logLoss(positiveProbabilities: [0.5, 0.2], actual: [0, 2]) }),
            ("log_loss", { try Metrics.logLoss(probabilities: [0.5, 0.5, 0.5], actual: [0, 1], classes: 2) }),
            ("log_loss", { try Metrics.logLoss(probabilities: [0.5, 0.5], actual: [0], classes: 1) }),
            ("roc_auc", { try Metrics.rocAUC(scores: [0.5, .infinity], actual: [0, 1]) }),
            ("confusion_matrix", { try Metrics.confusionMatrix(predicted: [0, 3], actual: [0, 1], classes: 3) }),
            ("evaluate", { try Evaluation(loss: .bce, outputs: [0.5, 1], targets: [0.0, 0.5]) }),
            ("evaluate", { try Evaluation(loss: .ce, outputs: [0.5, 1, 2], targets: [0, 1]) }),
            ("evaluate", { try Evaluation(loss: .ce, outputs: [0.5, 1, 2, 0], targets: [0, 2]) }),
            ("evaluate", { try Evaluation(loss: .bce, outputs: [0.5, 1], targets: [0, 1], classNames: ["a"]) }),
            ("evaluate", { try Evaluation(loss: .mse, outputs: [0.5, .nan], targets: [0, 1]) }),
            ("evaluate", { try Evaluation(loss: .mse, outputs: [], targets: [Double]()) }),
        ]
        for (i, (metric, call)) in calls.enumerated() {
            XCTAssertThrowsError(try call(), "call \(i)") { error in
                guard case let .invalid(name, _) = error as? MetricsError else { return XCTFail("call \(i): \(error)") }
                XCTAssertEqual(name, metric, "call \(i): \(error)")
            }
        }
    }

    // MARK: Evaluation

    /// From raw outputs (logits for bce and ce) to every metric and the confusion matrix, against
    /// scikit-learn on the same predictions; both initializers (Double and Int targets) agree.
    func testEvaluationMatchesScikitLearn() throws {
        let cases = Self.fixture.evaluation
        XCTAssertEqual(Set(cases.map(\.loss)), ["bce", "ce", "mse"])
        for c in cases {
            let loss = try XCTUnwrap(LossKind(rawValue: c.loss))
            let e = try Evaluation(loss: loss, outputs: c.outputs, targets: c.targets)
            XCTAssertEqual(e.rows, c.targets.count, c.name)
            XCTAssertEqual(e.metrics.map(\.name), loss == .mse ? ["mse", "r2", "mae"]
                           : loss == .bce ? ["log_loss", "accuracy", "roc_auc"] : ["log_loss", "accuracy"], c.name)
            XCTAssertEqual(Set(e.metrics.map(\.name)), Set(c.metrics.keys), c.name)
            for (name, expected) in c.metrics {
                assertMatches(try XCTUnwrap(e[name], c.name), expected, relative: 1e-9, "\(c.name) \(name)")
            }
            XCTAssertEqual(e.confusionMatrix, c.confusion_matrix, c.name)
            if loss != .mse {
                XCTAssertEqual(e.classNames, (0..<(loss == .bce ? 2 : c.outputs.count / c.targets.count)).map(String.init), c.name)
                let fromInts = try Evaluation(loss: loss, outputs: c.outputs, targets: c.targets.map { Int($0) })
                XCTAssertEqual(fromInts.metrics.count, e.metrics.count, c.name)
                for (a, b) in zip(fromInts.metrics, e.metrics) { XCTAssertTrue(a == b || (a.value.isNaN && b.value.isNaN), c.name) }
                XCTAssertEqual(fromInts.confusionMatrix, e.confusionMatrix, c.name)
            }
        }
    }

    /// log_loss is the training loss (mean BCE with logits / softmax cross-entropy, written out
    /// here) wherever no probability is clipped.
    func testLogLossIsTheTrainingLoss() throws {
        let z = [-3.5, 0.2, 1.7, -0.4, 6.0], y = [0, 1, 0, 0, 1]
        var bce = 0.0
        for (z, y) in zip(z, y) { bce += (max(z, 0) - z * Double(y) + log1p(exp(-abs(z)))) / 5 }
        assertMatches(try XCTUnwrap(Evaluation(loss: .bce, outputs: z, targets: y)["log_loss"]), bce, relative: 1e-14, "bce")
        let logits = [1.0, -2.0, 0.5, 3.0, 3.0, -1.0], labels = [2, 0]
        var ce = 0.0
        for r in 0..<2 {
            let row = logits[(3 * r)..<(3 * r + 3)], top = row.max()!
            let logSum: Double = top + log(row.map { exp($0 - top) }.reduce(0, +))
            ce += (logSum - row[3 * r + labels[r]]) / 2
        }
        assertMatches(try XCTUnwrap(Evaluation(loss: .ce, outputs: logits, targets: labels)["log_loss"]), ce, relative: 1e-14, "ce")
    }

    func testTableRendering() throws {
        let e = try Evaluation(loss: .ce, outputs: [3, 1, 0, 0, 2, 1, 1, 0, 4, 2, 1, 0], targets: [0, 1, 1, 0],
                               classNames: ["setosa", "versicolor", "virginica"])
        let logLoss = String(format: "%.6g", try XCTUnwrap(e["log_loss"]))
        XCTAssertEqual(e.table, """
            metric    value
            log_loss  \(logLoss)
            accuracy  0.75
            rows      4

            true \\ predicted  setosa  versicolor  virginica
            setosa                 2           0          0
            versicolor             0           1          1
            virginica              0           0          0

            """)
        let r = try Evaluation(loss: .mse, outputs: [1, 2, 4], targets: [1.0, 2, 3])
        XCTAssertEqual(r.table, "metric  value\nmse     0.333333\nr2      0.5\nmae     0.333333\nrows    3\n")
    }

    /// `json` parses back (JSONSerialization) to the same numbers, keys in a fixed order, NaN as
    /// null, class names escaped.
    func testJSONParsesBack() throws {
        let e = try Evaluation(loss: .bce, outputs: [2.5, -0.3, 0.7], targets: [1, 1, 1], classNames: ["-1", "say \"1\"\\\n"])
        let text = e.json
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["loss"] as? String, "bce")
        XCTAssertEqual(object["rows"] as? Int, 3)
        let metrics = try XCTUnwrap(object["metrics"] as? [String: Any])
        // The text holds each value's shortest round-trip form (exact); JSONSerialization on Linux
        // parses some of them 1 ulp off, so the parsed numbers are compared to 1e-15.
        let logLoss = try XCTUnwrap(e["log_loss"])
        XCTAssertTrue(text.contains("\"log_loss\": \(logLoss),"), text)
        XCTAssertEqual(try XCTUnwrap(metrics["log_loss"] as? Double), logLoss, accuracy: 1e-15 * logLoss)
        XCTAssertEqual(metrics["accuracy"] as? Double, 2.0 / 3)
        XCTAssertTrue(metrics["roc_auc"] is NSNull, "\(text)")
        XCTAssertEqual(object["confusion_matrix"] as? [[Int]], [[0, 0], [1, 2]])
        XCTAssertEqual(object["classes"] as? [String], ["-1", "say \"1\"\\\n"])
        let order = ["\"loss\"", "\"rows\"", "\"metrics\"", "\"log_loss\"", "\"accuracy\"", "\"roc_auc\"", "\"confusion_matrix\"", "\"classes\""]
        let positions = try order.map { try XCTUnwrap(text.range(of: $0)?.lowerBound, $0) }
        XCTAssertEqual(positions, positions.sorted(), text)

        let r = try Evaluation(loss: .mse, outputs: Self.fixture.regression[7].predicted, targets: Self.fixture.regression[7].actual)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.json.utf8)) as? [String: Any])
        XCTAssertEqual(Set(parsed.keys), ["loss", "rows", "metrics"])
        let values = try XCTUnwrap(parsed["metrics"] as? [String: Double])
        for m in r.metrics {
            XCTAssertTrue(r.json.contains("\"\(m.name)\": \(m.value)"), r.json)
            XCTAssertEqual(try XCTUnwrap(values[m.name]), m.value, accuracy: 1e-15 * abs(m.value), m.name)
        }
    }
}

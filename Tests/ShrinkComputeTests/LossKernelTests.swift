import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// lossGradient on every device against the PyTorch formulas in Double: MSELoss, stable
/// BCEWithLogitsLoss and softmax CrossEntropyLoss, each row's loss, and the gradient of the
/// MEAN loss (reduction="mean") with respect to the logits.
final class LossKernelTests: XCTestCase {
    struct Result {
        var gradient: [Float], loss: [Float], correct: [Float]
    }

    struct Expected {
        var gradient: [Double] = [], loss: [Double] = [], correct: [Float] = []
    }

    /// Runs the kernel with the targets at offset 3 of their buffer.
    private func run(_ device: any Device, _ kind: LossKind, z: [Float], y: [Float], cols: Int) throws -> Result {
        let rows = y.count
        let g = try device.makeBuffer(count: rows * cols), l = try device.makeBuffer(count: rows)
        let c = try device.makeBuffer(count: rows)
        try device.lossGradient(kind, logits: try device.makeBuffer(z), targets: try device.makeBuffer(padded(y, before: 3)),
                                at: 3, rows: rows, cols: cols, gradient: g, rowLoss: l, rowCorrect: c)
        return Result(gradient: try device.read(g), loss: try device.read(l), correct: try device.read(c))
    }

    private func check(_ kind: LossKind, z: [Float], y: [Float], cols: Int, _ expected: Expected,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let rows = Double(y.count)
        for device in testDevices() {
            let out = try run(device, kind, z: z, y: y, cols: cols)
            let name = "\(label(device)) \(kind) \(y.count)×\(cols)"
            assertClose(out.loss, expected.loss, tolerance: 1e-6, relative: 2e-6, "\(name) loss", file: file, line: line)
            // About two float ulps of 1 (softmax − 1 near a confident prediction), over rows.
            assertClose(out.gradient, expected.gradient, tolerance: 2.5e-7 / rows, relative: 1e-5, "\(name) gradient",
                        file: file, line: line)
            XCTAssertEqual(out.correct, expected.correct, "\(name) correct", file: file, line: line)
        }
    }

    // MARK: Double references

    /// (z − y)², gradient 2(z − y)/rows; never "correct".
    static func mse(z: [Float], y: [Float]) -> Expected {
        var e = Expected()
        for (zf, yf) in zip(z, y) {
            let d = Double(zf) - Double(yf)
            e.loss.append(d * d)
            e.gradient.append(2 * d / Double(y.count))
            e.correct.append(0)
        }
        return e
    }

    /// max(z, 0) − z·y + log(1 + e^{−|z|}), gradient (σ(z) − y)/rows; correct when (z > 0) == (y > 0.5).
    static func bce(z: [Float], y: [Float]) -> Expected {
        var e = Expected()
        let rows = y.count
        for (zf, yf) in zip(z, y) {
            let (z, y) = (Double(zf), Double(yf))
            e.loss.append(max(z, 0) - z * y + log1p(exp(-abs(z))))
            e.gradient.append((1 / (1 + exp(-z)) - y) / Double(rows))
            e.correct.append((z > 0) == (y > 0.5) ? 1 : 0)
        }
        return e
    }

    /// logsumexp(z) − z_y, gradient (softmax(z) − onehot(y))/rows; correct when the first argmax is y.
    static func crossEntropy(z: [Float], y: [Float], cols: Int) -> Expected {
        var e = Expected()
        for r in 0..<y.count {
            let row = z[(r * cols)..<(r * cols + cols)].map(Double.init)
            let label = Int(y[r])
            let top = row.max()!
            let lse = top + log(row.reduce(0) { $0 + exp($1 - top) })
            e.loss.append(lse - row[label])
            for c in 0..<cols { e.gradient.append((exp(row[c] - lse) - (c == label ? 1 : 0)) / Double(y.count)) }
            e.correct.append(row.firstIndex(of: top) == label ? 1 : 0)
        }
        return e
    }

    // MARK: Tests

    func testMSE() throws {
        for rows in [1, 3, 1000] {
            let z = randomValues(rows, seed: 1, in: -3..<3), y = randomValues(rows, seed: 2, in: -3..<3)
            try check(.mse, z: z, y: y, cols: 1, Self.mse(z: z, y: y))
        }
    }

    /// Including logits of ±100, where the naive log(σ(z)) would give Inf, and soft targets.
    func testBCEWithLogitsStableForm() throws {
        let z: [Float] = [0, 3, -3, 40, -40, 0.7, 100, -100, 100, -100]
        let y: [Float] = [1, 0, 0, 1, 1, 0.25, 1, 0, 0, 1]
        let expected = Self.bce(z: z, y: y)
        XCTAssertEqual(expected.loss[6], 0, accuracy: 1e-40)  // the stable form really is stable
        XCTAssertEqual(expected.loss[8], 100, accuracy: 1e-12)
        try check(.bce, z: z, y: y, cols: 1, expected)
        for rows in [1, 1000] {
            let z = randomValues(rows, seed: 3, in: -8..<8)
            let y = randomValues(rows, seed: 4, in: 0..<1).map { $0 > 0.5 ? Float(1) : 0 }
            try check(.bce, z: z, y: y, cols: 1, Self.bce(z: z, y: y))
        }
    }

    func testSoftmaxCrossEntropy() throws {
        let z: [Float] = [1, 2, 3, 4, 100, -100, 0, 5, -1, -1, -1, -1, 1000, 0, -1000, 7]
        let y: [Float] = [3, 0, 2, 1]
        try check(.ce, z: z, y: y, cols: 4, Self.crossEntropy(z: z, y: y, cols: 4))
        for (rows, cols) in [(1, 1), (1, 2), (257, 10), (1000, 3)] {
            let z = randomValues(rows * cols, seed: 5, in: -50..<50)
            let y = randomValues(rows, seed: 6, in: 0..<Double(cols)).map { min($0.rounded(.down), Float(cols - 1)) }
            try check(.ce, z: z, y: y, cols: cols, Self.crossEntropy(z: z, y: y, cols: cols))
        }
    }

    /// Ties go to the first maximal logit (torch.argmax); a tied label is only correct there.
    func testCrossEntropyArgmaxTies() throws {
        let z: [Float] = [2, 5, 5, 5, 5, 2]
        for device in testDevices() {
            XCTAssertEqual(try run(device, .ce, z: z, y: [1, 0], cols: 3).correct, [1, 1], "\(label(device))")
            XCTAssertEqual(try run(device, .ce, z: z, y: [2, 1], cols: 3).correct, [0, 0], "\(label(device))")
        }
    }

    /// A label outside 0..<k, or not an integer, gives a NaN loss, is never correct, and its
    /// gradient is softmax/rows (no one-hot) on every device; the other rows are unaffected.
    func testCrossEntropyInvalidLabels() throws {
        let z: [Float] = [1, 2, 3, 3, 2, 1, 0, 0, 9, 1, 1, 1]
        let valid = Self.crossEntropy(z: z, y: [0, 0, 0, 0], cols: 3)
        var softmax = valid.gradient  // (softmax − onehot(0))/4: add the one-hot back
        for r in 0..<4 { softmax[r * 3] += 0.25 }
        for device in testDevices() {
            let out = try run(device, .ce, z: z, y: [-1, 3, 1.5, 0], cols: 3)
            XCTAssertTrue(out.loss[0..<3].allSatisfy(\.isNaN), "\(label(device)): \(out.loss)")
            XCTAssertEqual(Array(out.correct[0..<3]), [0, 0, 0], "\(label(device))")
            assertClose(Array(out.gradient[0..<9]), Array(softmax[0..<9]), tolerance: 1e-7, relative: 1e-5,
                        "\(label(device)) invalid-label gradient")
            assertClose(out.loss[3], valid.loss[3], tolerance: 1e-6, relative: 1e-6, "\(label(device)) valid row")
            assertClose(Array(out.gradient[9...]), Array(valid.gradient[9...]), tolerance: 1e-7, relative: 1e-5,
                        "\(label(device)) valid row gradient")
        }
    }

    /// A NaN logit makes its row's loss and gradient NaN, and only its row's.
    func testNaNLogitsPropagate() throws {
        for device in testDevices() {
            for kind in [LossKind.mse, .bce] {
                let out = try run(device, kind, z: [.nan, 0.5], y: [1, 1], cols: 1)
                XCTAssertTrue(out.loss[0].isNaN && out.gradient[0].isNaN, "\(label(device)) \(kind): \(out)")
                XCTAssertTrue(out.loss[1].isFinite && out.gradient[1].isFinite, "\(label(device)) \(kind): \(out)")
            }
            let out = try run(device, .ce, z: [1, .nan, 2, 1, 2, 3], y: [0, 2], cols: 3)
            XCTAssertTrue(out.loss[0].isNaN && out.gradient[0..<3].allSatisfy(\.isNaN), "\(label(device)) ce: \(out)")
            XCTAssertTrue(out.loss[1].isFinite && out.gradient[3..<6].allSatisfy(\.isFinite), "\(label(device)) ce: \(out)")
        }
    }

    /// cols = K models × `classes` outputs sharing the target: each block's gradient is its own
    /// model's, and row losses and correct flags come block-major ([K, rows]).
    func testIndependentModelsInBlocks() throws {
        let rows = 37
        for (kind, classes, models) in [(LossKind.mse, 1, 3), (.bce, 1, 4), (.ce, 3, 2), (.ce, 5, 3)] {
            let cols = classes * models
            let z = randomValues(rows * cols, seed: 8, in: -4..<4)
            let y: [Float] = switch kind {
            case .mse: randomValues(rows, seed: 9, in: -2..<2)
            case .bce: randomValues(rows, seed: 9, in: 0..<1).map { $0 > 0.5 ? 1 : 0 }
            case .ce: randomValues(rows, seed: 9, in: 0..<Double(classes)).map { min($0.rounded(.down), Float(classes - 1)) }
            }
            for device in testDevices() {
                let g = try device.makeBuffer(count: rows * cols), l = try device.makeBuffer(count: rows * models)
                let c = try device.makeBuffer(count: rows * models)
                try device.lossGradient(kind, logits: try device.makeBuffer(z), targets: try device.makeBuffer(y), at: 0,
                                        rows: rows, cols: cols, classes: classes, gradient: g, rowLoss: l, rowCorrect: c)
                let (gradient, loss, correct) = (try device.read(g), try device.read(l), try device.read(c))
                /// Model m's columns of a [rows, cols] matrix, as its own [rows, classes].
                func columns(_ x: [Float], _ m: Int) -> [Float] {
                    var out: [Float] = []
                    for r in 0..<rows {
                        let first: Int = r * cols + m * classes
                        out += x[first..<(first + classes)]
                    }
                    return out
                }
                for m in 0..<models {
                    let block = columns(z, m)
                    let expected = switch kind {
                    case .mse: Self.mse(z: block, y: y)
                    case .bce: Self.bce(z: block, y: y)
                    case .ce: Self.crossEntropy(z: block, y: y, cols: classes)
                    }
                    let name = "\(label(device)) \(kind) model \(m) of \(models)"
                    assertClose(Array(loss[(m * rows)..<((m + 1) * rows)]), expected.loss, tolerance: 1e-6, relative: 2e-6,
                                "\(name) loss")
                    XCTAssertEqual(Array(correct[(m * rows)..<((m + 1) * rows)]), expected.correct, name)
                    let mine = columns(gradient, m)
                    assertClose(mine, expected.gradient, tolerance: 2.5e-7 / Double(rows), relative: 1e-5, "\(name) gradient")
                }
            }
        }
        for device in testDevices() {  // 5 columns are not models of 2 classes; bce has 1 output per model
            let b = try device.makeBuffer(count: 10)
            XCTAssertThrowsError(try device.lossGradient(.ce, logits: b, targets: b, at: 0, rows: 2, cols: 5, classes: 2,
                                                         gradient: b, rowLoss: b, rowCorrect: b))
            XCTAssertThrowsError(try device.lossGradient(.bce, logits: b, targets: b, at: 0, rows: 2, cols: 4, classes: 2,
                                                         gradient: b, rowLoss: b, rowCorrect: b))
        }
    }
}

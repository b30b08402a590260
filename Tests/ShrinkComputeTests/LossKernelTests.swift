import Foundation
@testable import ShrinkCompute
import XCTest

/// lossGradient against Double formulas with PyTorch's conventions (mean reduction).
final class LossKernelTests: XCTestCase {
    private func run(_ device: any Device, _ loss: LossKind, z: [Float], y: [Float], cols: Int)
        throws -> (gradient: [Float], loss: [Float], correct: [Float]) {
        let rows = y.count
        let (g, l, c) = (try device.makeBuffer(count: rows * cols), try device.makeBuffer(count: rows),
                         try device.makeBuffer(count: rows))
        try device.lossGradient(loss, logits: try device.makeBuffer(z), targets: try device.makeBuffer([9] + y),
                                at: 1, rows: rows, cols: cols, gradient: g, rowLoss: l, rowCorrect: c)
        return (try device.read(g), try device.read(l), try device.read(c))
    }

    func testMSE() throws {
        let z: [Float] = [0.5, -1, 2], y: [Float] = [1, 1, 2]
        for device in ComputeDevices.all {
            let out = try run(device, .mse, z: z, y: y, cols: 1)
            assertClose(out.loss, zip(z, y).map { Double($0 - $1) * Double($0 - $1) }, "\(device.kind) mse loss")
            assertClose(out.gradient, zip(z, y).map { 2 * Double($0 - $1) / 3 }, "\(device.kind) mse grad")
        }
    }

    func testBCEWithLogitsStable() throws {
        let z: [Float] = [0, 3, -3, 40, -40, 0.7], y: [Float] = [1, 0, 0, 1, 1, 0.25]
        let expected = zip(z, y).map { zf, yf -> (Double, Double) in
            let (z, y) = (Double(zf), Double(yf))
            let loss = max(z, 0) - z * y + log(1 + exp(-abs(z)))  // the stable form
            return (loss, (1 / (1 + exp(-z)) - y) / 6)
        }
        for device in ComputeDevices.all {
            let out = try run(device, .bce, z: z, y: y, cols: 1)
            assertClose(out.loss, expected.map(\.0), tolerance: 1e-6, relative: 1e-5, "\(device.kind) bce loss")
            assertClose(out.gradient, expected.map(\.1), tolerance: 1e-7, relative: 1e-5, "\(device.kind) bce grad")
            XCTAssertEqual(out.correct, [0, 0, 1, 1, 0, 0], "\(device.kind) bce correct: (logit > 0) == (y > 0.5)")
        }
    }

    func testSoftmaxCrossEntropy() throws {
        let cols = 4
        let z: [Float] = [1, 2, 3, 4, 100, -100, 0, 5, -1, -1, -1, -1]
        let y: [Float] = [3, 0, 2]
        var grads: [Double] = [], losses: [Double] = []
        for r in 0..<3 {
            let row = z[(r * cols)..<(r * cols + cols)].map(Double.init)
            let top = row.max()!
            let lse = top + log(row.reduce(0) { $0 + exp($1 - top) })
            losses.append(lse - row[Int(y[r])])
            grads += row.indices.map { (exp(row[$0] - lse) - ($0 == Int(y[r]) ? 1 : 0)) / 3 }
        }
        for device in ComputeDevices.all {
            let out = try run(device, .ce, z: z, y: y, cols: cols)
            assertClose(out.loss, losses, tolerance: 1e-6, relative: 1e-5, "\(device.kind) ce loss")
            assertClose(out.gradient, grads, tolerance: 1e-7, relative: 1e-5, "\(device.kind) ce grad")
            XCTAssertEqual(out.correct, [1, 1, 0], "\(device.kind) ce correct")
            let bad = try run(device, .ce, z: [1, 2], y: [2], cols: 2)
            XCTAssertTrue(bad.loss[0].isNaN, "\(device.kind): a label outside 0..<k must give NaN")
        }
    }
}

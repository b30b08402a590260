import Foundation
@testable import ShrinkCompute
import XCTest

/// Penalty gradients and the L1 prox on every device, against Double formulas (SPEC §3).
final class PenaltyTests: XCTestCase {
    func testGradientOfEveryTermIncludingZeros() throws {
        let w: [Float] = [0, 0.5, -0.25, 0, 2, -3, 1e-20, -0.0]
        let g0 = randomValues(w.count, seed: 3)
        let (l1, l2, ln): (Float, Float, Float) = (0.1, 0.2, 0.3)
        let norm = w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let expected = zip(w, g0).map { wi, gi -> Double in
            let w = Double(wi)
            let sign: Double = w > 0 ? 1 : (w < 0 ? -1 : 0)
            return Double(gi) + Double(l1) * sign + 2 * Double(l2) * w + Double(ln) * w / norm
        }
        for device in ComputeDevices.all {
            let weights = try device.makeBuffer([Float(7)] + w)
            let gradient = try device.makeBuffer([Float(7)] + g0)
            let norms = try device.makeBuffer(count: 3)
            try device.norm(.l2, of: weights, at: 1, count: w.count, into: norms, at: 2, scale: 1, accumulate: false)
            try device.penaltyGradient(PenaltyCoefficients(l1: l1, l2: l2, l2Norm: ln), weights: weights,
                                       gradient: gradient, at: 1, count: w.count, norms: norms, normIndex: 2)
            let out = try device.read(gradient)
            XCTAssertEqual(out[0], 7, "\(device.kind): wrote outside the range")
            assertClose(Array(out[1...]), expected, tolerance: 1e-6, relative: 1e-6, "\(device.kind) penalty gradient")
        }
    }

    /// ‖w‖₂ = 0 contributes nothing (not NaN); a NaN weight gives a NaN gradient.
    func testZeroNormAndNaN() throws {
        for device in ComputeDevices.all {
            let weights = try device.makeBuffer([Float]([0, 0, .nan]))
            let gradient = try device.makeBuffer([Float]([1, 2, 3]))
            let norms = try device.makeBuffer([Float]([0]))
            try device.penaltyGradient(PenaltyCoefficients(l1: 0.5, l2: 0, l2Norm: 1), weights: weights,
                                       gradient: gradient, at: 0, count: 2, norms: norms, normIndex: 0)
            XCTAssertEqual(Array(try device.read(gradient)[0..<2]), [1, 2], "\(device.kind): zero norm")
            try device.penaltyGradient(PenaltyCoefficients(l1: 0.5), weights: weights, gradient: gradient,
                                       at: 2, count: 1, norms: norms, normIndex: 0)
            XCTAssertTrue(try device.read(gradient)[2].isNaN, "\(device.kind): NaN weight")
        }
    }

    func testProximalSoftThreshold() throws {
        let w: [Float] = [0, 0.05, -0.05, 0.1, -0.3, 2, .nan, .infinity]
        let t: Float = 0.1
        let expected = w.map { v -> Double in
            if v.isNaN { return .nan }
            let sign: Double = v > 0 ? 1 : (v < 0 ? -1 : 0)
            return sign * max(abs(Double(v)) - Double(t), 0)
        }
        for device in ComputeDevices.all {
            let buffer = try device.makeBuffer(w)
            try device.proximalL1(buffer, at: 0, count: w.count, threshold: t)
            let out = try device.read(buffer)
            assertClose(out, expected, tolerance: 1e-7, relative: 1e-6, "\(device.kind) prox")
            XCTAssertEqual(Array(out[0..<4]), [0, 0, 0, 0], "\(device.kind): prox must give exact zeros")
        }
    }
}

import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// penaltyGradient and proximalL1 on every device against the formulas of Penalty.swift's table in Double:
/// g += λ₁·sign(w) + 2λ₂·w + λₙ·w/‖w‖₂ (sign(0) = 0; no ‖w‖₂ term where ‖w‖₂ = 0) and
/// w ← sign(w)·max(|w| − t, 0).
final class PenaltyTests: XCTestCase {
    static func sign(_ w: Double) -> Double { w > 0 ? 1 : (w < 0 ? -1 : (w == 0 ? 0 : .nan)) }

    /// The expected gradient for weights `w`, old gradient `g` and the stored norm `norm`.
    static func expectedGradient(_ p: PenaltyCoefficients, w: [Float], g: [Float], norm: Float) -> [Double] {
        let (l1, l2, ln, n) = (Double(p.l1), Double(p.l2), Double(p.l2Norm), Double(norm))
        return zip(w, g).map { wf, gf in
            let w = Double(wf)
            var out = Double(gf)
            if l1 != 0 { out += l1 * sign(w) }
            if l2 != 0 { out += 2 * l2 * w }
            if ln != 0 && (n > 0 || n.isNaN) { out += ln * w / n }
            return out
        }
    }

    /// Runs penaltyGradient on w placed at `offset`, with the norm stored at norms[2].
    private func gradient(_ device: any Device, _ p: PenaltyCoefficients, w: [Float], g: [Float], norm: Float,
                          offset: Int) throws -> [Float] {
        let weights = try device.makeBuffer(padded(w, before: offset))
        let gradient = try device.makeBuffer(padded(g, before: offset))
        let norms = try device.makeBuffer([Float]([.nan, .nan, norm, .nan]))
        try device.penaltyGradient(p, weights: weights, gradient: gradient, at: offset, count: w.count,
                                   norms: norms, normIndex: 2)
        let out = try device.read(gradient)
        assertSentinels(out, offset: offset, count: w.count, "\(label(device)) penalty gradient")
        return Array(out[offset..<(offset + w.count)])
    }

    /// Each term alone and all together, with exact zeros (±0) among the weights.
    func testEveryTermAloneAndCombined() throws {
        var w = randomValues(1000, seed: 1, in: -2..<2)
        for i in stride(from: 0, to: w.count, by: 7) { w[i] = 0 }
        w[3] = -0.0
        let g = randomValues(w.count, seed: 2)
        let norm = Float(w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        let cases = [PenaltyCoefficients(l1: 0.1), PenaltyCoefficients(l2: 0.2), PenaltyCoefficients(l2Norm: 0.3),
                     PenaltyCoefficients(l1: 0.1, l2: 0.2, l2Norm: 0.3), PenaltyCoefficients()]
        for device in testDevices() {
            for p in cases {
                let got = try gradient(device, p, w: w, g: g, norm: norm, offset: 5)
                assertClose(got, Self.expectedGradient(p, w: w, g: g, norm: norm), tolerance: 1e-6, relative: 1e-6,
                            "\(label(device)) \(p)")
                for i in stride(from: 0, to: w.count, by: 7) where w[i] == 0 {
                    XCTAssertEqual(got[i], g[i], "\(label(device)) \(p): w = 0 must add nothing (sign(0) = 0)")
                }
            }
        }
    }

    /// More elements than one chunk of the CPU's parallel loop or many OpenCL work-groups
    /// (under `SHRINK_TEST_SMALL=1`: 17 work-groups of 256, the last one partly empty).
    func testLongRangeAtAnOffset() throws {
        let count = testSize(150_001, small: 4_099)
        let w = randomValues(count, seed: 3), g = randomValues(count, seed: 4)
        let p = PenaltyCoefficients(l1: 0.01, l2: 0.5, l2Norm: 2)
        let norm: Float = 123.25
        let expected = Self.expectedGradient(p, w: w, g: g, norm: norm)
        for device in testDevices() {
            assertClose(try gradient(device, p, w: w, g: g, norm: norm, offset: 9), expected, tolerance: 1e-6,
                        relative: 1e-6, "\(label(device)) long range")
        }
    }

    /// ‖w‖₂ = 0 (all weights zero) contributes nothing, not NaN; with λₙ = 0 the norm is not
    /// read at all (a NaN there must not leak).
    func testZeroNormAndUnreadNorm() throws {
        for device in testDevices() {
            let zeros = [Float](repeating: 0, count: 5), g: [Float] = [1, -2, 3, -4, 5]
            let p = PenaltyCoefficients(l1: 0.5, l2: 0.25, l2Norm: 1)
            XCTAssertEqual(try gradient(device, p, w: zeros, g: g, norm: 0, offset: 1), g, "\(label(device)) zero norm")
            let w: [Float] = [1, -1, 0, 2, -0.5]
            let q = PenaltyCoefficients(l1: 0.5, l2: 0.25)
            assertClose(try gradient(device, q, w: w, g: g, norm: .nan, offset: 0),
                        Self.expectedGradient(q, w: w, g: g, norm: .nan), tolerance: 1e-7, relative: 1e-7,
                        "\(label(device)) norm unread when λₙ = 0")
        }
    }

    /// A NaN weight gives a NaN gradient (sign(NaN) is NaN, not 0) for every term; a NaN norm
    /// poisons the λₙ term; an infinite weight gives an infinite gradient.
    func testNaNAndInfPropagate() throws {
        let w: [Float] = [.nan, 1, .infinity, 0]
        let g: [Float] = [0, 0, 0, 0]
        for device in testDevices() {
            for p in [PenaltyCoefficients(l1: 0.5), PenaltyCoefficients(l2: 0.5)] {
                let got = try gradient(device, p, w: w, g: g, norm: 2, offset: 2)
                assertClose(got, Self.expectedGradient(p, w: w, g: g, norm: 2), tolerance: 1e-7, relative: 1e-7,
                            "\(label(device)) \(p) with NaN/Inf")
                XCTAssertTrue(got[0].isNaN, "\(label(device)) \(p): NaN weight")
            }
            let nanNorm = try gradient(device, PenaltyCoefficients(l2Norm: 1), w: [1, 2], g: [0, 0], norm: .nan, offset: 0)
            XCTAssertTrue(nanNorm.allSatisfy(\.isNaN), "\(label(device)) NaN norm: \(nanNorm)")
        }
    }

    // MARK: Proximal step

    static func expectedProx(_ w: [Float], threshold: Float) -> [Double] {
        w.map { v in
            let x = Double(v)
            return x.isNaN ? .nan : sign(x) * max(abs(x) - Double(threshold), 0)
        }
    }

    func testProximalSoftThreshold() throws {
        let t: Float = 0.125
        var w: [Float] = [0, -0.0, 0.05, -0.05, 0.125, -0.125, 0.25, -0.3, 2, .nan, .infinity, -.infinity]
        w += randomValues(testSize(100_000, small: 2_000), seed: 5)
        let expected = Self.expectedProx(w, threshold: t)
        for device in testDevices() {
            let buffer = try device.makeBuffer(padded(w, before: 4))
            try device.proximalL1(buffer, at: 4, count: w.count, threshold: t)
            let all = try device.read(buffer)
            assertSentinels(all, offset: 4, count: w.count, "\(label(device)) prox")
            let out = Array(all[4..<(4 + w.count)])
            assertClose(out, expected, tolerance: 1e-7, relative: 1e-6, "\(label(device)) prox")
            XCTAssertEqual(Array(out[0..<6]), [0, 0, 0, 0, 0, 0], "\(label(device)): |w| ≤ t must give exact zeros")
            XCTAssertEqual(out.filter { $0 == 0 }.count, expected.filter { $0 == 0 }.count, "\(label(device)) zero count")
        }
    }

    func testProximalWithZeroThresholdIsIdentity() throws {
        let w: [Float] = [0, 1.5, -2.25, 1e-30]
        for device in testDevices() {
            let buffer = try device.makeBuffer(w)
            try device.proximalL1(buffer, at: 0, count: w.count, threshold: 0)
            XCTAssertEqual(try device.read(buffer), w, "\(label(device))")
        }
    }

    /// Per-parameter coefficients: g += l1ᵢ·sign(wᵢ) + 2·l2ᵢ·wᵢ, a zero coefficient adding no
    /// term (an infinite weight under l2 = 0 stays out of the gradient), the same numbers as
    /// `penaltyGradient` with those coefficients.
    func testPerParameterCoefficients() throws {
        let count = 1003
        var w = randomValues(count, seed: 31, in: -2..<2)
        w[0] = 0; w[1] = .infinity; w[2] = .nan
        let g = randomValues(count, seed: 32)
        let l1 = (0..<count).map { Float($0 % 3 == 0 ? 0 : 0.01 * Double($0 % 7)) }
        var l2 = (0..<count).map { Float($0 % 5 == 0 ? 0 : 0.02 * Double($0 % 4)) }
        l2[1] = 0
        for device in testDevices() {
            let gradient = try device.makeBuffer(g)
            try device.penaltyGradient(l1: try device.makeBuffer(l1), l2: try device.makeBuffer(l2),
                                       weights: try device.makeBuffer(w), gradient: gradient, count: count)
            let out = try device.read(gradient)
            for i in 0..<count {
                let v = Double(w[i])
                var d = 0.0
                if l1[i] != 0 { d += Double(l1[i]) * (v.isNaN ? .nan : v > 0 ? 1 : v < 0 ? -1 : 0) }
                if l2[i] != 0 { d += 2 * Double(l2[i]) * v }
                let e = Double(g[i]) + d
                if e.isNaN { XCTAssertTrue(out[i].isNaN, "\(label(device)) \(i)"); continue }
                XCTAssertEqual(Double(out[i]), e, accuracy: 1e-6 * max(1, abs(e)), "\(label(device)) \(i)")
            }
        }
    }
}

import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// sgdStep and adamStep over several steps on every device against torch.optim's update
/// rules, written here by hand in Double (torch/optim/sgd.py and adam.py / adamw.py).
final class OptimizerKernelTests: XCTestCase {
    static let count = 1000
    static let offset = 7
    static let initial = randomValues(count, seed: 11)
    /// Four steps of gradients; a few exact zeros (Adam then divides 0 by ε).
    static let gradients: [[Float]] = (0..<4).map { t in
        var g = randomValues(count, seed: 20 + UInt64(t), in: -2..<2)
        for i in stride(from: 0, to: count, by: 97) { g[i] = 0 }
        return g
    }

    // MARK: torch.optim in Double

    /// torch.optim.SGD: d = g + wd·w; with μ ≠ 0: b = d on the first step, else
    /// b = μ·b + (1 − dampening)·d; d = nesterov ? d + μ·b : b; w −= lr·d.
    static func sgdReference(lr: Double, momentum: Double, dampening: Double, weightDecay: Double,
                             nesterov: Bool, steps: Int) -> [Double] {
        var w = initial.map(Double.init)
        var buffer = [Double](repeating: 0, count: count)
        for t in 0..<steps {
            for i in 0..<count {
                var d = Double(gradients[t][i]) + weightDecay * w[i]
                if momentum != 0 {
                    buffer[i] = t == 0 ? d : momentum * buffer[i] + (1 - dampening) * d
                    d = nesterov ? d + momentum * buffer[i] : buffer[i]
                }
                w[i] -= lr * d
            }
        }
        return w
    }

    /// torch.optim.Adam (weight decay added to the gradient) and AdamW (w ← w·(1 − lr·wd) first):
    /// m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²; w −= lr/(1 − β₁ᵗ)·m / (√v/√(1 − β₂ᵗ) + ε).
    static func adamReference(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double,
                              decoupled: Bool, steps: Int) -> [Double] {
        var w = initial.map(Double.init)
        var m = [Double](repeating: 0, count: count), v = m
        for t in 0..<steps {
            let step = Double(t + 1)
            for i in 0..<count {
                var g = Double(gradients[t][i])
                if decoupled { w[i] *= 1 - lr * weightDecay } else { g += weightDecay * w[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let denominator = v[i].squareRoot() / (1 - pow(beta2, step)).squareRoot() + eps
                w[i] -= lr / (1 - pow(beta1, step)) * m[i] / denominator
            }
        }
        return w
    }

    // MARK: SGD

    /// Runs `steps` SGD steps on the parameters at `offset`; the momentum buffer starts as NaN,
    /// which the first step must overwrite without reading.
    private func sgd(_ device: any Device, _ hyper: SGDHyperparameters, steps: Int) throws -> [Float] {
        let weights = try device.makeBuffer(padded(Self.initial, before: Self.offset))
        let momentum = try device.makeBuffer(padded([Float](repeating: .nan, count: Self.count), before: Self.offset))
        for t in 0..<steps {
            let gradient = try device.makeBuffer(padded(Self.gradients[t], before: Self.offset))
            try device.sgdStep(hyper, weights: weights, gradient: gradient, momentum: momentum, at: Self.offset,
                               count: Self.count, isFirstStep: t == 0)
        }
        let out = try device.read(weights)
        assertSentinels(out, offset: Self.offset, count: Self.count, "\(label(device)) sgd")
        return Array(out[Self.offset..<(Self.offset + Self.count)])
    }

    private func checkSGD(lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
                          nesterov: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let hyper = SGDHyperparameters(learningRate: Float(lr), momentum: Float(momentum), dampening: Float(dampening),
                                       weightDecay: Float(weightDecay), nesterov: nesterov)
        for steps in [1, 2, 4] {  // the first step (b = d), then later ones (b = μb + (1 − τ)d)
            let expected = Self.sgdReference(lr: lr, momentum: momentum, dampening: dampening, weightDecay: weightDecay,
                                             nesterov: nesterov, steps: steps)
            for device in testDevices() {
                assertClose(try sgd(device, hyper, steps: steps), expected, tolerance: 1e-6, relative: 1e-5,
                            "\(label(device)) \(hyper) after \(steps) steps", file: file, line: line)
            }
        }
    }

    func testPlainSGD() throws { try checkSGD(lr: 0.1) }
    func testSGDWeightDecay() throws { try checkSGD(lr: 0.1, weightDecay: 0.01) }
    func testSGDMomentum() throws { try checkSGD(lr: 0.1, momentum: 0.9) }
    func testSGDMomentumWeightDecayDampening() throws { try checkSGD(lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.02) }
    func testSGDNesterov() throws { try checkSGD(lr: 0.05, momentum: 0.8, weightDecay: 0.01, nesterov: true) }

    /// Without momentum the momentum buffer is neither read nor written (it may be tiny).
    func testSGDWithoutMomentumLeavesTheBufferAlone() throws {
        for device in testDevices() {
            let weights = try device.makeBuffer([Float]([1, 2])), gradient = try device.makeBuffer([Float]([0.5, -1]))
            let momentum = try device.makeBuffer([Float]([42]))
            try device.sgdStep(SGDHyperparameters(learningRate: 0.5), weights: weights, gradient: gradient,
                               momentum: momentum, at: 0, count: 2, isFirstStep: true)
            XCTAssertEqual(try device.read(weights), [0.75, 2.5], "\(label(device))")
            XCTAssertEqual(try device.read(momentum), [42], "\(label(device))")
        }
    }

    // MARK: Adam and AdamW

    /// Runs `steps` Adam steps on the parameters at `offset` (moments start at 0).
    private func adam(_ device: any Device, _ hyper: AdamHyperparameters, steps: Int) throws -> [Float] {
        let o = Self.offset
        let weights = try device.makeBuffer(padded(Self.initial, before: o))
        let m = try device.makeBuffer(count: Self.count + o), v = try device.makeBuffer(count: Self.count + o)
        for t in 0..<steps {
            try device.adamStep(hyper, weights: weights, gradient: try device.makeBuffer(padded(Self.gradients[t], before: o)),
                                firstMoment: m, secondMoment: v, at: o, count: Self.count, step: t + 1)
        }
        let out = try device.read(weights)
        assertSentinels(out, offset: o, count: Self.count, "\(label(device)) adam")
        return Array(out[o..<(o + Self.count)])
    }

    private func checkAdam(lr: Double, weightDecay: Double, decoupled: Bool, beta1: Double = 0.9, beta2: Double = 0.999,
                           eps: Double = 1e-8, file: StaticString = #filePath, line: UInt = #line) throws {
        let hyper = AdamHyperparameters(learningRate: Float(lr), beta1: Float(beta1), beta2: Float(beta2),
                                        epsilon: Float(eps), weightDecay: Float(weightDecay), decoupled: decoupled)
        let steps = Self.gradients.count
        let expected = Self.adamReference(lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
                                          decoupled: decoupled, steps: steps)
        for device in testDevices() {
            assertClose(try adam(device, hyper, steps: steps), expected, tolerance: 1e-6, relative: 1e-5,
                        "\(label(device)) \(hyper) after \(steps) steps", file: file, line: line)
        }
    }

    func testAdamDefaults() throws { try checkAdam(lr: 1e-3, weightDecay: 0, decoupled: false) }
    func testAdamCoupledWeightDecay() throws { try checkAdam(lr: 1e-2, weightDecay: 0.1, decoupled: false) }
    func testAdamWDecoupledWeightDecay() throws { try checkAdam(lr: 1e-2, weightDecay: 0.1, decoupled: true) }
    func testAdamOtherBetas() throws {
        try checkAdam(lr: 3e-2, weightDecay: 0.01, decoupled: true, beta1: 0.5, beta2: 0.9, eps: 1e-6)
    }

    /// Adam's and AdamW's weight decay differ (Loshchilov & Hutter): on every device each
    /// flag's result is close to its own rule and far from the other's, so a device that
    /// applied one rule for both would fail here.
    func testCoupledAndDecoupledDiffer() throws {
        let steps = Self.gradients.count
        for device in testDevices() {
            for decoupled in [false, true] {
                let hyper = AdamHyperparameters(learningRate: 1e-2, weightDecay: 0.1, decoupled: decoupled)
                let result = try adam(device, hyper, steps: steps)
                for rule in [false, true] {
                    let reference = Self.adamReference(lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1,
                                                       decoupled: rule, steps: steps)
                    let gap = zip(result, reference).map { abs(Double($0) - $1) }.max()!
                    if rule == decoupled {
                        XCTAssertLessThan(gap, 1e-5, "\(label(device)) decoupled: \(decoupled): its own rule")
                    } else {
                        XCTAssertGreaterThan(gap, 1e-4, "\(label(device)) decoupled: \(decoupled): the other rule")
                    }
                }
            }
        }
    }

    /// One FISTA step against a Double loop: the weights [rows, cols] soft-thresholded and
    /// shrunk row by row (exact zeros where |v| ≤ t_r), the tail (intercepts) a plain step,
    /// then z ← (1 + μ)x⁺ − μx and x ← x⁺; a NaN stays NaN.
    func testFISTAStep() throws {
        let (rows, cols, tail) = (5, 37, 6)
        let count = rows * cols + tail
        var z = randomValues(count, seed: 41, in: -2..<2)
        z[3] = .nan
        let g = randomValues(count, seed: 42), x = randomValues(count, seed: 43)
        let thresholds: [Float] = [0, 0.2, 0.5, 1.5, 0.05], scales: [Float] = [1, 0.9, 0.5, 1, 0.99]
        let (step, momentum): (Float, Float) = (0.25, 0.6)
        var nextZ = [Double](), nextX = [Double]()
        for i in 0..<count {
            var v = Double(z[i]) - Double(step) * Double(g[i])
            if i < rows * cols {
                let r = i / cols
                v = v.isNaN ? .nan : (v > 0 ? 1.0 : v < 0 ? -1.0 : 0) * max(abs(v) - Double(thresholds[r]), 0) * Double(scales[r])
            }
            nextX.append(v)
            nextZ.append((1 + Double(momentum)) * v - Double(momentum) * Double(x[i]))
        }
        for device in testDevices() {
            let (zb, xb) = (try device.makeBuffer(z), try device.makeBuffer(x))
            try device.fistaStep(z: zb, gradient: try device.makeBuffer(g), x: xb, count: count, rows: rows, cols: cols,
                                 step: step, momentum: momentum, thresholds: try device.makeBuffer(thresholds),
                                 scales: try device.makeBuffer(scales))
            let (outZ, outX) = (try device.read(zb), try device.read(xb))
            XCTAssertTrue(outX[3].isNaN && outZ[3].isNaN, "\(label(device)): NaN stays NaN")
            var (ez, ex) = (nextZ, nextX)
            (ez[3], ex[3]) = (0, 0)
            var (gz, gx) = (outZ, outX)
            (gz[3], gx[3]) = (0, 0)
            assertClose(gx, ex, tolerance: 1e-6, relative: 1e-6, "\(label(device)) x")
            assertClose(gz, ez, tolerance: 1e-6, relative: 1e-6, "\(label(device)) z")
            XCTAssertEqual(outX.filter { $0 == 0 }.count, nextX.filter { $0 == 0 }.count, "\(label(device)) exact zeros")
        }
        XCTAssertThrowsError(try testDevices()[0].fistaStep(
            z: try testDevices()[0].makeBuffer(z), gradient: try testDevices()[0].makeBuffer(g),
            x: try testDevices()[0].makeBuffer(x), count: 10, rows: 5, cols: 3, step: 1, momentum: 0,
            thresholds: try testDevices()[0].makeBuffer(thresholds), scales: try testDevices()[0].makeBuffer(scales)))
    }
}

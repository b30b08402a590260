import Foundation
@testable import ShrinkCompute
import XCTest

/// sgdStep and adamStep over several steps against torch.optim's rules written in Double.
final class OptimizerKernelTests: XCTestCase {
    private let w0 = randomValues(37, seed: 11)
    private let grads = (0..<4).map { randomValues(37, seed: 20 + UInt64($0)) }

    func testSGDMomentumAndWeightDecay() throws {
        let (lr, mu, wd) = (0.1, 0.9, 0.01)
        var w = w0.map(Double.init), b = [Double](repeating: 0, count: 37)
        for (t, g) in grads.enumerated() {
            for i in w.indices {
                let d = Double(g[i]) + wd * w[i]
                b[i] = t == 0 ? d : mu * b[i] + d
                w[i] -= lr * b[i]
            }
        }
        for device in ComputeDevices.all {
            let (weights, momentum) = (try device.makeBuffer(w0), try device.makeBuffer(count: 37))
            for (t, g) in grads.enumerated() {
                try device.sgdStep(SGDHyperparameters(learningRate: Float(lr), momentum: Float(mu), weightDecay: Float(wd)),
                                   weights: weights, gradient: try device.makeBuffer(g), momentum: momentum,
                                   at: 0, count: 37, isFirstStep: t == 0)
            }
            assertClose(try device.read(weights), w, tolerance: 1e-6, relative: 1e-5, "\(device.kind) sgd")
        }
    }

    func testAdamCoupledAndAdamWDecoupled() throws {
        let (lr, b1, b2, eps, wd) = (1e-2, 0.9, 0.999, 1e-8, 0.1)
        for decoupled in [false, true] {
            var w = w0.map(Double.init), m = [Double](repeating: 0, count: 37), v = m
            for (t, gf) in grads.enumerated() {
                let step = Double(t + 1)
                for i in w.indices {
                    var g = Double(gf[i])
                    if decoupled { w[i] *= 1 - lr * wd } else { g += wd * w[i] }
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    let denom = (v[i].squareRoot() / (1 - pow(b2, step)).squareRoot()) + eps
                    w[i] -= lr / (1 - pow(b1, step)) * m[i] / denom
                }
            }
            for device in ComputeDevices.all {
                let weights = try device.makeBuffer(w0)
                let (mb, vb) = (try device.makeBuffer(count: 37), try device.makeBuffer(count: 37))
                for (t, g) in grads.enumerated() {
                    try device.adamStep(AdamHyperparameters(learningRate: Float(lr), weightDecay: Float(wd), decoupled: decoupled),
                                        weights: weights, gradient: try device.makeBuffer(g), firstMoment: mb,
                                        secondMoment: vb, at: 0, count: 37, step: t + 1)
                }
                assertClose(try device.read(weights), w, tolerance: 1e-6, relative: 1e-5,
                            "\(device.kind) adam decoupled=\(decoupled)")
            }
        }
    }
}

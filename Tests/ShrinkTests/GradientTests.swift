import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

/// The device's gradient of (data loss + penalty) against central finite differences of an
/// independent double-precision forward pass, for every loss × penalty × model, on every device.
final class GradientTests: XCTestCase {
    private let penalties: [(String, Penalty)] = [
        ("none", Penalty()),
        ("l1", Penalty(l1: 0.03)),
        ("l2", Penalty(l2: 0.05)),
        ("l2-norm", Penalty(l2Norm: 0.07)),
        ("elastic+norm", Penalty(l1: 0.02, l2: 0.04, l2Norm: 0.06)),
        ("weights-only", Penalty(l1: 0.02, l2: 0.04, l2Norm: 0.06, scope: .weights)),
    ]
    private let architectures: [Architecture] = [.linear, .mlp([5, 4])]

    func testGradientsMatchFiniteDifferences() throws {
        for device in TrainingDevices.all {
            for loss in LossKind.allCases {
                let data = try makeDataset(rows: 12, columns: 4, loss: loss)
                for architecture in architectures {
                    for (name, penalty) in penalties {
                        try check(device: device, loss: loss, architecture: architecture, penalty: penalty, data: data,
                                  label: "\(device.kind) \(loss) \(architecture) \(name)")
                    }
                }
            }
        }
    }

    private func check(device: any Device, loss: LossKind, architecture: Architecture, penalty: Penalty,
                       data: Dataset, label: String) throws {
        let configuration = TrainingConfiguration(architecture: architecture, loss: loss, optimizer: .sgd(),
                                                  learningRate: 0.1, penalty: penalty, epochs: 1, batchSize: 0,
                                                  shuffle: false, seed: 3)
        let trainer = try Trainer(device: device, configuration: configuration, train: data)
        let (dataLoss, penaltyValue, gradient) = try trainer.evaluateGradient(firstRow: 0, rows: data.rows)
        let reference = ReferenceObjective(layout: trainer.model.layout, loss: loss, penalty: penalty, data: data)
        let w = try trainer.model.parameterValues().map(Double.init)

        let (refData, refPenalty) = reference.value(w)
        XCTAssertEqual(dataLoss, refData, accuracy: 1e-5 * (1 + abs(refData)), "\(label): data loss")
        XCTAssertEqual(penaltyValue, refPenalty, accuracy: 1e-5 * (1 + abs(refPenalty)), "\(label): penalty")

        let h = 1e-6
        let numeric = w.indices.map { i -> Double in
            var plus = w, minus = w
            plus[i] += h; minus[i] -= h
            let (a, b) = (reference.value(plus), reference.value(minus))
            return ((a.0 + a.1) - (b.0 + b.1)) / (2 * h)
        }
        assertClose(gradient, numeric, tolerance: 2e-5, relative: 1e-4, "\(label): gradient")
    }
}

/// (data loss, penalty) of a Sequential of Linear/ReLU layers, in Double, written from the
/// definitions and sharing no code with the library's kernels.
struct ReferenceObjective {
    let layout: ParameterLayout
    let loss: LossKind
    let penalty: Penalty
    let data: Dataset

    func value(_ w: [Double]) -> (Double, Double) {
        var total = 0.0
        for r in 0..<data.rows {
            var a = (0..<data.columns).map { Double(data.features[r * data.columns + $0]) }
            for (l, layer) in layout.layers.enumerated() {
                a = (0..<layer.outputs).map { o in
                    var z = w[layer.bias.offset + o]
                    for i in 0..<layer.inputs { z += w[layer.weight.offset + o * layer.inputs + i] * a[i] }
                    return l < layout.layers.count - 1 ? max(z, 0) : z
                }
            }
            let y = Double(data.targets[r])
            switch loss {
            case .mse: total += (a[0] - y) * (a[0] - y)
            case .bce: total += -(y * log(1 / (1 + exp(-a[0]))) + (1 - y) * log(1 - 1 / (1 + exp(-a[0]))))
            case .ce: total += log(a.map { exp($0) }.reduce(0, +)) - a[Int(y)]
            }
        }
        var p = 0.0
        for slot in layout.slots where penalty.scope == .all || slot.name.hasSuffix("weight") {
            let v = w[slot.offset..<(slot.offset + slot.count)]
            p += Double(penalty.l1) * v.reduce(0) { $0 + abs($1) }
            p += Double(penalty.l2) * v.reduce(0) { $0 + $1 * $1 }
            p += Double(penalty.l2Norm) * v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        }
        return (total / Double(data.rows), p)
    }
}

import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

final class TrainerTests: XCTestCase {
    private func train(_ device: any Device, _ configuration: TrainingConfiguration, _ data: Dataset,
                       test: Dataset? = nil) throws -> (metrics: [EpochMetrics], weights: [Float]) {
        let trainer = try Trainer(device: device, configuration: configuration, train: data, test: test)
        var metrics: [EpochMetrics] = []
        try trainer.run { metrics.append($0) }
        return (metrics, try trainer.model.parameterValues())
    }

    /// The same shuffled mini-batch run on the CPU and on OpenCL agrees epoch by epoch.
    func testDevicesAgreeStepByStep() throws {
        guard TrainingDevices.all.count > 1 else { throw XCTSkip("no OpenCL device") }
        let data = try makeDataset(rows: 53, columns: 6, loss: .bce)
        let configuration = TrainingConfiguration(architecture: .mlp([16]), loss: .bce, optimizer: .sgd(momentum: 0.9),
                                                  learningRate: 0.05, penalty: Penalty(l1: 0.01, l2Norm: 0.01),
                                                  epochs: 4, batchSize: 8, shuffle: true, seed: 11)
        let cpu = try train(TrainingDevices.all[0], configuration, data)
        let gpu = try train(TrainingDevices.all[1], configuration, data)
        for (a, b) in zip(cpu.metrics, gpu.metrics) {
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-5 * abs(a.loss), "epoch \(a.epoch) loss")
            XCTAssertEqual(a.trainAccuracy, b.trainAccuracy)
        }
        assertClose(gpu.weights, cpu.weights.map(Double.init), tolerance: 1e-5, relative: 1e-4, "weights")
    }

    /// The proximal L1 step reaches exact zeros on a sparse regression; the subgradient does not.
    func testProximalL1ReachesExactZeros() throws {
        var rng = SeededGenerator(seed: 5)
        let (n, p) = (200, 20)
        let x = (0..<(n * p)).map { _ in Float(rng.normal()) }
        let y = (0..<n).map { r in 3 * x[r * p] - 2 * x[r * p + 1] + 1.5 * x[r * p + 2] + Float(0.1 * rng.normal()) }
        let data = try Dataset(features: x, targets: y, rows: n, columns: p)
        for device in TrainingDevices.all {
            var configuration = TrainingConfiguration(architecture: .linear, loss: .mse, optimizer: .sgd(),
                                                      learningRate: 0.05, penalty: Penalty(l1: 0.1, scope: .weights),
                                                      epochs: 200, batchSize: 0, shuffle: false, seed: 1)
            let subgradient = try train(device, configuration, data)
            configuration.penalty.proximal = true
            let proximal = try train(device, configuration, data)
            let zeroWeights = proximal.weights[0..<p].filter { $0 == 0 }.count
            XCTAssertGreaterThanOrEqual(zeroWeights, p - 3, "\(device.kind): prox zeros")
            XCTAssertTrue(proximal.weights[0..<3].allSatisfy { $0 != 0 }, "\(device.kind): true coefficients survive")
            XCTAssertEqual(subgradient.weights[0..<p].filter { $0 == 0 }.count, 0, "\(device.kind): subgradient zeros")
            XCTAssertEqual(proximal.metrics.last?.zeros, zeroWeights)
        }
    }

    /// SGD: --weight-decay λ is --l2 λ/2. Adam's coupled decay is also L2; AdamW's is not.
    func testWeightDecayVersusL2() throws {
        let data = try makeDataset(rows: 40, columns: 5, loss: .mse)
        let device = TrainingDevices.all.last!
        func run(_ optimizer: Optimizer, l2: Float) throws -> [Float] {
            try train(device, TrainingConfiguration(architecture: .mlp([6]), loss: .mse, optimizer: optimizer,
                                                    learningRate: 0.01, penalty: Penalty(l2: l2), epochs: 30,
                                                    batchSize: 10, shuffle: false, seed: 2), data).weights
        }
        let sgdDecay = try run(.sgd(weightDecay: 0.2), l2: 0)
        let sgdL2 = try run(.sgd(), l2: 0.1)
        assertClose(sgdDecay, sgdL2.map(Double.init), tolerance: 1e-6, relative: 1e-5, "sgd decay vs l2")
        let adamDecay = try run(.adam(weightDecay: 0.2), l2: 0)
        let adamL2 = try run(.adam(), l2: 0.1)
        assertClose(adamDecay, adamL2.map(Double.init), tolerance: 1e-5, relative: 1e-4, "adam decay vs l2")
        let adamW = try run(.adamw(weightDecay: 0.2), l2: 0)
        let gap = zip(adamW, adamL2).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(gap, 1e-4, "AdamW should differ from L2-regularized Adam")
    }

    /// Reported metrics against their definitions, computed here in Double from the model's
    /// parameters: with one full batch per epoch the epoch's data loss, penalty (λ₁·Σ|W|) and
    /// train accuracy are those of the parameters the epoch started from, the test accuracy
    /// and test loss those it ended with; ‖W‖₁, ‖W‖₂, near_zero and zeros of the end weights.
    func testMetricsFollowDefinitions() throws {
        let (classes, columns, l1) = (3, 4, 0.01)
        let data = try makeDataset(rows: 60, columns: columns, loss: .ce, classes: classes)
        let test = try makeDataset(rows: 17, columns: columns, loss: .ce, classes: classes, seed: 99)
        /// Mean cross-entropy and accuracy of the linear model (W [classes, columns], b) on `set`.
        func crossEntropy(_ w: [Float], _ b: [Float], _ set: Dataset) -> (loss: Double, accuracy: Double) {
            var (total, right) = (0.0, 0)
            for r in 0..<set.rows {
                let z = (0..<classes).map { c in
                    Double(b[c]) + (0..<columns).reduce(0.0) { $0 + Double(w[c * columns + $1]) * Double(set.features[r * columns + $1]) }
                }
                let top = z.max()!, label = Int(set.targets[r])
                total += top + log(z.reduce(0.0) { $0 + exp($1 - top) }) - z[label]
                if z.firstIndex(of: top) == label { right += 1 }
            }
            return (total / Double(set.rows), Double(right) / Double(set.rows))
        }
        for device in TrainingDevices.all {
            let configuration = TrainingConfiguration(architecture: .linear, loss: .ce, optimizer: .adam(),
                                                      learningRate: 0.05, penalty: Penalty(l1: Float(l1), scope: .weights),
                                                      epochs: 3, batchSize: 0, shuffle: false, seed: 4,
                                                      sparseThreshold: 0.5)
            let trainer = try Trainer(device: device, configuration: configuration, train: data, test: test)
            func parameters() throws -> (w: [Float], b: [Float]) {
                let state = try trainer.model.stateDict()
                return (state.first { $0.name == "0.weight" }!.tensor.values, state.first { $0.name == "0.bias" }!.tensor.values)
            }
            var start = try parameters()
            var epochs = 0
            try trainer.run { m in
                epochs += 1
                let end = try parameters()
                let before = crossEntropy(start.w, start.b, data), after = crossEntropy(end.w, end.b, test)
                let penalty = l1 * start.w.reduce(0.0) { $0 + Double(abs($1)) }
                let label = "\(device.kind) epoch \(m.epoch)"
                XCTAssertEqual(m.dataLoss, before.loss, accuracy: 1e-5, label)
                XCTAssertEqual(m.penalty, penalty, accuracy: 1e-7, label)
                XCTAssertEqual(m.loss, before.loss + penalty, accuracy: 1e-5, label)
                XCTAssertEqual(m.trainAccuracy ?? .nan, before.accuracy, accuracy: 1e-12, label)
                XCTAssertEqual(m.testAccuracy ?? .nan, after.accuracy, accuracy: 1e-12, label)
                XCTAssertEqual(m.testLoss ?? .nan, after.loss, accuracy: 1e-5, label)
                XCTAssertEqual(m.l1, end.w.reduce(0.0) { $0 + Double(abs($1)) }, accuracy: 1e-6, label)
                XCTAssertEqual(m.l2, end.w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), accuracy: 1e-6, label)
                let top = end.w.map { abs($0) }.max()!
                XCTAssertEqual(m.nearZero, end.w.filter { abs($0) < top * 0.5 }.count, label)
                XCTAssertEqual(m.zeros, end.w.filter { $0 == 0 }.count, label)
                start = end
            }
            XCTAssertEqual(epochs, 3)
        }
    }

    /// A loss that turns NaN stops training naming the epoch and step.
    func testDivergenceIsReported() throws {
        let data = try makeDataset(rows: 30, columns: 3, loss: .mse)
        for device in TrainingDevices.all {
            let configuration = TrainingConfiguration(architecture: .mlp([4]), loss: .mse, optimizer: .sgd(),
                                                      learningRate: 1e30, epochs: 5, batchSize: 10, shuffle: false)
            let trainer = try Trainer(device: device, configuration: configuration, train: data)
            XCTAssertThrowsError(try trainer.run()) { error in
                guard case TrainingError.diverged(let epoch, let step, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(epoch, 1)
                XCTAssertGreaterThan(step, 1)
            }
        }
    }

    /// ce labels must be class indices; bce targets must lie in [0, 1].
    func testTargetsAreValidatedForTheLoss() throws {
        let device = TrainingDevices.all[0]
        for (loss, targets, message) in [(LossKind.ce, [Float]([0, 1.5, 2]), "class indices 0, 1, ..., k−1: row 2 has 1.5"),
                                         (.ce, [0, -1, 2], "row 2 has -1.0"), (.bce, [0, 1, 2], "[0, 1]: row 3 has 2.0")] {
            let data = try Dataset(features: [1, 2, 3], targets: targets, rows: 3, columns: 1)
            XCTAssertThrowsError(try Trainer(device: device, configuration: TrainingConfiguration(loss: loss), train: data)) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
            }
        }
    }

    /// R² as scikit-learn's `r2_score` (values from scikit-learn 1.9): r2_score([1, 2, 4, 7],
    /// [1.5, 2, 3, 8]) = 0.8928571428571429; constant targets 1 when fitted exactly, else 0;
    /// NaN for one row.
    func testR2FollowsScikitLearn() {
        let (y, f): ([Float], [Double]) = ([1, 2, 4, 7], [1.5, 2, 3, 8])
        let residual = zip(y, f).reduce(0.0) { $0 + (Double($1.0) - $1.1) * (Double($1.0) - $1.1) }
        XCTAssertEqual(Trainer.r2(residualSquares: residual, totalSquares: Trainer.totalSquares(y), rows: 4),
                       0.8928571428571429, accuracy: 1e-15)
        XCTAssertEqual(Trainer.r2(residualSquares: 0, totalSquares: Trainer.totalSquares([2, 2]), rows: 2), 1)
        XCTAssertEqual(Trainer.r2(residualSquares: 1, totalSquares: Trainer.totalSquares([2, 2]), rows: 2), 0)
        XCTAssertTrue(Trainer.r2(residualSquares: 4, totalSquares: 0, rows: 1).isNaN)
    }
}

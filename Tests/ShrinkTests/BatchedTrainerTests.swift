import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

/// K variants trained as one stacked model equal K separate runs: every epoch's metrics and
/// every model's final state dict, on every device, for the L1-vs-L2 experiment and for
/// deeper models with ce, Adam/AdamW, ‖w‖₂ penalties, the prox and --penalize weights.
final class BatchedTrainerTests: XCTestCase {
    private func separate(_ device: any Device, _ configuration: TrainingConfiguration, _ variants: [ModelVariant],
                          _ train: Dataset, _ test: Dataset?) throws -> [(metrics: [EpochMetrics], state: [(name: String, tensor: Tensor)])] {
        try variants.map { variant in
            var one = configuration
            one.penalty = variant.penalty
            one.optimizer = configuration.optimizer.with(weightDecay: variant.weightDecay)
            let trainer = try Trainer(device: device, configuration: one, train: train, test: test)
            var metrics: [EpochMetrics] = []
            try trainer.run { metrics.append($0) }
            return (metrics, try trainer.model.stateDict())
        }
    }

    private func check(_ configuration: TrainingConfiguration, _ variants: [ModelVariant], data: Dataset,
                       testFraction: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let (train, test) = try data.split(testFraction: testFraction, seed: configuration.seed)
        for device in TrainingDevices.all {
            let expected = try separate(device, configuration, variants, train, test)
            let trainer = try Trainer(device: device, configuration: configuration, variants: variants, train: train, test: test)
            var epochs: [[EpochMetrics]] = []
            try trainer.runAll { epochs.append($0) }
            XCTAssertEqual(epochs.count, configuration.epochs, file: file, line: line)
            for (m, run) in expected.enumerated() {
                let name = "\(device.kind) model \(m) \(variants[m])"
                for (e, a) in run.metrics.enumerated() {
                    let b = epochs[e][m]
                    XCTAssertEqual(b.loss, a.loss, accuracy: 1e-5 * max(1, abs(a.loss)), "\(name) epoch \(e + 1) loss", file: file, line: line)
                    XCTAssertEqual(b.penalty, a.penalty, accuracy: 1e-5 * max(1, abs(a.penalty)), "\(name) penalty", file: file, line: line)
                    XCTAssertEqual(b.l1, a.l1, accuracy: 1e-4 * max(1, a.l1), "\(name) l1", file: file, line: line)
                    XCTAssertEqual(b.l2, a.l2, accuracy: 1e-4 * max(1, a.l2), "\(name) l2", file: file, line: line)
                    XCTAssertEqual(b.trainAccuracy ?? -1, a.trainAccuracy ?? -1, accuracy: 0.011, "\(name) accuracy", file: file, line: line)
                    XCTAssertEqual(b.testAccuracy ?? -1, a.testAccuracy ?? -1, accuracy: 0.011, "\(name) test", file: file, line: line)
                    XCTAssertEqual(b.testLoss == nil, test == nil, "\(name) test loss present", file: file, line: line)
                    XCTAssertEqual(b.testLoss ?? -1, a.testLoss ?? -1, accuracy: 1e-5 * max(1, abs(a.testLoss ?? 0)),
                                   "\(name) test loss", file: file, line: line)
                    XCTAssertEqual(b.testR2 == nil, test == nil || configuration.loss != .mse, "\(name) R² present", file: file, line: line)
                    XCTAssertEqual(b.testR2 ?? -1, a.testR2 ?? -1, accuracy: 1e-5, "\(name) test R²", file: file, line: line)
                    XCTAssertEqual(abs(b.zeros - a.zeros) <= 2, true, "\(name) zeros \(b.zeros) vs \(a.zeros)", file: file, line: line)
                }
                let state = try trainer.model.stateDict(model: m)
                XCTAssertEqual(state.map(\.name), run.state.map(\.name), file: file, line: line)
                for (x, y) in zip(state, run.state) {
                    XCTAssertEqual(x.tensor.shape, y.tensor.shape, file: file, line: line)
                    assertClose(x.tensor.values, y.tensor.values.map(Double.init), tolerance: 1e-4, relative: 1e-4,
                                "\(name) \(x.name)", file: file, line: line)
                }
            }
        }
    }

    /// The L1-vs-L2 experiment: mlp:50, bce, SGD lr 0.01, batch 32, shuffled, an 80/20 split;
    /// no penalty, L1, L2, elastic net and weight decay side by side.
    func testSeedExperimentBatchedEqualsSeparateRuns() throws {
        let configuration = TrainingConfiguration(architecture: .mlp([50]), loss: .bce, optimizer: .sgd(), learningRate: 0.01,
                                                  epochs: 4, batchSize: 32, shuffle: true, seed: 0)
        let variants = [ModelVariant(), ModelVariant(penalty: Penalty(l1: 0.01)), ModelVariant(penalty: Penalty(l2: 0.01)),
                        ModelVariant(penalty: Penalty(l1: 0.01, l2: 0.01)), ModelVariant(weightDecay: 0.01)]
        try check(configuration, variants, data: try SyntheticData.seedDefault(), testFraction: 0.2)
    }

    /// Two hidden layers (block-diagonal second layer), ce with 4 classes, Adam with coupled
    /// decay, ‖w‖₂ per tensor, the L1 prox and weights-only penalties mixed across models.
    func testDeepCrossEntropyAdamVariants() throws {
        let data = try makeDataset(rows: 90, columns: 7, loss: .ce, classes: 4, seed: 3)
        let configuration = TrainingConfiguration(architecture: .mlp([9, 5]), loss: .ce, optimizer: .adam(), learningRate: 0.01,
                                                  epochs: 3, batchSize: 16, shuffle: true, seed: 4)
        let variants = [ModelVariant(penalty: Penalty(l2Norm: 0.02)),
                        ModelVariant(penalty: Penalty(l1: 0.01, scope: .weights, proximal: true)),
                        ModelVariant(weightDecay: 0.05),
                        ModelVariant(penalty: Penalty(l1: 0.005, l2: 0.01, l2Norm: 0.01, scope: .weights), weightDecay: 0.01)]
        try check(configuration, variants, data: data, testFraction: 0.25)
    }

    /// AdamW (decoupled decay per model) and mse with full batches, in row order; each
    /// model's own test loss and R².
    func testAdamWRegressionVariants() throws {
        let data = try makeDataset(rows: 64, columns: 5, loss: .mse, seed: 8)
        let configuration = TrainingConfiguration(architecture: .mlp([6]), loss: .mse, optimizer: .adamw(), learningRate: 0.02,
                                                  epochs: 5, batchSize: 0, shuffle: false, seed: 9)
        let variants = [ModelVariant(weightDecay: 0), ModelVariant(weightDecay: 0.1), ModelVariant(penalty: Penalty(l1: 0.02))]
        try check(configuration, variants, data: data, testFraction: 0.25)
    }

    /// The stacked layout: model m's parameters sit in its blocks, everything off the blocks
    /// is zero after training, and one model's state loads into all K.
    func testStackedLayoutKeepsOffBlockWeightsZero() throws {
        let data = try makeDataset(rows: 30, columns: 4, loss: .bce)
        let configuration = TrainingConfiguration(architecture: .mlp([3, 2]), loss: .bce, optimizer: .sgd(momentum: 0.9),
                                                  learningRate: 0.1, epochs: 3, batchSize: 8, seed: 1)
        for device in TrainingDevices.all {
            let trainer = try Trainer(device: device, configuration: configuration,
                                      variants: [ModelVariant(), ModelVariant(penalty: Penalty(l2: 0.1)), ModelVariant()],
                                      train: data)
            let layout = trainer.model.layout
            XCTAssertEqual(layout.layers.map(\.weight.shape), [[9, 4], [6, 9], [3, 6]])
            try trainer.runAll()
            let values = try trainer.model.parameterValues()
            let mask = try XCTUnwrap(layout.blockMask)
            XCTAssertEqual(mask.filter { $0 == 0 }.count, (54 - 18) + (18 - 6), "off-block entries")
            for (v, keep) in zip(values, mask) where keep == 0 { XCTAssertEqual(v, 0, "\(device.kind): off-block weight moved") }
            XCTAssertEqual(try trainer.model.stateDict(model: 0).map(\.tensor.values),
                           try trainer.model.stateDict(model: 2).map(\.tensor.values), "identical variants, identical models")
            let single = try Model(device: device, architecture: .mlp([3, 2]), inputs: 4, outputs: 1, seed: 5)
            let state = Dictionary(uniqueKeysWithValues: try single.stateDict().map { ($0.name, $0.tensor) })
            try trainer.model.load(state)
            for m in 0..<3 {
                XCTAssertEqual(try trainer.model.stateDict(model: m).map(\.tensor.values), try single.stateDict().map(\.tensor.values))
            }
        }
    }
}

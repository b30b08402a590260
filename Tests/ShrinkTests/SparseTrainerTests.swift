import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

/// Training on sparse X (the first layer's forward and backward as sparse products, never
/// densified) equals training on the same data densified: every epoch's metrics and the final
/// parameters, on the CPU device and on OpenCL, for linear and mlp models, mse, bce and ce, L1
/// (subgradient and prox), shuffled minibatches and full batches in order, a test split, and
/// stacked compare-style variants. Tolerance: 1e-5 relative (+1e-5 absolute) on losses and
/// 1e-4 on parameters, the dense route's products being OpenBLAS's or matmul.cl's and the
/// sparse route's a sum in stored order (float rounding only; a wrong row, map or transpose
/// moves them by far more). Accuracies may differ by one row whose logit sits at 0.
///
/// SHRINK_TEST_SMALL=1 (scripts/oclgrind.sh, Oclgrind as the OpenCL device): ce only, one epoch,
/// one stacked configuration — every kernel and both routes still run.
final class SparseTrainerTests: XCTestCase {
    static let small = ProcessInfo.processInfo.environment["SHRINK_TEST_SMALL"] == "1"
    static let losses: [LossKind] = small ? [.ce] : [.mse, .bce, .ce]
    static let epochs = small ? 1 : 3

    /// A seeded sparse dataset: about `density` of the entries, row 3 and column 2 empty, row 0
    /// full; targets as `makeDataset` makes them.
    static func sparseDataset(rows: Int, columns: Int, loss: LossKind, density: Double = 0.15,
                              seed: UInt64 = 5) throws -> Dataset {
        var rng = SeededGenerator(seed: seed)
        var starts = [0], indices: [Int32] = [], values: [Float] = [], y: [Float] = []
        for r in 0..<rows {
            var s = 0.0
            for c in 0..<columns where r != 3 && c != 2 && (r == 0 || rng.nextUnit() < density) {
                let v = Float(rng.normal())
                indices.append(Int32(c)); values.append(v)
                s += Double(v) * Double(c % 3 - 1)
            }
            starts.append(indices.count)
            s += 0.3 * rng.normal()
            switch loss {
            case .mse: y.append(Float(s))
            case .bce: y.append(s > 0 ? 1 : 0)
            case .ce: y.append(Float(Int(rng.nextUnit() * 3)))
            }
        }
        let x = try SparseMatrix(rows: rows, columns: columns, rowStarts: starts, columnIndices: indices, values: values)
        return try Dataset(sparse: x, targets: y)
    }

    private func run(_ device: any Device, _ configuration: TrainingConfiguration, _ variants: [ModelVariant]?,
                     _ train: Dataset, _ test: Dataset?, route: SparseGradientRoute? = nil)
        throws -> (epochs: [[EpochMetrics]], parameters: [Float]) {
        let trainer = try Trainer(device: device, configuration: configuration, variants: variants, train: train, test: test,
                                  sparseRoute: route)
        XCTAssertEqual(trainer.sparseGradientRoute, train.isSparse ? route : nil)
        var epochs: [[EpochMetrics]] = []
        try trainer.runAll { epochs.append($0) }
        return (epochs, try trainer.model.parameterValues())
    }

    /// Sparse against densified on every device (the same split: it picks rows by index).
    private func check(_ configuration: TrainingConfiguration, variants: [ModelVariant]? = nil, data: Dataset,
                       testFraction: Double = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(data.isSparse)
        let (train, test) = try data.split(testFraction: testFraction, seed: 3)
        let (denseTrain, denseTest) = try data.densified().split(testFraction: testFraction, seed: 3)
        for device in TrainingDevices.all {
          let dense = try run(device, configuration, variants, denseTrain, denseTest)
          for route in SparseGradientRoute.allCases {
            let sparse = try run(device, configuration, variants, train, test, route: route)
            let name = "\(device.kind) \(route) \(configuration.architecture) \(configuration.loss) batch \(configuration.batchSize)"
            for (e, (a, b)) in zip(dense.epochs, sparse.epochs).enumerated() {
                for (m, (x, y)) in zip(a, b).enumerated() {
                    let at = "\(name) model \(m) epoch \(e + 1)"
                    XCTAssertEqual(y.loss, x.loss, accuracy: 1e-5 + 1e-5 * abs(x.loss), "\(at) loss", file: file, line: line)
                    XCTAssertEqual(y.penalty, x.penalty, accuracy: 1e-5 + 1e-5 * abs(x.penalty), "\(at) penalty",
                                   file: file, line: line)
                    XCTAssertEqual(y.testLoss ?? -1, x.testLoss ?? -1, accuracy: 1e-5 + 1e-5 * abs(x.testLoss ?? 0),
                                   "\(at) test loss", file: file, line: line)
                    XCTAssertEqual(y.trainAccuracy ?? -1, x.trainAccuracy ?? -1, accuracy: 1.01 / Double(train.rows),
                                   "\(at) accuracy", file: file, line: line)
                    XCTAssertEqual(y.testAccuracy ?? -1, x.testAccuracy ?? -1, accuracy: 1.01 / Double(max(test?.rows ?? 1, 1)),
                                   "\(at) test accuracy", file: file, line: line)
                }
            }
            XCTAssertEqual(sparse.epochs.count, configuration.epochs, file: file, line: line)
            assertClose(sparse.parameters, dense.parameters.map(Double.init), tolerance: 1e-4, relative: 1e-4,
                        "\(name) parameters", file: file, line: line)
          }
        }
    }

    func testLinearMatchesDenseForEachLossShuffledAndFullBatch() throws {
        for loss in Self.losses {
            let data = try Self.sparseDataset(rows: 61, columns: 23, loss: loss)
            try check(TrainingConfiguration(architecture: .linear, loss: loss, optimizer: .sgd(momentum: 0.9),
                                            learningRate: 0.05, penalty: Penalty(l1: 0.01), epochs: Self.epochs, batchSize: 8,
                                            shuffle: true, seed: 4), data: data, testFraction: 0.2)
            try check(TrainingConfiguration(architecture: .linear, loss: loss, optimizer: .adam(), learningRate: 0.02,
                                            penalty: Penalty(l1: 0.02, proximal: true), epochs: Self.epochs + 1, batchSize: 0,
                                            shuffle: false, seed: 4), data: data)
        }
    }

    func testMLPMatchesDenseInOrderAndShuffled() throws {
        for loss in Self.losses {
            let data = try Self.sparseDataset(rows: 47, columns: 31, loss: loss, seed: 9)
            try check(TrainingConfiguration(architecture: .mlp([12, 5]), loss: loss, optimizer: .adamw(),
                                            learningRate: 0.01, penalty: Penalty(l1: 0.005, l2: 0.01), epochs: Self.epochs,
                                            batchSize: 10, shuffle: false, seed: 2), data: data, testFraction: 0.25)
            try check(TrainingConfiguration(architecture: .mlp([7]), loss: loss, optimizer: .sgd(), learningRate: 0.05,
                                            penalty: Penalty(l1: 0.01, l2Norm: 0.01), epochs: Self.epochs, batchSize: 6,
                                            shuffle: true, seed: 8), data: data)
        }
    }

    /// `compare`'s stacked models (one first-layer product for all K) on sparse data.
    func testStackedVariantsMatchDense() throws {
        let data = try Self.sparseDataset(rows: 57, columns: 19, loss: .bce, seed: 12)
        let variants = [ModelVariant(), ModelVariant(penalty: Penalty(l1: 0.01)), ModelVariant(penalty: Penalty(l2: 0.01)),
                        ModelVariant(penalty: Penalty(l1: 0.01, l2: 0.01)), ModelVariant(weightDecay: 0.01)]
        try check(TrainingConfiguration(architecture: .mlp([9]), loss: .bce, optimizer: .sgd(), learningRate: 0.05,
                                        epochs: Self.epochs, batchSize: 8, shuffle: true, seed: 0),
                  variants: variants, data: data, testFraction: 0.2)
        guard !Self.small else { return }
        try check(TrainingConfiguration(architecture: .linear, loss: .bce, optimizer: .sgd(), learningRate: 0.05,
                                        epochs: 2, batchSize: 0, shuffle: false, seed: 0),
                  variants: variants, data: data)
    }

    /// The sparse route keeps no dense copy of X: no batch buffer of B × p floats is made, and
    /// the gradient of one step equals the dense one.
    func testGradientOfOneStepMatchesDense() throws {
        let data = try Self.sparseDataset(rows: 40, columns: 50, loss: .ce, seed: 2)
        let configuration = TrainingConfiguration(architecture: .mlp([6]), loss: .ce, optimizer: .sgd(), learningRate: 0.1,
                                                  penalty: Penalty(l1: 0.01), epochs: 1, batchSize: 16, shuffle: false, seed: 1)
        for device in TrainingDevices.all {
          let dense = try Trainer(device: device, configuration: configuration, train: data.densified())
          for route in SparseGradientRoute.allCases {
            let sparse = try Trainer(device: device, configuration: configuration, variants: nil, train: data,
                                     sparseRoute: route)
            XCTAssertEqual(sparse.workspace.batchFeatures.count, 1, "\(device.kind): a dense batch buffer was made")
            var shuffled = configuration
            shuffled.shuffle = true
            let gathering = try Trainer(device: device, configuration: shuffled, variants: nil, train: data, sparseRoute: route)
            XCTAssertEqual(gathering.workspace.batchFeatures.count, 1, "\(device.kind): a dense batch buffer was made")
            XCTAssertEqual(gathering.workspace.positionMap?.count, route == .transposed ? 40 : nil, "\(device.kind): the position map")
            if case let .sparse(_, transposed) = sparse.train.features {
                XCTAssertEqual(transposed == nil, route == .batchRows, "\(device.kind) \(route): Xᵀ uploaded only for its route")
            }
            for first in [0, 16, 32] {
                let rows = min(16, 40 - first)
                let a = try sparse.evaluateGradient(firstRow: first, rows: rows)
                let b = try dense.evaluateGradient(firstRow: first, rows: rows)
                XCTAssertEqual(a.dataLoss, b.dataLoss, accuracy: 1e-6 * max(1, abs(b.dataLoss)), "\(device.kind) rows \(first)")
                assertClose(a.gradient, b.gradient.map(Double.init), tolerance: 1e-6, relative: 1e-5,
                            "\(device.kind) \(route) gradient rows \(first)")
            }
          }
        }
    }

    /// The route's cost model at its boundaries: full batches go through Xᵀ; small batches of
    /// long data through their own rows; the crossover where B·256·log₂(2 + nnz/n) + nnz·B/n = nnz.
    func testRouteChoice() {
        XCTAssertEqual(SparseGradientRoute.choose(batchRows: 100, rows: 100, nonZeros: 10_000), .transposed)
        XCTAssertEqual(SparseGradientRoute.choose(batchRows: 256, rows: 200_000, nonZeros: 20_000_000), .batchRows)
        XCTAssertEqual(SparseGradientRoute.choose(batchRows: 8, rows: 61, nonZeros: 200), .transposed)
        // n = 1000, nnz = 100,000 (100 per row, log₂ 102 ≈ 6.67): B·(256·6.67 + 100) < 100,000 ⇔ B ≤ 55.
        XCTAssertEqual(SparseGradientRoute.choose(batchRows: 55, rows: 1000, nonZeros: 100_000), .batchRows)
        XCTAssertEqual(SparseGradientRoute.choose(batchRows: 56, rows: 1000, nonZeros: 100_000), .transposed)
        XCTAssertEqual(SparseGradientRoute.choose(batchRows: 1, rows: 0, nonZeros: 0), .transposed)
    }
}

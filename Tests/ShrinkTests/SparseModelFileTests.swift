import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

/// A saved model predicts and evaluates sparse data as it does the same data dense (within
/// 1e-5 absolute and relative on the logits), its standardization folded into the first layer
/// (W/s, b − (W/s)·μ) instead of centering the matrix; and a sparse dataset is standardized by
/// scaling only (StandardScaler(with_mean=False)), never densified.
final class SparseModelFileTests: XCTestCase {
    /// A model trained on dense standardized data (means ≠ 0), saved with its standardization.
    private func trainedFile(_ architecture: Architecture, _ loss: LossKind, data: Dataset) throws -> ModelFile {
        let dense = data.densified()
        let standardization = Standardization(fitting: dense)
        XCTAssertFalse(standardization.isScalingOnly)
        let configuration = TrainingConfiguration(architecture: architecture, loss: loss, optimizer: .adam(),
                                                  learningRate: 0.05, epochs: 3, batchSize: 16, seed: 6)
        let trainer = try Trainer(device: CPUDevice(), configuration: configuration,
                                  train: try standardization.apply(to: dense))
        try trainer.run()
        return try ModelFile(tensors: try trainer.model.stateDict(), loss: loss, standardization: standardization)
    }

    func testPredictAndEvaluateSparseEqualDense() throws {
        for (architecture, loss) in [(Architecture.linear, LossKind.mse), (.mlp([8]), .bce), (.mlp([6, 4]), .ce)] {
            let data = try SparseTrainerTests.sparseDataset(rows: 45, columns: 17, loss: loss, seed: 4)
            // Read back from its file: the standardization comes from the metadata.
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparse-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try trainedFile(architecture, loss, data: data).write(to: url)
            let file = try ModelFile.read(url)
            XCTAssertNotNil(file.standardization)
            for device in TrainingDevices.all {
                let name = "\(device.kind) \(architecture) \(loss)"
                let dense = try file.predict(data.densified(), device: device)
                let sparse = try file.predict(data, device: device)
                XCTAssertEqual(sparse.rows, dense.rows)
                assertClose(sparse.outputs.map(Float.init), dense.outputs, tolerance: 1e-5, relative: 1e-5, "\(name) outputs")
                let (a, b) = (try file.evaluate(data, device: device), try file.evaluate(data.densified(), device: device))
                XCTAssertEqual(a.metrics.map(\.name), b.metrics.map(\.name), name)
                for (x, y) in zip(a.metrics, b.metrics) {
                    XCTAssertEqual(x.value, y.value, accuracy: 1e-5 * max(1, abs(y.value)), "\(name) evaluate \(x.name)")
                }
                XCTAssertEqual(a.confusionMatrix, b.confusionMatrix, name)
            }
        }
    }

    func testFoldedFirstLayerOnDenseDataEqualsStandardizingFirst() throws {
        let data = try SparseTrainerTests.sparseDataset(rows: 30, columns: 9, loss: .mse, seed: 1).densified()
        let file = try trainedFile(.linear, .mse, data: data)
        let folded = file.foldingStandardization()
        XCTAssertNil(folded.standardization)
        let a = try file.predict(data, device: CPUDevice()).outputs
        let b = try folded.predict(data, device: CPUDevice()).outputs
        assertClose(b.map(Float.init), a, tolerance: 1e-5, relative: 1e-5, "folded")
    }

    func testSparseStandardizationScalesOnlyAndRefusesToCenter() throws {
        let data = try SparseTrainerTests.sparseDataset(rows: 25, columns: 8, loss: .bce, seed: 3)
        let fitted = Standardization(fitting: data)
        XCTAssertThrowsError(try fitted.apply(to: data)) { XCTAssertTrue("\($0)".contains("with_mean=False"), "\($0)") }
        let scaling = fitted.scalingOnly()
        XCTAssertTrue(scaling.isScalingOnly)
        XCTAssertEqual(scaling.scales, fitted.scales)
        let scaled = try scaling.apply(to: data)
        XCTAssertTrue(scaled.isSparse)
        XCTAssertEqual(scaled.sparse?.columnIndices, data.sparse?.columnIndices)
        let expected = try scaling.apply(to: data.densified())
        XCTAssertEqual(scaled.densified().features, expected.features)
        XCTAssertEqual(scaled.targets, data.targets)
    }
}

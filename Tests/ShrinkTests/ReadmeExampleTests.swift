import Foundation
import Shrink
import XCTest

/// The README's library example, verbatim apart from the output folder and the assertions.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeExample() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shrink-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var epochs: [EpochMetrics] = []

        // --- README ---
        let device = try DeviceSelection.gpu.makeDevice()          // OpenCL GPU, else CPU with a notice
        let data = SyntheticData.seedDefault()                       // the seed's randn(1000, 10) + labels
        let (train, test) = try data.split(testFraction: 0.2, seed: 0)
        let configuration = TrainingConfiguration(
            architecture: .mlp([50]), loss: .bce, optimizer: .sgd(), learningRate: 0.01,
            penalty: Penalty(l1: 0.01), epochs: 20, batchSize: 32)
        let trainer = try Trainer(device: device, configuration: configuration, train: train, test: test)
        for try await epoch in trainer.epochs() {
            print(epoch.epoch, epoch.loss, epoch.testAccuracy ?? .nan, epoch.nz)
            epochs.append(epoch)
        }
        try SafeTensors.write(try trainer.model.stateDict(), to: folder.appendingPathComponent("model.safetensors"))
        // --- end ---

        XCTAssertEqual(epochs.count, 20)
        XCTAssertEqual(train.rows, 800)
        XCTAssertLessThan(epochs.last!.loss, epochs.first!.loss)
        let saved = try SafeTensors.read(folder.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(saved["0.weight"]?.shape, [50, 10])
        XCTAssertEqual(saved["2.weight"]?.shape, [1, 50])
    }
}

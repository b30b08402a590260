import Foundation
@testable import Shrink
import XCTest

/// What a resume checks: each setting by flag name, the data's contents, and checkpoints
/// written before settings were stored.
final class CheckpointSettingsTests: XCTestCase {
    private let data = try! makeDataset(rows: 30, columns: 4, loss: .bce)
    private let configuration = TrainingConfiguration(architecture: .linear, loss: .bce, optimizer: .sgd(momentum: 0.9),
                                                      learningRate: 0.1, epochs: 2, batchSize: 8, seed: 3)

    /// FNV-1a over the shape and the float bit patterns, against Python's struct-based reference.
    func testContentHashMatchesAnIndependentFNV1a() throws {
        let set = try Dataset(features: [1.0, -2.5], targets: [0, 1], rows: 2, columns: 1)
        XCTAssertEqual(set.contentHash, 0x06BB_C9D7_FE91_934C)
        var other = set
        other.features[1] = -2.5000002
        XCTAssertNotEqual(other.contentHash, set.contentHash)
    }

    func testDifferencesAreNamedAndOldCheckpointsStillLoad() throws {
        let device = TrainingDevices.all[0]
        let trainer = try Trainer(device: device, configuration: configuration, train: data)
        _ = try trainer.runEpoch()
        let state = try trainer.checkpoint(dataHash: 42)
        XCTAssertEqual(state.settings["--lr"], "0.1")
        XCTAssertEqual(state.settings["--momentum"], "0.9")

        var other = configuration
        other.learningRate = 0.05
        other.batchSize = 10
        let different = try Trainer(device: device, configuration: other, train: data)
        XCTAssertThrowsError(try different.restore(state, dataHash: 42)) {
            XCTAssertTrue("\($0)".contains("--lr: checkpoint 0.1, now 0.05; --batch-size: checkpoint 8, now 10"), "\($0)")
        }
        let same = try Trainer(device: device, configuration: configuration, train: data)
        XCTAssertThrowsError(try same.restore(state, dataHash: 43)) {
            XCTAssertTrue("\($0)".contains("data rows (FNV-1a of the training and test rows, and --standardize): checkpoint 2a, now 2b"), "\($0)")
        }
        XCTAssertNoThrow(try same.restore(state, dataHash: nil), "a caller without the hash checks the rest")

        // A checkpoint from before settings were stored: the fingerprint string decides.
        var old = state
        old.settings = [:]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try old.write(to: folder)
        let read = try Checkpoint.read(from: folder)
        XCTAssertEqual(read.settings, [:])
        let resumed = try Trainer(device: device, configuration: configuration, train: data)
        XCTAssertNoThrow(try resumed.restore(read, dataHash: 7))
        XCTAssertEqual(resumed.epoch, 1)
        XCTAssertThrowsError(try different.restore(read)) { XCTAssertTrue("\($0)".contains("different run"), "\($0)") }
    }
}

import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

/// N epochs straight equals N/2, a checkpoint, a fresh process-like restore, and N/2 more:
/// bit-identical on the CPU, within 1e-6 on OpenCL — at an epoch boundary and mid-epoch.
final class CheckpointTests: XCTestCase {
    private let data = try! makeDataset(rows: 45, columns: 5, loss: .ce, classes: 3)
    private var configuration: TrainingConfiguration {
        TrainingConfiguration(architecture: .mlp([7]), loss: .ce, optimizer: .adam(weightDecay: 0.01), learningRate: 0.01,
                              penalty: Penalty(l1: 0.01, l2Norm: 0.02), epochs: 6, batchSize: 8, shuffle: true, seed: 9)
    }

    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testResumeAtEpochBoundaryAndMidEpoch() throws {
        for device in TrainingDevices.all {
            let straight = try Trainer(device: device, configuration: configuration, train: data)
            var straightLosses: [Double] = []
            try straight.run { straightLosses.append($0.loss) }
            let expected = try straight.model.parameterValues()

            for stopAfterSteps in [18, 23] {  // 6 steps per epoch: 18 is a boundary, 23 is mid-epoch
                let dir = try folder()
                let first = try Trainer(device: device, configuration: configuration, train: data)
                var firstLosses: [Double] = []
                while first.step < stopAfterSteps {
                    firstLosses.append(try first.runEpoch(checkpointEvery: stopAfterSteps) { trainer in
                        if trainer.step == stopAfterSteps { try trainer.writeCheckpoint(to: dir) }
                    }.loss)
                }
                if stopAfterSteps % 6 == 0 { try XCTUnwrap(try? first.writeCheckpoint(to: dir)) }

                let second = try Trainer(device: device, configuration: configuration, train: data)
                try second.restore(try Checkpoint.read(from: dir))
                XCTAssertEqual(second.step, stopAfterSteps)
                var secondLosses: [Double] = []
                try second.run { secondLosses.append($0.loss) }
                let resumed = try second.model.parameterValues()
                let label = "\(device.kind) resumed after \(stopAfterSteps) steps"
                if device.kind == .cpu {
                    XCTAssertEqual(resumed, expected, "\(label): must be bit-identical")
                    XCTAssertEqual(Array(straightLosses.suffix(secondLosses.count)), secondLosses, label)
                } else {
                    assertClose(resumed, expected.map(Double.init), tolerance: 1e-6, relative: 1e-6, label)
                }
                XCTAssertEqual(firstLosses.count + secondLosses.count - (stopAfterSteps % 6 == 0 ? 0 : 1), 6, label)
            }
        }
    }

    func testMismatchedRunIsRefused() throws {
        let dir = try folder()
        let device = TrainingDevices.all[0]
        let trainer = try Trainer(device: device, configuration: configuration, train: data)
        _ = try trainer.runEpoch()
        try trainer.writeCheckpoint(to: dir)
        var other = configuration
        other.learningRate = 0.5
        let different = try Trainer(device: device, configuration: other, train: data)
        XCTAssertThrowsError(try different.restore(try Checkpoint.read(from: dir))) {
            XCTAssertTrue("\($0)".contains("different run"), "\($0)")
        }
    }
}

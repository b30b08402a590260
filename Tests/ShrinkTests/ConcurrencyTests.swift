import Foundation
@testable import Shrink
import XCTest

/// One device shared by several tasks gives the serial results (run under the thread
/// sanitizer by scripts/tsan.sh).
final class ConcurrencyTests: XCTestCase {
    func testTasksSharingADeviceMatchSerialRuns() async throws {
        let data = try makeDataset(rows: 64, columns: 6, loss: .ce, classes: 3)
        let configurations = (0..<4).map { i in
            TrainingConfiguration(architecture: .mlp([8]), loss: .ce, optimizer: i % 2 == 0 ? .sgd(momentum: 0.5) : .adam(),
                                  learningRate: 0.02, penalty: Penalty(l1: 0.01 * Float(i), l2Norm: 0.01),
                                  epochs: 5, batchSize: 8, shuffle: true, seed: UInt64(i))
        }
        for device in TrainingDevices.all {
            let serial = try configurations.map { configuration -> [Float] in
                let trainer = try Trainer(device: device, configuration: configuration, train: data)
                try trainer.run()
                return try trainer.model.parameterValues()
            }
            let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                for (i, configuration) in configurations.enumerated() {
                    group.addTask {
                        let trainer = try Trainer(device: device, configuration: configuration, train: data)
                        try trainer.run()
                        return (i, try trainer.model.parameterValues())
                    }
                }
                var results = [[Float]](repeating: [], count: configurations.count)
                for try await (i, values) in group { results[i] = values }
                return results
            }
            XCTAssertEqual(concurrent, serial, "\(device.kind): concurrent runs differ from serial ones")
        }
    }
}

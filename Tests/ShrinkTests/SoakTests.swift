import Foundation
@testable import Shrink
import XCTest

/// 20,000 training steps per device, in four successive trainers (buffers made and released):
/// resident memory after the run stays within a small bound of that after the first trainer.
final class SoakTests: XCTestCase {
    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testTwentyThousandStepsDoNotGrowMemory() throws {
        let data = try makeDataset(rows: 400, columns: 10, loss: .bce)
        let configuration = TrainingConfiguration(architecture: .mlp([32]), loss: .bce, optimizer: .adam(),
                                                  learningRate: 1e-3, penalty: Penalty(l1: 0.001, l2Norm: 0.001),
                                                  epochs: 50, batchSize: 4, shuffle: true, seed: 1)
        for device in TrainingDevices.all {
            var baseline = 0
            var steps = 0
            for round in 0..<4 {
                let trainer = try Trainer(device: device, configuration: configuration, train: data)
                try trainer.run()
                steps += trainer.step
                if round == 0 { baseline = residentBytes() }
            }
            let growth = residentBytes() - baseline
            XCTAssertEqual(steps, 20_000)
            print("soak \(device.kind): \(steps) steps, RSS \(baseline >> 20) MiB → growth \(growth >> 10) KiB")
            XCTAssertLessThan(growth, 8 << 20, "\(device.kind): RSS grew by \(growth >> 10) KiB over the \(steps * 3 / 4) steps after the first trainer")
        }
    }
}

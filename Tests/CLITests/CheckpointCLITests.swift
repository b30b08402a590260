import Foundation
import Shrink
import XCTest

/// `--checkpoint`/`--resume` through the binary, and crash safety of the saved files.
final class CheckpointCLITests: XCTestCase {
    private var folder: URL!
    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func args(epochs: Int, save: String, extra: [String] = []) -> [String] {
        ["train", "--synthetic", "classification:300:6", "--model", "mlp:8", "--loss", "bce", "--optimizer", "sgd",
         "--momentum", "0.9", "--lr", "0.05", "--l1", "0.001", "--batch-size", "32", "--epochs", "\(epochs)",
         "--device", "cpu", "--save", folder.appendingPathComponent(save).path] + extra
    }

    /// 6 epochs straight = 3 epochs with --checkpoint, then --resume to 6: the same bytes.
    func testResumeGivesTheStraightRun() throws {
        let straight = try CLI.run(args(epochs: 6, save: "straight.safetensors"))
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let dir = folder.appendingPathComponent("ckpt").path
        let half = try CLI.run(args(epochs: 3, save: "half.safetensors", extra: ["--checkpoint", dir]))
        XCTAssertEqual(half.status, 0, half.stderr)
        let resumed = try CLI.run(args(epochs: 6, save: "resumed.safetensors", extra: ["--resume", dir]))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed from"), resumed.stdout)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("resumed.safetensors")),
                       try Data(contentsOf: folder.appendingPathComponent("straight.safetensors")))
        let wrong = try CLI.run(args(epochs: 6, save: "x.safetensors", extra: ["--resume", dir, "--seed", "5"]))
        XCTAssertEqual(wrong.status, 1)
        XCTAssertTrue(wrong.stderr.contains("different run"), wrong.stderr)
    }

    /// SIGKILL at random moments while checkpoints are written every step, 20 times: the file
    /// on disk is always a complete checkpoint (old or new), never a partial one.
    func testKilledWhileSavingLeavesACompleteFile() throws {
        let dir = folder.appendingPathComponent("ckpt")
        var checked = 0
        for attempt in 0..<20 {
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = args(epochs: 400, save: "never.safetensors",
                                     extra: ["--checkpoint", dir.path, "--checkpoint-every", "1"])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Kill only once a checkpoint exists (start-up time varies with the machine's load),
            // then at a varying moment among the per-step saves.
            let file = Checkpoint.url(in: dir)
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: file.path), process.isRunning, Date() < deadline { usleep(2_000) }
            usleep(UInt32((attempt * 37_919) % 120_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal, "attempt \(attempt) finished before the kill")
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            XCTAssertNoThrow(try Checkpoint.read(from: dir), "attempt \(attempt): a partial checkpoint")
            checked += 1
        }
        XCTAssertEqual(checked, 20, "every kill lands after the first checkpoint")
    }
}

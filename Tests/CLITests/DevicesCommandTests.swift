import Foundation
import XCTest

/// `shrink devices`, and the CPU fallback with no OpenCL platform (OCL_ICD_VENDORS → empty folder).
final class DevicesCommandTests: XCTestCase {
    func testListsPoCLAndThePick() throws {
        let result = try CLI.run(["devices"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("cpu"), result.stdout)
        if CLI.devices.count > 1 {
            XCTAssertTrue(result.stdout.contains("opencl:0:0"), result.stdout)
            XCTAssertTrue(result.stdout.contains("--device gpu picks opencl:"), result.stdout)
        }
    }

    func testNoPlatformStillExitsZero() throws {
        let empty = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try CLI.run(["devices"], environment: ["OCL_ICD_VENDORS": empty.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("no OpenCL platform found"), result.stdout)
    }

    /// `--device gpu` without OpenCL trains on the CPU with the notice, and gives the CPU's result.
    func testGPUFallbackTrainsOnCPUWithSameResult() throws {
        let empty = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: empty) }
        let fixture = CLI.fixturesFolder.appendingPathComponent("seed-mlp-bce-l1")
        func train(_ device: String, _ env: [String: String]) throws -> (CLI.Result, Data) {
            let out = empty.appendingPathComponent("\(device)-\(env.count).safetensors")
            let result = try CLI.run(
                ["train", "--data", fixture.appendingPathComponent("X.npy").path,
                 "--targets", fixture.appendingPathComponent("y.npy").path,
                 "--init", fixture.appendingPathComponent("init.safetensors").path,
                 "--model", "mlp:50", "--loss", "bce", "--optimizer", "sgd", "--lr", "0.01", "--epochs", "2",
                 "--batch-size", "32", "--l1", "0.01", "--device", device, "--save", out.path], environment: env)
            return (result, (try? Data(contentsOf: out)) ?? Data())
        }
        let (fallback, fallbackModel) = try train("gpu", ["OCL_ICD_VENDORS": empty.path])
        XCTAssertEqual(fallback.status, 0, fallback.stderr)
        XCTAssertTrue(fallback.stderr.contains("no OpenCL device found, falling back to CPU"), fallback.stderr)
        XCTAssertTrue(fallback.stdout.contains("[cpu]"), fallback.stdout)
        let (cpu, cpuModel) = try train("cpu", [:])
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        XCTAssertFalse(cpuModel.isEmpty)
        XCTAssertEqual(fallbackModel, cpuModel, "the fallback run differs from the CPU run")
    }

    /// The kernels are compiled into the binary, so a copy elsewhere still runs them.
    func testCopiedBinaryStillFindsItsKernels() throws {
        guard CLI.devices.count > 1 else { throw XCTSkip("OpenCL: no platform") }
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("shrink")
        try FileManager.default.copyItem(at: CLI.binary, to: copy)
        let process = Process()
        process.executableURL = copy
        process.arguments = ["train", "--synthetic", "classification:64:3", "--model", "mlp:4", "--loss", "bce",
                             "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--device", "opencl:0:0"]
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        env["SHRINK_CACHE_DIR"] = folder.appendingPathComponent("cache").path  // no cached binary to lean on
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("[opencl]"), output)
    }
}

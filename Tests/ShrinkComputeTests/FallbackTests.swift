import Foundation
@testable import ShrinkCompute
import XCTest

/// The no-OpenCL half of the `gpu` selection rule: with OCL_ICD_VENDORS pointing at an empty
/// folder the ICD loader finds no platform, so `gpu`/`auto` give the CPU with exactly the
/// notice "no OpenCL device found, falling back to CPU", and `opencl:0:0` is an error.
///
/// The loader reads the variable once per process, so the checks run in a child: this test
/// bundle re-launched on `testChildGPUFallback` alone, with the variable and a marker set.
/// Without the marker (the normal run) the child test is skipped, not passed: its checks
/// count only through the parent, which fails unless the child ran them all and passed.
final class FallbackTests: XCTestCase {
    static let marker = "SHRINK_FALLBACK_CHILD"
    static let childTest = "ShrinkComputeTests.FallbackTests/testChildGPUFallback"
    static let passed = "FALLBACK-CHILD: all checks ran"

    func testNoPlatformFallsBackToCPUInAChildProcess() throws {
        let child = try runChild()
        XCTAssertEqual(child.status, 0, "the child failed:\n\(child.output)")
        XCTAssertTrue(child.output.contains(Self.passed), "the child did not run its checks:\n\(child.output)")
        XCTAssertTrue(child.output.contains("Executed 1 test, with 0 failures"), child.output)
        XCTAssertTrue(child.output.contains("OpenCL: no platform, skipping"),
                      "testDevices() must say that it skips OpenCL:\n\(child.output)")
    }

    /// The child's checks (run only under the marker; see the class comment).
    func testChildGPUFallback() throws {
        guard ProcessInfo.processInfo.environment[Self.marker] == "1" else {
            throw XCTSkip("runs only in the child started by testNoPlatformFallsBackToCPUInAChildProcess "
                          + "(\(Self.marker)=1), which fails unless these checks pass there")
        }
        assertDeviceError("OpenCL.devices()", { _ = try OpenCL.devices() }) { $0 == .noOpenCLPlatform }

        var notices: [String] = []
        let gpu = try DeviceSelection.gpu.makeDevice { notices.append($0) }
        XCTAssertTrue(gpu is CPUDevice, "gpu gave \(gpu.name)")
        XCTAssertEqual(notices, ["no OpenCL device found, falling back to CPU"])

        notices = []
        let auto = try DeviceSelection.auto.makeDevice { notices.append($0) }
        XCTAssertTrue(auto is CPUDevice, "auto gave \(auto.name)")
        XCTAssertEqual(notices, ["no OpenCL device found, falling back to CPU"])

        notices = []
        assertDeviceError("opencl:0:0", {
            _ = try DeviceSelection.opencl(platform: 0, device: 0).makeDevice { notices.append($0) }
        }) { error in
            let message = "\(error)"
            return error == .deviceNotFound(platform: 0, device: 0, available: "")
                && message.contains("no OpenCL device opencl:0:0") && message.contains("available: none")
        }
        XCTAssertEqual(notices, [], "an exact selection must not fall back")

        // The test helper skips OpenCL visibly, and the CPU it falls back to computes.
        let devices = testDevices()
        XCTAssertEqual(devices.count, 1)
        XCTAssertTrue(devices.first is CPUDevice)
        XCTAssertEqual(try gpu.norm(.l2, of: try gpu.makeBuffer([Float]([3, -4]))), 5)
        print(Self.passed)
    }

    /// Runs this bundle on `childTest` with OCL_ICD_VENDORS → an empty folder; output and status.
    private func runChild() throws -> (status: Int32, output: String) {
        let fm = FileManager.default
        let folder = fm.temporaryDirectory.appendingPathComponent("shrink-no-icd-\(UUID().uuidString)")
        let vendors = folder.appendingPathComponent("vendors")
        try fm.createDirectory(at: vendors, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: folder) }
        let log = folder.appendingPathComponent("child.log")
        _ = fm.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.testBundleExecutable())
        process.arguments = [Self.childTest]
        var environment = ProcessInfo.processInfo.environment
        environment["OCL_ICD_VENDORS"] = vendors.path
        environment.removeValue(forKey: "OPENCL_VENDOR_PATH")
        environment[Self.marker] = "1"
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            XCTFail("the child did not finish within 120 s")
        }
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }

    /// The running xctest executable (on Linux `swift test` runs `.build/<config>/<Package>PackageTests.xctest`).
    static func testBundleExecutable() throws -> String {
        let candidates = [Bundle.main.executablePath, ProcessInfo.processInfo.arguments.first].compactMap { $0 }
        return try XCTUnwrap(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                             "cannot find the test executable to re-launch among \(candidates)")
    }
}

import Foundation
@testable import ShrinkCompute
import XCTest

/// With no OpenCL platform (OCL_ICD_VENDORS → an empty folder), `gpu` gives the CPU with the
/// notice and `opencl:0:0` is an error. The ICD loader reads the variable once per process,
/// so the checks run in a child: this test bundle re-launched on one test with a marker.
final class FallbackTests: XCTestCase {
    private static let marker = "SHRINK_FALLBACK_CHILD"

    func testNoPlatformFallsBackToCPU() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-icd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        process.arguments = ["ShrinkComputeTests.FallbackTests/testChildWithoutOpenCL"]
        var env = ProcessInfo.processInfo.environment
        env["OCL_ICD_VENDORS"] = empty.path
        env[Self.marker] = "1"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("CHILD-CHECKS-RAN"), "the child did not run its checks:\n\(output)")
        XCTAssertTrue(output.contains("Executed 1 test, with 0 failures"), output)
    }

    /// Runs only in the child (a no-op in the normal run).
    func testChildWithoutOpenCL() throws {
        guard ProcessInfo.processInfo.environment[Self.marker] == "1" else { return }
        XCTAssertThrowsError(try OpenCL.devices()) { XCTAssertEqual($0 as? DeviceError, .noOpenCLPlatform) }
        var notices: [String] = []
        let device = try DeviceSelection.gpu.makeDevice { notices.append($0) }
        XCTAssertTrue(device is CPUDevice)
        XCTAssertEqual(notices, ["no OpenCL device found, falling back to CPU"])
        XCTAssertTrue(try DeviceSelection.auto.makeDevice { _ in } is CPUDevice)
        XCTAssertThrowsError(try DeviceSelection.opencl(platform: 0, device: 0).makeDevice()) {
            XCTAssertTrue("\($0)".contains("no OpenCL device opencl:0:0"), "\($0)")
        }
        // The CPU still computes.
        let x = try device.makeBuffer([Float]([3, -4]))
        XCTAssertEqual(try device.norm(.l2, of: x), 5)
        print("CHILD-CHECKS-RAN")
    }
}

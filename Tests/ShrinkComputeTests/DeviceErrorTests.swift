import Foundation
@testable import ShrinkCompute
import XCTest

/// Errors explain themselves: build logs, typed allocation errors, error names, selection.
final class DeviceErrorTests: XCTestCase {
    func testBrokenKernelSourceSurfacesTheBuildLog() throws {
        guard let info = try? OpenCL.devices().first else { throw XCTSkip("OpenCL: no platform") }
        let source = "__kernel void broken(__global float *x) {\n    x[0] = undefined_name;\n}\n"
        XCTAssertThrowsError(try OpenCLDevice(info: info, source: source)) { error in
            guard case let DeviceError.buildFailed(_, code, log) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(code, -11)
            XCTAssertTrue(log.contains("undefined_name"), log)
            XCTAssertTrue(log.contains("2:"), "the log should carry line:col: \(log)")
            XCTAssertTrue("\(error)".contains("CL_BUILD_PROGRAM_FAILURE"), "\(error)")
        }
    }

    func testOversizedAndZeroAllocationsAreTypedErrors() throws {
        for device in ComputeDevices.all {
            XCTAssertThrowsError(try device.makeBuffer(count: Int.max / 2, type: .float32)) {
                guard case DeviceError.allocationTooLarge = $0 else { return XCTFail("\(device.kind): \($0)") }
            }
            XCTAssertThrowsError(try device.makeBuffer(count: 1 << 40, type: .float32)) {
                guard case DeviceError.allocationTooLarge = $0 else { return XCTFail("\(device.kind): \($0)") }
            }
            XCTAssertThrowsError(try device.makeBuffer(count: 0, type: .float32)) {
                XCTAssertEqual($0 as? DeviceError, .zeroSizeAllocation, "\(device.kind)")
            }
        }
    }

    func testBuffersOfAnotherDeviceAndWrongTypeAreRejected() throws {
        guard ComputeDevices.all.count > 1 else { throw XCTSkip("OpenCL: no platform") }
        let (cpu, cl) = (ComputeDevices.all[0], ComputeDevices.all[1])
        let foreign = try cpu.makeBuffer(count: 4)
        XCTAssertThrowsError(try cl.proximalL1(foreign, at: 0, count: 4, threshold: 1)) {
            guard case DeviceError.foreignBuffer = $0 else { return XCTFail("\($0)") }
        }
        let ints = try cl.makeBuffer([Int32]([1, 2]))
        XCTAssertThrowsError(try cl.fill(ints, at: 0, count: 2, with: 0)) {
            guard case DeviceError.wrongElementType = $0 else { return XCTFail("\($0)") }
        }
    }

    func testErrorNamesAndDescriptions() {
        XCTAssertEqual(openCLErrorName(-61), "CL_INVALID_BUFFER_SIZE")
        XCTAssertEqual(openCLErrorName(-1001), "CL_PLATFORM_NOT_FOUND_KHR")
        XCTAssertEqual("\(DeviceError.openCL(call: "clCreateBuffer", code: -61))",
                       "clCreateBuffer failed: CL_INVALID_BUFFER_SIZE (-61)")
    }

    func testSelectionParsing() throws {
        XCTAssertEqual(try DeviceSelection(parsing: "cpu"), .cpu)
        XCTAssertEqual(try DeviceSelection(parsing: "GPU"), .gpu)
        XCTAssertEqual(try DeviceSelection(parsing: "auto"), .auto)
        XCTAssertEqual(try DeviceSelection(parsing: "opencl:1:2"), .opencl(platform: 1, device: 2))
        for bad in ["", "tpu", "opencl", "opencl:1", "opencl:a:0", "opencl:-1:0", "opencl:0:0:0"] {
            XCTAssertThrowsError(try DeviceSelection(parsing: bad), bad)
        }
    }

    func testGPUPrefersAGPUTypeDevice() throws {
        guard let info = try? OpenCL.devices().first else { throw XCTSkip("OpenCL: no platform") }
        XCTAssertEqual(DeviceSelection.preferredOpenCLDevice([info])?.selector, info.selector)
        XCTAssertNil(DeviceSelection.preferredOpenCLDevice([]))
        var notices: [String] = []
        let device = try DeviceSelection.gpu.makeDevice { notices.append($0) }
        XCTAssertEqual(device.kind, .opencl)
        if info.type != .gpu { XCTAssertEqual(notices.count, 1, "a non-GPU pick must say so once") }
    }

    func testAbsentDeviceIsAnError() throws {
        XCTAssertThrowsError(try DeviceSelection.opencl(platform: 99, device: 0).makeDevice()) {
            guard case DeviceError.deviceNotFound = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".contains("opencl:99:0"))
        }
    }
}

import Foundation
@testable import ShrinkCompute
import XCTest

/// `DeviceSelection`: parsing cpu | gpu | auto | opencl:P:D, SHRINK_DEVICE, the
/// `gpu` preference rule, and what each selection opens on this machine. The no-platform
/// half of the rule runs in a child process: see FallbackTests.
final class DeviceSelectionTests: XCTestCase {
    func testParsingEveryForm() throws {
        XCTAssertEqual(try DeviceSelection(parsing: "cpu"), .cpu)
        XCTAssertEqual(try DeviceSelection(parsing: "gpu"), .gpu)
        XCTAssertEqual(try DeviceSelection(parsing: "auto"), .auto)
        XCTAssertEqual(try DeviceSelection(parsing: "CPU"), .cpu)
        XCTAssertEqual(try DeviceSelection(parsing: "Gpu"), .gpu)
        XCTAssertEqual(try DeviceSelection(parsing: "opencl:0:0"), .opencl(platform: 0, device: 0))
        XCTAssertEqual(try DeviceSelection(parsing: "opencl:1:2"), .opencl(platform: 1, device: 2))
        XCTAssertEqual(try DeviceSelection(parsing: "OpenCL:12:34"), .opencl(platform: 12, device: 34))
    }

    func testGarbageIsAnInvalidSelection() {
        let garbage = ["", " ", "opencl:+1:0", "opencl:0:-0", "opencl:٣:0", "cpu ", " gpu", "tpu", "cuda", "opencl", "opencl:", "opencl:1", "opencl:1:",
                       "opencl::1", "opencl:a:0", "opencl:0:b", "opencl:-1:0", "opencl:0:-1", "opencl:0:0:0",
                       "opencl:1.5:0", "cl:0:0", "opencl 0 0", "opencl:99999999999999999999:0", "gpu:0"]
        for text in garbage {
            assertDeviceError("'\(text)'", { _ = try DeviceSelection(parsing: text) }) { $0 == .invalidSelection(text) }
        }
        let message = "\(DeviceError.invalidSelection("tpu"))"
        XCTAssertTrue(message.contains("'tpu'") && message.contains("cpu, gpu, auto or opencl:P:D"), message)
    }

    func testDescriptionRoundTrips() throws {
        for selection in [DeviceSelection.cpu, .gpu, .auto, .opencl(platform: 0, device: 0), .opencl(platform: 3, device: 7)] {
            XCTAssertEqual(try DeviceSelection(parsing: selection.description), selection, "\(selection)")
        }
        XCTAssertEqual(DeviceSelection.opencl(platform: 3, device: 7).description, "opencl:3:7")
    }

    /// SHRINK_DEVICE supplies the default; unset or empty gives the fallback; garbage is an error.
    func testEnvironmentVariable() throws {
        let key = DeviceSelection.environmentKey
        XCTAssertEqual(key, "SHRINK_DEVICE")
        let saved = ProcessInfo.processInfo.environment[key]
        defer { if let saved { setenv(key, saved, 1) } else { unsetenv(key) } }
        unsetenv(key)
        XCTAssertEqual(try DeviceSelection.fromEnvironment(default: .gpu), .gpu)
        setenv(key, "", 1)
        XCTAssertEqual(try DeviceSelection.fromEnvironment(), .cpu)
        setenv(key, "opencl:0:1", 1)
        XCTAssertEqual(try DeviceSelection.fromEnvironment(), .opencl(platform: 0, device: 1))
        setenv(key, "quantum", 1)
        assertDeviceError("garbage in SHRINK_DEVICE", { _ = try DeviceSelection.fromEnvironment() }) {
            $0 == .invalidSelection("quantum")
        }
    }

    /// `gpu`'s rule as a pure function of the device list: a GPU-type device first, else the first.
    func testPreferredDeviceRule() {
        func info(_ p: Int, _ d: Int, _ type: OpenCLDeviceType) -> OpenCLDeviceInfo {
            OpenCLDeviceInfo(platformIndex: p, deviceIndex: d, platformName: "P\(p)", name: "D\(d)", vendor: "V",
                             type: type, version: "OpenCL 1.2", driverVersion: "1", computeUnits: 1, globalMemory: 1 << 30,
                             maxAllocation: 1 << 28, maxWorkGroupSize: 256, id: OpaquePointer(bitPattern: 0x10)!,
                             platform: OpaquePointer(bitPattern: 0x20)!)
        }
        XCTAssertNil(DeviceSelection.preferredOpenCLDevice([]))
        XCTAssertEqual(DeviceSelection.preferredOpenCLDevice([info(0, 0, .cpu)])?.selector, "opencl:0:0")
        XCTAssertEqual(DeviceSelection.preferredOpenCLDevice([info(0, 0, .cpu), info(1, 0, .gpu), info(1, 1, .gpu)])?.selector,
                       "opencl:1:0")
        XCTAssertEqual(DeviceSelection.preferredOpenCLDevice([info(0, 0, .accelerator), info(0, 1, .cpu)])?.selector,
                       "opencl:0:0")
    }

    func testCPUSelectionOpensTheCPUWithoutNotice() throws {
        var notices: [String] = []
        let device = try DeviceSelection.cpu.makeDevice { notices.append($0) }
        XCTAssertTrue(device is CPUDevice)
        XCTAssertEqual(device.kind, .cpu)
        XCTAssertEqual(notices, [])
    }

    /// With OpenCL present, gpu and auto open the preferred OpenCL device; a non-GPU pick says
    /// so in exactly one notice naming it.
    func testGPUAndAutoOpenTheOpenCLDevice() throws {
        guard let infos = try? OpenCL.devices(), let preferred = DeviceSelection.preferredOpenCLDevice(infos) else {
            print("OpenCL: no platform, skipping")
            return
        }
        for selection in [DeviceSelection.gpu, .auto] {
            var notices: [String] = []
            let device = try selection.makeDevice { notices.append($0) }
            XCTAssertEqual((device as? OpenCLDevice)?.info.selector, preferred.selector, "\(selection)")
            if preferred.type == .gpu {
                XCTAssertEqual(notices, [], "\(selection)")
            } else {
                XCTAssertEqual(notices.count, 1, "\(selection): \(notices)")
                XCTAssertTrue(notices.first?.hasPrefix("no OpenCL GPU found, using \(preferred.selector)") == true,
                              "\(selection): \(notices)")
            }
        }
    }

    /// opencl:P:D opens exactly that device (the process-wide instance), or fails naming what exists.
    func testExactSelection() throws {
        let infos = (try? OpenCL.devices()) ?? []
        for info in infos {
            let device = try DeviceSelection.opencl(platform: info.platformIndex, device: info.deviceIndex).makeDevice()
            XCTAssertTrue(device === (try OpenCLDevice.shared(info)), info.selector)
        }
        assertDeviceError("opencl:99:0", { _ = try DeviceSelection.opencl(platform: 99, device: 0).makeDevice() }) { error in
            guard case let .deviceNotFound(platform, device, available) = error else { return false }
            let message = "\(error)"
            return platform == 99 && device == 0 && message.contains("opencl:99:0")
                && infos.allSatisfy { available.contains($0.selector) } && (!infos.isEmpty || message.contains("none"))
        }
    }
}

import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

// Shared by every compute test: the devices under test and seeded data (`assertClose` is
// ShrinkTestSupport's, shared with the training tests).
// Every expected value in this target is computed by a plain Double loop written in the
// test itself, never by CPUDevice's helpers — except ReferenceTwinTests, which compares every
// device to the kernels' scalar twins (KernelReference) and checks those against Double loops.

/// The devices under test: the CPU, then every OpenCL device the ICD loader lists (opened
/// once per process through `OpenCLDevice.shared`). Without an OpenCL platform the OpenCL
/// half is skipped with a visible message, and the CPU half still runs.
func testDevices() -> [any Device] {
    var devices: [any Device] = [CPUDevice()]
    let infos: [OpenCLDeviceInfo]
    do {
        infos = try OpenCL.devices()
    } catch {
        print("OpenCL: no platform, skipping (\(error))")
        return devices
    }
    for info in infos {
        do {
            devices.append(try OpenCLDevice.shared(info))
        } catch {
            XCTFail("\(info.selector) is listed but cannot be opened: \(error)")
        }
    }
    return devices
}

/// The OpenCL devices alone (empty, with the skip message, when there is no platform).
func openCLTestDevices() -> [OpenCLDevice] {
    testDevices().compactMap { $0 as? OpenCLDevice }
}

/// A short label for failure messages: "cpu" or "opencl:P:D".
func label(_ device: any Device) -> String {
    (device as? OpenCLDevice)?.info.selector ?? device.kind.rawValue
}

/// Asserts that `body` throws a `DeviceError` for which `matches` holds.
func assertDeviceError(_ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void, matches: (DeviceError) -> Bool) {
    do {
        try body()
        XCTFail("\(message()): no error thrown", file: file, line: line)
    } catch let error as DeviceError {
        XCTAssertTrue(matches(error), "\(message()): unexpected \(error)", file: file, line: line)
    } catch {
        XCTFail("\(message()): not a DeviceError: \(error)", file: file, line: line)
    }
}

/// Seeded uniform values in [low, high) (xorshift64; the same on every run and platform).
func randomValues(_ count: Int, seed: UInt64, in range: Range<Double> = -1..<1) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    let width = range.upperBound - range.lowerBound
    return [Float](unsafeUninitializedCapacity: count) { out, initialized in
        for i in 0..<count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            out[i] = Float(range.lowerBound + Double(state >> 11) * 0x1p-53 * width)
        }
        initialized = count
    }
}

/// `values` with `before` sentinel elements in front and `after` behind, so that a kernel
/// writing outside its range is caught.
func padded(_ values: [Float], before: Int, after: Int = 2, sentinel: Float = 1234.5) -> [Float] {
    [Float](repeating: sentinel, count: before) + values + [Float](repeating: sentinel, count: after)
}

/// Asserts that the sentinels `padded` put around `count` elements at `offset` are intact.
func assertSentinels(_ out: [Float], offset: Int, count: Int, sentinel: Float = 1234.5, _ message: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(out[..<offset].allSatisfy { $0 == sentinel }, "\(message): wrote before its range",
                  file: file, line: line)
    XCTAssertTrue(out[(offset + count)...].allSatisfy { $0 == sentinel }, "\(message): wrote past its range",
                  file: file, line: line)
}

/// The first OpenCL device opened a second time with the default (GPU-shaped) tuning, so that
/// the kernels and sizes a GPU would get (matmul_tiled, 4096 norm partials) run on PoCL too.
/// Opened once per process; nil (with the skip message) without OpenCL.
func defaultTunedOpenCLDevice() throws -> OpenCLDevice? {
    guard let info = openCLTestDevices().first?.info else { return nil }
    return try DefaultTuned.device(info)
}

private enum DefaultTuned {
    nonisolated(unsafe) static var opened: OpenCLDevice?
    static let lock = NSLock()

    static func device(_ info: OpenCLDeviceInfo) throws -> OpenCLDevice {
        lock.lock()
        defer { lock.unlock() }
        if let opened { return opened }
        let device = try OpenCLDevice(info: info, tuning: KernelTuning.default.fitted(to: info.maxWorkGroupSize))
        opened = device
        return device
    }
}

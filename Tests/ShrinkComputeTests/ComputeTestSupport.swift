import Foundation
@testable import ShrinkCompute
import XCTest

/// The devices under test: the CPU, and every OpenCL device (skipped, visibly, when none).
enum ComputeDevices {
    static let all: [any Device] = {
        var devices: [any Device] = [CPUDevice()]
        do {
            for info in try OpenCL.devices() { devices.append(try OpenCLDevice.shared(info)) }
        } catch {
            print("OpenCL: no platform, skipping the OpenCL half (\(error))")
        }
        return devices
    }()
}

/// |actual − expected| ≤ tolerance + |expected|·relative elementwise; NaN must match NaN.
func assertClose(_ actual: [Float], _ expected: [Double], tolerance: Double = 1e-5, relative: Double = 1e-5,
                 _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, message(), file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        if e.isNaN {
            if !a.isNaN { XCTFail("\(message()): [\(i)] \(a), expected NaN", file: file, line: line); return }
            continue
        }
        if e.isInfinite {
            if Double(a) != e { XCTFail("\(message()): [\(i)] \(a), expected \(e)", file: file, line: line); return }
            continue
        }
        if !(abs(Double(a) - e) <= tolerance + abs(e) * relative) {
            XCTFail("\(message()): [\(i)] \(a) vs \(e)", file: file, line: line)
            return
        }
    }
}

/// Seeded uniform values in [-1, 1).
func randomValues(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Float(Double(state >> 11) * 0x1p-53 * 2 - 1)
    }
}

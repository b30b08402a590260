import ShrinkCompute
import XCTest

/// fill writes its value over exactly its range, on every device: across more than one
/// OpenCL work-group, at an offset, with the sentinels around it untouched.
final class FillTests: XCTestCase {
    func testFillChangesOnlyItsRange() throws {
        for device in testDevices() {
            for (offset, count) in [(0, 1), (3, 7), (5, 700)] {
                let x = try device.makeBuffer(padded(randomValues(count, seed: UInt64(count)), before: offset))
                try device.fill(x, at: offset, count: count, with: -2.5)
                let out = try device.read(x)
                assertSentinels(out, offset: offset, count: count, "\(label(device)) fill \(count) at \(offset)")
                XCTAssertEqual(Array(out[offset..<(offset + count)]), [Float](repeating: -2.5, count: count),
                               "\(label(device)) fill \(count) at \(offset)")
            }
            // An empty range changes nothing.
            let y = try device.makeBuffer([Float]([1, 2]))
            try device.fill(y, at: 1, count: 0, with: 9)
            XCTAssertEqual(try device.read(y), [1, 2], "\(label(device)) empty fill")
        }
    }
}

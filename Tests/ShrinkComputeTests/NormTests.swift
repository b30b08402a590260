import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// Every reduction on every device against a Double loop: lengths 1, 7, 1000 and 10^7 within
/// 1e-6 relative, offsets, scale and accumulate, both the one-launch and the two-stage
/// path, the segmented path, and NaN/Inf propagation. Under `SHRINK_TEST_SMALL=1` (Oclgrind)
/// the two-stage lengths shrink to the first one past the one-launch limit (16,385) and 10^7
/// is skipped; every path is still taken.
final class NormTests: XCTestCase {
    static let kinds: [NormKind] = [.sum, .l1, .l2, .l2Squared]

    /// Every reduction of x[offset..<offset+count] in one Double pass.
    struct Reference {
        var sum = 0.0, l1 = 0.0, squares = 0.0

        init(_ x: [Float], offset: Int, count: Int) {
            x.withUnsafeBufferPointer { p in
                for i in offset..<(offset + count) {
                    let v = Double(p[i])
                    sum += v
                    l1 += abs(v)
                    squares += v * v
                }
            }
        }

        func value(_ kind: NormKind) -> Double {
            switch kind {
            case .sum: return sum
            case .l1: return l1
            case .l2: return squares.squareRoot()
            case .l2Squared: return squares
            }
        }
    }

    /// Values in [-0.75, 1.25) with every 11th an exact zero, NaN sentinels around the range
    /// (a kernel reading outside it turns sums into NaN).
    static func data(_ count: Int, offset: Int, seed: UInt64) -> [Float] {
        var x = randomValues(count, seed: seed, in: -0.75..<1.25)
        for i in stride(from: 0, to: count, by: 11) { x[i] = 0 }
        return padded(x, before: offset, after: 3, sentinel: .nan)
    }

    private func checkEveryKind(_ device: any Device, count: Int, offset: Int, seed: UInt64,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let x = Self.data(count, offset: offset, seed: seed)
        let reference = Reference(x, offset: offset, count: count)
        let buffer = try device.makeBuffer(x)
        for kind in Self.kinds {
            let got = try device.norm(kind, of: buffer, at: offset, count: count)
            assertClose(got, reference.value(kind), tolerance: 0, relative: 1e-6,
                        "\(label(device)) \(kind) n=\(count) offset \(offset)", file: file, line: line)
        }
    }

    func testEveryKindAtShortLengths() throws {
        for device in testDevices() {
            for count in [1, 7, 1000] {
                try checkEveryKind(device, count: count, offset: 3, seed: UInt64(count))
            }
        }
    }

    /// The one-launch path's limit (16,384) and the first two-stage lengths, at offsets.
    func testAroundTheSinglePassLimit() throws {
        XCTAssertEqual(KernelTuning.normSmallCount, 16_384, "the lengths below straddle the one-launch limit")
        for device in testDevices() {
            for count in testSize([16_383, 16_384, 16_385, 100_003], small: [16_384, 16_385]) {
                try checkEveryKind(device, count: count, offset: count % 5 + 1, seed: UInt64(count))
            }
        }
    }

    /// 10^7 elements: a float running sum would drift by ~1e-4; the contract is 1e-6 relative.
    func testTenMillionElementsWithinOneMillionth() throws {
        try XCTSkipIf(smallTestSizes, "10^7 elements: hours on a simulator (SHRINK_TEST_SMALL=1)")
        for device in testDevices() {
            try checkEveryKind(device, count: 10_000_000, offset: 5, seed: 7)
        }
    }

    /// The default (GPU) tuning's 4096 partials, run on the OpenCL device.
    func testDefaultTuningTwoStagePath() throws {
        guard let device = try defaultTunedOpenCLDevice() else { return }
        XCTAssertEqual(device.tuning.normItems, 4096)
        for count in testSize([16_385, 1_000_003], small: [16_385]) {
            try checkEveryKind(device, count: count, offset: 2, seed: 3)
        }
    }

    /// result[index] = scale·N(x) (+ result[index] when accumulating); neighbours untouched;
    /// without accumulate the old value is ignored, NaN included.
    func testScaleAndAccumulate() throws {
        for device in testDevices() {
            for count in testSize([1000, 100_000], small: [1000, 16_385]) {  // one launch, two stages
                let x = Self.data(count, offset: 0, seed: 21)
                let reference = Reference(x, offset: 0, count: count)
                let buffer = try device.makeBuffer(x)
                for kind in Self.kinds {
                    let result = try device.makeBuffer([Float]([-7, 2.5, .nan, -7]))
                    try device.norm(kind, of: buffer, at: 0, count: count, into: result, at: 1, scale: -0.5, accumulate: true)
                    try device.norm(kind, of: buffer, at: 0, count: count, into: result, at: 2, scale: 3, accumulate: false)
                    let out = try device.read(result)
                    let message = "\(label(device)) \(kind) n=\(count)"
                    XCTAssertEqual([out[0], out[3]], [-7, -7], "\(message): wrote next to the result")
                    assertClose(out[1], 2.5 - 0.5 * reference.value(kind), tolerance: 1e-6, relative: 1e-6,
                                "\(message) accumulate")
                    assertClose(out[2], 3 * reference.value(kind), tolerance: 0, relative: 1e-6, "\(message) overwrite")
                }
            }
        }
    }

    /// Several accumulations into one slot sum (the penalty's Σ over parameter tensors).
    func testRepeatedAccumulationSums() throws {
        for device in testDevices() {
            let x = try device.makeBuffer([Float]([3, -4, 12]))
            let result = try device.makeBuffer(count: 1)
            try device.norm(.l2, of: x, at: 0, count: 2, into: result, at: 0, scale: 1, accumulate: true)  // 5
            try device.norm(.l1, of: x, at: 1, count: 2, into: result, at: 0, scale: 0.5, accumulate: true)  // 8
            try device.norm(.l2Squared, of: x, at: 2, count: 1, into: result, at: 0, scale: -0.125, accumulate: true)  // −18
            XCTAssertEqual(try device.read(result), [-5], "\(label(device))")
        }
    }

    func testEmptyRangeIsZero() throws {
        for device in testDevices() {
            let x = try device.makeBuffer([Float]([.nan, 1]))
            for kind in Self.kinds {
                XCTAssertEqual(try device.norm(kind, of: x, at: 1, count: 0), 0, "\(label(device)) \(kind)")
            }
        }
    }

    /// NaN gives NaN; ±Inf gives Inf, and +Inf − Inf NaN.
    /// On both paths, with the special value in the middle of the range.
    func testNaNAndInfPropagate() throws {
        for device in testDevices() {
            for count in testSize([7, 100_000], small: [7, 16_385]) {  // one launch, two stages
                var x = randomValues(count, seed: 31)
                let middle = count / 2
                x[middle] = .nan
                for kind in Self.kinds {
                    let expected = Reference(x, offset: 0, count: count).value(kind)
                    XCTAssertTrue(expected.isNaN)
                    assertClose(try device.norm(kind, of: try device.makeBuffer(x)), expected, tolerance: 0, relative: 1e-6,
                                "\(label(device)) \(kind) n=\(count) with NaN")
                }
                x[middle] = -.infinity
                for kind: NormKind in [.sum, .l1, .l2, .l2Squared] {
                    let expected = Reference(x, offset: 0, count: count).value(kind)
                    XCTAssertTrue(expected.isInfinite)
                    assertClose(try device.norm(kind, of: try device.makeBuffer(x)), expected, tolerance: 0, relative: 0,
                                "\(label(device)) \(kind) n=\(count) with -Inf")
                }
                x[middle + 1] = .infinity
                XCTAssertTrue(try device.norm(.sum, of: try device.makeBuffer(x)).isNaN, "\(label(device)) Inf − Inf")
                XCTAssertEqual(try device.norm(.l1, of: try device.makeBuffer(x)), .infinity, "\(label(device)) |±Inf|")
            }
        }
    }

    /// Many segments in one launch: each (offset, count, destination) reduced as `norm` would,
    /// scaled by its own factor, written or accumulated at base + destination, others untouched;
    /// a segment outside x or a destination outside result is the same error on every device.
    func testSegmentsInOneLaunch() throws {
        let x = Self.data(5000, offset: 0, seed: 21)
        let table: [(Int, Int, Int)] = [(0, 7, 3), (7, 1000, 0), (1007, 0, 5), (1500, 3493, 1), (2, 1, 6)]
        let scales: [Float] = [1, 0.5, 2, -1.5, 3]
        for device in testDevices() {
            let segments = try device.makeBuffer(count: 3 * table.count, type: .int32)
            try device.write(table.flatMap { [Int32($0.0), Int32($0.1), Int32($0.2)] }, to: segments)
            let factors = try device.makeBuffer(scales), buffer = try device.makeBuffer(x)
            for kind in Self.kinds {
                for accumulate in [false, true] {
                    let result = try device.makeBuffer([Float](repeating: 10, count: 12))
                    try device.norms(kind, of: buffer, segments: segments, scales: factors, segmentCount: table.count,
                                     into: result, at: 4, accumulate: accumulate)
                    let out = try device.read(result)
                    var expected = [Double](repeating: 10, count: 12)
                    for (i, (offset, count, destination)) in table.enumerated() {
                        let value = Double(scales[i]) * Reference(x, offset: offset, count: count).value(kind)
                        expected[4 + destination] = (accumulate ? 10 : 0) + value
                    }
                    assertClose(out, expected, tolerance: 1e-5, relative: 1e-6, "\(label(device)) \(kind) accumulate \(accumulate)")
                }
            }
            // A segment outside x, or a destination outside result: the same error on every device
            // (at the op on the CPU, at the next read on OpenCL), once.
            // (Distinct destinations: segments sharing one would race on a parallel device.)
            let result = try device.makeBuffer([Float](repeating: 0, count: 2))
            let cases: [([Int32], DeviceError)] = [
                ([4990, 20, 1], .outOfBounds(what: "norms segment 1", offset: 4990, count: 20, bufferCount: x.count)),
                ([0, 3, 2], .outOfBounds(what: "norms result (segment 1)", offset: 2, count: 1, bufferCount: 2)),
            ]
            for (triple, expected) in cases {
                let bad = try device.makeBuffer([0, 5, 0] + triple)
                assertDeviceError("\(label(device)) segment \(triple)", {
                    try device.norms(.sum, of: buffer, segments: bad, scales: factors, segmentCount: 2, into: result, at: 0,
                                     accumulate: false)
                    _ = try device.read(result)
                }, matches: { $0 == expected })
                XCTAssertNoThrow(try device.read(result), "\(label(device)): reported once")
            }
        }
    }
}

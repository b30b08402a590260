import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// The layer and elementwise kernels — gatherRows, addBias (+ReLU), applyMask, columnSums —
/// on every device against plain loops.
final class LayerTests: XCTestCase {
    // MARK: gatherRows

    func testGatherRowsAtAnIndexOffset() throws {
        for (sourceRows, cols) in [(9, 5), (300, 1), (70, 130)] {
            let x = randomValues(sourceRows * cols, seed: UInt64(cols))
            let last = Int32(sourceRows - 1)
            // Two entries before the index offset that would be out of range if read.
            let indices: [Int32] = [-5, 99_999, 0, last, 3, 3, last / 2, 1]
            let rows = indices.count - 2
            var expected: [Double] = []
            for r in 2..<indices.count {
                let s = Int(indices[r])
                for c in 0..<cols { expected.append(Double(x[s * cols + c])) }
            }
            for device in testDevices() {
                let out = try device.makeBuffer(padded([Float](repeating: 0, count: rows * cols), before: 0))
                try device.gatherRows(try device.makeBuffer(x), indices: try device.makeBuffer(indices), at: 2,
                                      rows: rows, cols: cols, into: out)
                let all = try device.read(out)
                assertSentinels(all, offset: 0, count: rows * cols, "\(label(device)) gather")
                assertClose(Array(all.prefix(rows * cols)), expected, tolerance: 0, relative: 0,
                            "\(label(device)) gather \(sourceRows)×\(cols)")
            }
        }
    }

    /// An index outside the source rows is the same error on every device: outOfBounds naming
    /// the op, the row and the index, thrown by the op on the CPU and by the next wait (`read`,
    /// `synchronize`) on OpenCL, once (the device's failure record is cleared). Nothing is read
    /// outside the source.
    func testGatherRowsWithAnIndexOutsideTheSource() throws {
        let x: [Float] = [1, 2, 3, 4, 5, 6]  // 3 rows of 2
        for device in testDevices() {
            for bad: Int32 in [3, -1, 1 << 30] {
                let out = try device.makeBuffer(count: 4)
                let indices = try device.makeBuffer([Int32]([0, bad]))
                let expected = DeviceError.outOfBounds(what: "gatherRows row index (row 1)", offset: Int(bad), count: 1,
                                                       bufferCount: 3)
                assertDeviceError("\(label(device)) index \(bad)", {
                    try device.gatherRows(try device.makeBuffer(x), indices: indices, at: 0, rows: 2, cols: 2, into: out)
                    _ = try device.read(out)
                }, matches: { $0 == expected })
                XCTAssertEqual(Array(try device.read(out)[0..<2]), [1, 2], "\(label(device)) index \(bad): reported once")
                assertDeviceError("\(label(device)) index \(bad) then synchronize", {
                    try device.gatherRows(try device.makeBuffer(x), indices: indices, at: 0, rows: 2, cols: 2, into: out)
                    try device.synchronize()
                }, matches: { $0 == expected })
                try device.synchronize()
            }
        }
    }

    // MARK: addBias

    func testAddBiasWithAndWithoutReLU() throws {
        for (rows, cols) in [(1, 1), (7, 65), (1000, 70)] {
            var x = randomValues(rows * cols, seed: 2)
            x[0] = .nan
            let bias = randomValues(cols + 3, seed: 3)
            for relu in [false, true] {
                let expected = (0..<(rows * cols)).map { i -> Double in
                    let v = Double(x[i] + bias[3 + i % cols])  // the sum rounded to float, as stored
                    return relu && v <= 0 ? 0 : v  // NaN stays NaN, as torch.relu
                }
                for device in testDevices() {
                    let buffer = try device.makeBuffer(padded(x, before: 0))
                    try device.addBias(buffer, bias: try device.makeBuffer(bias), at: 3, rows: rows, cols: cols, relu: relu)
                    let out = try device.read(buffer)
                    assertSentinels(out, offset: 0, count: rows * cols, "\(label(device)) addBias")
                    assertClose(Array(out.prefix(rows * cols)), expected, tolerance: 0, relative: 0,
                                "\(label(device)) addBias \(rows)×\(cols) relu=\(relu)")
                    XCTAssertTrue(!relu || out.prefix(rows * cols).allSatisfy { $0.isNaN || $0 >= 0 })
                }
            }
        }
    }

    // MARK: applyMask

    func testApplyMask() throws {
        var a: [Float] = [0, 1, -1, 2, .nan, 0.5, -0.0, 1e-38, -.infinity]
        a += randomValues(100_000, seed: 4)
        let g = randomValues(a.count, seed: 5)
        let expected = zip(a, g).map { a, g in a <= 0 ? 0 : Double(g) }  // a NaN mask keeps the value
        for device in testDevices() {
            let buffer = try device.makeBuffer(padded(g, before: 0))
            try device.applyMask(buffer, mask: try device.makeBuffer(a), count: a.count)
            let out = try device.read(buffer)
            assertSentinels(out, offset: 0, count: a.count, "\(label(device)) applyMask")
            assertClose(Array(out.prefix(a.count)), expected, tolerance: 0, relative: 0, "\(label(device)) applyMask")
        }
    }

    // MARK: columnSums

    func testColumnSumsAtAnOffset() throws {
        for (rows, cols) in [(1, 1), (7, 61), (1024, 3), (65, 1024), (3, 70_000)] {
            let x = randomValues(rows * cols, seed: UInt64(rows + cols))
            var expected = [Double](repeating: 0, count: cols)
            for r in 0..<rows {
                for c in 0..<cols { expected[c] += Double(x[r * cols + c]) }
            }
            for device in testDevices() {
                let out = try device.makeBuffer(padded([Float](repeating: .nan, count: cols), before: 2))
                try device.columnSums(try device.makeBuffer(x), rows: rows, cols: cols, into: out, at: 2)
                let all = try device.read(out)
                assertSentinels(all, offset: 2, count: cols, "\(label(device)) columnSums")
                assertClose(Array(all[2..<(2 + cols)]), expected, tolerance: 1e-6 * Double(rows), relative: 1e-6,
                            "\(label(device)) columnSums \(rows)×\(cols)")
            }
        }
    }

    /// Zero rows: every column sum is 0 (the old contents, NaN here, are overwritten).
    func testColumnSumsOfNoRows() throws {
        for device in testDevices() {
            let out = try device.makeBuffer([Float]([.nan, .nan, .nan]))
            try device.columnSums(try device.makeBuffer(count: 1), rows: 0, cols: 3, into: out, at: 0)
            XCTAssertEqual(try device.read(out), [0, 0, 0], "\(label(device))")
        }
    }

    func testColumnSumsPropagateNaN() throws {
        for device in testDevices() {
            let out = try device.makeBuffer(count: 2)
            try device.columnSums(try device.makeBuffer([Float]([1, .nan, 2, 3])), rows: 2, cols: 2, into: out, at: 0)
            let got = try device.read(out)
            XCTAssertEqual(got[0], 3, "\(label(device))")
            XCTAssertTrue(got[1].isNaN, "\(label(device)): \(got)")
        }
    }

}

import Foundation
@testable import ShrinkCompute
import XCTest

/// gatherRows, addBias (+ReLU), reluBackward and columnSums against plain loops.
final class LayerKernelTests: XCTestCase {
    func testGatherRows() throws {
        let (rows, cols) = (9, 5)
        let x = randomValues(rows * cols, seed: 1)
        let order: [Int32] = [0, 8, 3, 3, 7, 1]
        for device in ComputeDevices.all {
            let out = try device.makeBuffer(count: 4 * cols)
            try device.gatherRows(try device.makeBuffer(x), indices: try device.makeBuffer(order), at: 2, rows: 4,
                                  cols: cols, into: out)
            let expected = order[2..<6].flatMap { r in x[(Int(r) * cols)..<(Int(r) * cols + cols)].map(Double.init) }
            assertClose(try device.read(out), expected, tolerance: 0, relative: 0, "\(device.kind) gather")
        }
    }

    func testAddBiasWithAndWithoutReLU() throws {
        let (rows, cols) = (7, 65)
        let x = randomValues(rows * cols, seed: 2) + [.nan]
        let bias = randomValues(cols + 2, seed: 3)
        for device in ComputeDevices.all {
            for relu in [false, true] {
                let buffer = try device.makeBuffer(x)
                try device.addBias(buffer, bias: try device.makeBuffer(bias), at: 2, rows: rows, cols: cols, relu: relu)
                let expected = (0..<(rows * cols)).map { i -> Double in
                    let v = Double(x[i] + bias[2 + i % cols])
                    return relu ? max(v, 0) : v
                } + [.nan]
                assertClose(try device.read(buffer), expected, tolerance: 1e-7, relative: 1e-7, "\(device.kind) relu=\(relu)")
            }
            let nan = try device.makeBuffer([Float]([.nan, -1]))
            try device.addBias(nan, bias: try device.makeBuffer([Float]([0])), at: 0, rows: 2, cols: 1, relu: true)
            let out = try device.read(nan)
            XCTAssertTrue(out[0].isNaN, "\(device.kind): ReLU(NaN) must stay NaN"); XCTAssertEqual(out[1], 0)
        }
    }

    func testReluBackward() throws {
        let a: [Float] = [0, 1, -1, 2, .nan, 0.5, -0.0]
        let g: [Float] = [1, 2, 3, 4, 5, 6, 7]
        for device in ComputeDevices.all {
            let buffer = try device.makeBuffer(g)
            try device.reluBackward(buffer, activation: try device.makeBuffer(a), count: a.count)
            XCTAssertEqual(try device.read(buffer), [0, 2, 0, 4, 5, 6, 0], "\(device.kind)")
        }
    }

    func testColumnSums() throws {
        for (rows, cols) in [(1, 1), (7, 61), (1024, 3), (65, 1024)] {
            let x = randomValues(rows * cols, seed: UInt64(rows + cols))
            let expected = (0..<cols).map { c in (0..<rows).reduce(0.0) { $0 + Double(x[$1 * cols + c]) } }
            for device in ComputeDevices.all {
                let out = try device.makeBuffer(count: cols + 1)
                try device.columnSums(try device.makeBuffer(x), rows: rows, cols: cols, into: out, at: 1)
                assertClose(Array(try device.read(out)[1...]), expected, tolerance: 1e-4, relative: 1e-5,
                            "\(device.kind) \(rows)×\(cols)")
            }
        }
    }
}

@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// sparseMatmul (CSR × dense) on every device and the default-tuned OpenCL device: against a
/// plain Double loop over the dense matrix, and bitwise against the kernel's scalar twin, on
/// random patterns with empty rows, empty columns and one long row, both transposes, beta ≠ 0
/// and beta = 0 over NaN; a bad column index or row range fails the same way everywhere.
final class SparseMatmulTests: XCTestCase {
    /// A seeded CSR pattern: about `density` of the entries, row 0 empty, column 1 empty, and
    /// (when `longRow`) the last row full.
    struct Pattern {
        var rows: Int, columns: Int
        var starts: [Int32] = [0], indices: [Int32] = [], values: [Float] = []

        init(rows: Int, columns: Int, density: Double, seed: UInt64, longRow: Bool = true) {
            self.rows = rows; self.columns = columns
            let draws = randomValues(rows * columns, seed: seed, in: 0..<1)
            let numbers = randomValues(rows * columns, seed: seed + 1)
            for r in 0..<rows {
                for c in 0..<columns where r > 0 && c != 1 && (Double(draws[r * columns + c]) < density
                                                               || (longRow && r == rows - 1)) {
                    indices.append(Int32(c)); values.append(numbers[r * columns + c])
                }
                starts.append(Int32(indices.count))
            }
        }

        var dense: [Float] {
            var out = [Float](repeating: 0, count: rows * columns)
            for r in 0..<rows {
                for i in Int(starts[r])..<Int(starts[r + 1]) { out[r * columns + Int(indices[i])] = values[i] }
            }
            return out
        }

        func operand(on device: any Device) throws -> SparseOperand {
            SparseOperand(rows: rows, columns: columns, nonZeros: values.count, rowStarts: try device.makeBuffer(starts),
                          columnIndices: try device.makeBuffer(indices.isEmpty ? [0] : indices),
                          values: try device.makeBuffer(values.isEmpty ? [0] : values))
        }
    }

    private var devices: [any Device] {
        get throws { testDevices() + (try defaultTunedOpenCLDevice().map { [$0] } ?? []) }
    }

    func testMatchesDenseProductAndTheTwin() throws {
        for (m, k, n, density) in [(1, 1, 1, 1.0), (9, 40, 3, 0.2), (37, 300, 1, 0.05), (64, 17, 16, 0.5), (5, 1000, 2, 0.01)] {
            let a = Pattern(rows: m, columns: k, density: density, seed: UInt64(m * 1000 + k))
            let dense = a.dense
            for transposeB in [false, true] {
                let b = randomValues(k * n, seed: 7)
                for beta: Float in [0, -0.5] {
                    let c0: [Float] = beta == 0 ? [Float](repeating: .nan, count: m * n) : randomValues(m * n, seed: 9)
                    let alpha: Float = 1.5
                    // Independent: the dense product in Double.
                    let expected: [Double] = (0..<(m * n)).map { idx in
                        let (r, j) = (idx / n, idx % n)
                        let sum = (0..<k).reduce(0.0) { acc, p in
                            acc + Double(dense[r * k + p]) * Double(transposeB ? b[j * k + p] : b[p * n + j])
                        }
                        return Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c0[idx]))
                    }
                    // The twin, run here.
                    var twin = c0
                    var failure = [Int32](repeating: 0, count: KernelFailure.length)
                    KernelReference.sparse_matmul(m, n, k, a.values.count, alpha, a.starts, a.indices, a.values, b, 0,
                                                  transposeB ? k : n, transposeB, beta, &twin, 0, n, &failure)
                    XCTAssertEqual(failure[0], 0)
                    let shape = "\(m)×\(k)·\(transposeB ? "Bᵀ" : "B") n \(n) beta \(beta)"
                    assertClose(twin, expected, tolerance: 1e-5, relative: 1e-5, "twin \(shape)")
                    for device in try devices {
                        let c = try device.makeBuffer(c0)
                        try device.sparseMatmul(try a.operand(on: device), n: n, transposeB: transposeB, alpha: alpha,
                                                b: try device.makeBuffer(b), at: 0, beta: beta, c: c, at: 0)
                        let out = try device.read(c)
                        XCTAssertEqual(out.map(\.bitPattern), twin.map(\.bitPattern), "\(label(device)) \(shape)")
                    }
                }
            }
        }
    }

    func testOffsetsAndNaNPropagation() throws {
        let a = Pattern(rows: 6, columns: 5, density: 0.6, seed: 3)
        var b = randomValues(5 * 2 + 3, seed: 4)
        b[3 + 4 * 2 + 1] = .nan  // B[4, 1]: reaches every row with a non-zero in column 4, output 1 only
        for device in try devices {
            let c = try device.makeBuffer([Float](repeating: 7, count: 6 * 2 + 2))
            try device.sparseMatmul(try a.operand(on: device), n: 2, transposeB: false, alpha: 1,
                                    b: try device.makeBuffer(b), at: 3, beta: 0, c: c, at: 2)
            let out = try device.read(c)
            XCTAssertEqual(Array(out.prefix(2)), [7, 7], "\(label(device)): wrote before its range")
            for r in 0..<6 {
                let usesColumn4 = (Int(a.starts[r])..<Int(a.starts[r + 1])).contains { a.indices[$0] == 4 }
                XCTAssertEqual(out[2 + r * 2 + 1].isNaN, usesColumn4, "\(label(device)) row \(r)")
                XCTAssertFalse(out[2 + r * 2].isNaN, "\(label(device)) row \(r) output 0")
            }
        }
    }

    func testBadColumnIndexOrRowRangeFailsTheSameWayEverywhere() throws {
        let cases: [(String, [Int32], [Int32])] = [
            ("column index past k", [0, 1, 2], [0, 9]),
            ("negative column index", [0, 1, 2], [0, -1]),
            ("row range past nnz", [0, 1, 5], [0, 1]),
            ("decreasing row range", [0, 2, 1], [0, 1]),
        ]
        for (name, starts, indices) in cases {
            for device in try devices {
                let a = SparseOperand(rows: 2, columns: 3, nonZeros: 2, rowStarts: try device.makeBuffer(starts),
                                      columnIndices: try device.makeBuffer(indices), values: try device.makeBuffer([1, 2] as [Float]))
                let c = try device.makeBuffer(count: 2)
                assertDeviceError("\(label(device)) \(name)", {
                    try device.sparseMatmul(a, n: 1, transposeB: false, alpha: 1, b: try device.makeBuffer([1, 1, 1] as [Float]),
                                            at: 0, beta: 0, c: c, at: 0)
                    try device.synchronize()
                }, matches: { error in
                    if case let .outOfBounds(what, _, _, _) = error { return what.hasPrefix("sparseMatmul row 1") }
                    return false
                })
                // Reported once: the device works on afterwards.
                XCTAssertNoThrow(try device.read(c), "\(label(device)) \(name)")
            }
        }
    }
}

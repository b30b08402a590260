@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// The sparse first layer of a training step (`sparseMatmulSelected`, `scatterPositions`): the
/// forward X_b·Wᵀ with the batch's rows picked on the device (an offset or an index list), and
/// the backward ∂W = δᵀ·X_b from Xᵀ in CSR with X's rows mapped to batch positions (a window, or
/// a position map set and reset by `scatterPositions`) and C written transposed [out, p]. Each
/// case against a plain Double loop over the dense matrix (1e-5 absolute and relative; 1e-3
/// absolute over the 150,000-entry row), and bitwise against the scalar twin of the kernel that
/// ran: sparse_matmul_sel (CPU, CPU-type OpenCL) and sparse_matmul_sel_group (the default-tuned
/// OpenCL device, and forced on every OpenCL device). Patterns hold empty rows, an empty column
/// and one full row.
final class SparseGradientTests: XCTestCase {
    typealias Pattern = SparseMatmulTests.Pattern

    /// One selected product, all of it on the host.
    struct Case {
        var a: Pattern
        var rows: Int
        /// nil: rows first..<first + rows.
        var rowIndices: [Int32]? = nil
        var rowFirst = 0
        /// 0 identity, 1 window (bFirst, bRows), 2 map (k entries, bRows rows of B).
        var bMode = 0, bFirst = 0, bRows = 0
        var map: [Int32]? = nil
        var n: Int
        var transposeB: Bool
        var transposeC = false
        var alpha: Float = 1, beta: Float = 0

        var kb: Int { bMode == 0 ? a.columns : bRows }
        var b: [Float] { randomValues(max(kb * n, 1), seed: UInt64(7 + n + kb)) }
        var c0: [Float] {
            beta == 0 ? [Float](repeating: .nan, count: rows * n) : randomValues(rows * n, seed: 11)
        }

        func storedRow(_ i: Int) -> Int { rowIndices.map { Int($0[rowFirst + i]) } ?? rowFirst + i }

        func bRow(_ c: Int) -> Int? {
            switch bMode {
            case 0: return c
            case 1: return c - bFirst >= 0 && c - bFirst < bRows ? c - bFirst : nil
            default: return map![c] >= 0 ? Int(map![c]) : nil
            }
        }

        /// The product from the dense matrix, in Double, laid out as C.
        var expected: [Double] {
            let (dense, b, c0, k) = (a.dense, self.b, self.c0, a.columns)
            var out = [Double](repeating: 0, count: rows * n)
            for i in 0..<rows {
                for j in 0..<n {
                    var sum = 0.0
                    for c in 0..<k {
                        guard let br = bRow(c) else { continue }
                        sum += Double(dense[storedRow(i) * k + c]) * Double(transposeB ? b[j * k + c] : b[br * n + j])
                    }
                    let idx = transposeC ? j * rows + i : i * n + j
                    out[idx] = Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c0[idx]))
                }
            }
            return out
        }

        /// The twin of `variant`'s kernel (SP_LOCAL = `local`).
        func twin(_ variant: SparseVariant, local: Int) -> [Float] {
            var c = c0
            var failure = [Int32](repeating: 0, count: KernelFailure.length)
            let idx = rowIndices ?? [0], m = map ?? [0]
            let (k, ldb, ldc) = (a.columns, transposeB ? a.columns : n, transposeC ? rows : n)
            let (starts, indices, values) = (a.starts, a.indices.isEmpty ? [0] : a.indices, a.values.isEmpty ? [0] : a.values)
            switch variant {
            case .rowItems:
                KernelReference.sparse_matmul_sel(rows, n, k, a.values.count, alpha, starts, indices, values, a.rows, idx,
                                                  rowFirst, rowIndices != nil, m, bMode, bFirst, kb, b, 0, ldb,
                                                  transposeB, beta, &c, 0, ldc, transposeC, &failure)
            case .rowGroups:
                KernelReference.sparse_matmul_sel_group(rows, n, k, a.values.count, alpha, starts, indices, values, a.rows,
                                                        idx, rowFirst, rowIndices != nil, m, bMode, bFirst, kb, b, 0,
                                                        ldb, transposeB, beta, &c, 0, ldc, transposeC, &failure,
                                                        local: local)
            }
            XCTAssertEqual(failure[0], 0, "twin \(variant) recorded a failure")
            return c
        }

        func selection(on device: any Device) throws -> SparseSelection {
            let aRows: SparseSelection.Rows = try rowIndices.map { .indices(try device.makeBuffer($0), offset: rowFirst) }
                ?? .range(first: rowFirst)
            let bRows: SparseSelection.BRows = switch bMode {
            case 0: .identity
            case 1: .window(first: bFirst, count: bRows)
            default: .map(try device.makeBuffer(map!), rows: bRows)
            }
            return SparseSelection(rows: rows, aRows: aRows, bRows: bRows, transposeC: transposeC)
        }

        /// The device's product; `variant` forces an OpenCL kernel.
        func run(on device: any Device, variant: SparseVariant? = nil) throws -> [Float] {
            let (operand, selection) = (try a.operand(on: device), try selection(on: device))
            let (b, c) = (try device.makeBuffer(self.b), try device.makeBuffer(c0))
            if let variant, let cl = device as? OpenCLDevice {
                try cl.sparseMatmul(operand, selection, n: n, transposeB: transposeB, alpha: alpha, b: b, at: 0,
                                    beta: beta, c: c, at: 0, variant: variant)
            } else {
                try device.sparseMatmul(operand, selection, n: n, transposeB: transposeB, alpha: alpha, b: b, at: 0,
                                        beta: beta, c: c, at: 0)
            }
            return try device.read(c)
        }

        /// Every device against the Double product and the twin of the kernel it ran, plus the
        /// group kernel forced on every OpenCL device.
        func check(_ name: String, tolerance: Double = 1e-5) throws {
            let expected = self.expected
            assertClose(twin(.rowItems, local: 1), expected, tolerance: tolerance, relative: 1e-5, "\(name) item twin")
            var devices = testDevices()
            // (Under SHRINK_TEST_SMALL the OpenCL device is Oclgrind, GPU-type already.)
            if !smallTestSizes, let gpuShaped = try defaultTunedOpenCLDevice() { devices.append(gpuShaped) }
            for device in devices {
                let cl = device as? OpenCLDevice
                let variant = cl.map { SparseVariant.choose(rows: a.rows, nonZeros: a.values.count, tuning: $0.tuning) }
                    ?? .rowItems
                let local = cl?.tuning.sparseLocal ?? 1
                let out = try run(on: device)
                assertClose(out, expected, tolerance: tolerance, relative: 1e-5, "\(label(device)) \(name)")
                XCTAssertEqual(out.map(\.bitPattern), twin(variant, local: local).map(\.bitPattern),
                               "\(label(device)) \(variant) \(name): not its twin's bits")
                if let cl {
                    let grouped = try run(on: cl, variant: .rowGroups)
                    XCTAssertEqual(grouped.map(\.bitPattern), twin(.rowGroups, local: cl.tuning.sparseLocal).map(\.bitPattern),
                                   "\(label(device)) forced groups \(name)")
                }
            }
        }
    }

    /// Aᵀ in CSR, rows in order within each column (as SparseMatrix.transposed()).
    static func transposed(_ a: Pattern) -> Pattern {
        var t = a
        (t.rows, t.columns) = (a.columns, a.rows)
        var starts = [Int32](repeating: 0, count: a.columns + 1)
        for c in a.indices { starts[Int(c) + 1] += 1 }
        for c in 0..<a.columns { starts[c + 1] += starts[c] }
        var next = starts.map(Int.init)
        var indices = [Int32](repeating: 0, count: a.values.count), values = [Float](repeating: 0, count: a.values.count)
        for r in 0..<a.rows {
            for i in Int(a.starts[r])..<Int(a.starts[r + 1]) {
                let c = Int(a.indices[i])
                (indices[next[c]], values[next[c]]) = (Int32(r), a.values[i])
                next[c] += 1
            }
        }
        (t.starts, t.indices, t.values) = (starts, indices, values)
        return t
    }

    /// A seeded permutation of 0..<n as int32.
    static func order(_ n: Int, seed: UInt64) -> [Int32] {
        let keys = randomValues(n, seed: seed)
        return (0..<n).sorted { (keys[$0], $0) < (keys[$1], $1) }.map { Int32($0) }
    }

    /// (rows, columns, outputs, density); SHRINK_TEST_SMALL (Oclgrind) drops the largest.
    static let shapes = testSize([(1, 1, 1, 1.0), (9, 40, 3, 0.2), (37, 300, 1, 0.05), (70, 17, 16, 0.5)],
                                 small: [(1, 1, 1, 1.0), (9, 40, 3, 0.2), (23, 90, 2, 0.1)])

    func testForwardPicksTheBatchRowsOnTheDevice() throws {
        for (m, k, n, density) in Self.shapes {
            let x = Pattern(rows: m, columns: k, density: density, seed: UInt64(m * 31 + k))
            let order = Self.order(m, seed: 5)
            let batch = max(1, m / 2)
            // Shuffled: rows by index (the second half of the order); in order: an offset.
            try Case(a: x, rows: batch, rowIndices: order, rowFirst: m - batch, n: n, transposeB: true)
                .check("X[order]·Wᵀ \(m)×\(k) n \(n)")
            try Case(a: x, rows: batch, rowFirst: m - batch, n: n, transposeB: true, alpha: 1.5, beta: -0.5)
                .check("X[offset]·Wᵀ \(m)×\(k) n \(n) beta")
            try Case(a: x, rows: m, n: n, transposeB: false, transposeC: true).check("(X·B)ᵀ \(m)×\(k) n \(n)")
        }
    }

    func testBackwardFromTheTransposeThroughAWindowAndAPositionMap() throws {
        for (rows, p, out, density) in Self.shapes {
            let xt = Self.transposed(Pattern(rows: rows, columns: p, density: density, seed: UInt64(rows * 17 + p)))
            let batch = max(1, rows / 3), first = rows - batch
            // In order: batch row i is X's row first + i.
            try Case(a: xt, rows: p, bMode: 1, bFirst: first, bRows: batch, n: out, transposeB: false, transposeC: true)
                .check("δᵀ·X[window] \(rows)×\(p) out \(out)")
            // Shuffled: X's row order[first + i] is batch row i; every other row −1.
            let order = Self.order(rows, seed: 3)
            var map = [Int32](repeating: -1, count: rows)
            for i in 0..<batch { map[Int(order[first + i])] = Int32(i) }
            try Case(a: xt, rows: p, bMode: 2, bRows: batch, map: map, n: out, transposeB: false, transposeC: true)
                .check("δᵀ·X[order] \(rows)×\(p) out \(out)")
        }
    }

    /// One row of 150,000 entries (the forward over it, and the backward's 150,000 short rows of Xᵀ;
    /// the backward's long rows are Xᵀ's in the other tests and in the trainer's).
    /// (SHRINK_TEST_SMALL: 300 entries, several strides of a work-group: every path still taken.)
    func testOneHugeRow() throws {
        let width = testSize(150_001, small: 301)
        let x = Pattern(rows: 3, columns: width, density: 0.0005, seed: 21)
        XCTAssertGreaterThan(Int(x.starts[3] - x.starts[2]), testSize(100_000, small: 250))
        try Case(a: x, rows: 3, n: 2, transposeB: true).check("huge row X·Wᵀ", tolerance: 1e-3)
        try Case(a: Self.transposed(x), rows: width, bMode: 1, bFirst: 1, bRows: 2, n: 2, transposeB: false,
                 transposeC: true).check("huge row δᵀ·X", tolerance: 1e-3)
        // The batch-row route's gradient over the huge row: (rows 1 and 2)ᵀ·δ.
        let delta = randomValues(4, seed: 3), dense = x.dense
        for device in testDevices() {
            let c = try device.makeBuffer(count: 2 * width)
            try device.sparseMatmulTransposed(try x.operand(on: device), rows: .range(first: 1), m: 2, n: 2, alpha: 1,
                                              b: try device.makeBuffer(delta), at: 0, beta: 0, c: c, at: 0)
            let expected: [Double] = (0..<(2 * width)).map { idx in
                let (j, col) = (idx / width, idx % width)
                return (0..<2).reduce(0.0) { $0 + Double(delta[$1 * 2 + j]) * Double(dense[(1 + $1) * width + col]) }
            }
            assertClose(try device.read(c), expected, tolerance: 1e-6, relative: 1e-6, "\(label(device)) huge row Xᵀ·δ")
        }
    }

    /// C = beta·C + alpha·Bᵀ·A_S [n, k] from the selected rows themselves (sparse_matmul_tn): every
    /// C entry sums its rows in order whatever the slicing, so each device's result is its twin's
    /// bits for any slice count.
    func testTransposedProductFromTheBatchRows() throws {
        for (m, k, n, density) in Self.shapes + [(5, 3, 2, 0.9)] {
            let x = Pattern(rows: m, columns: k, density: density, seed: UInt64(m * 13 + k))
            let order = Self.order(m, seed: 6)
            let batch = max(1, (2 * m) / 3), first = m - batch
            let b = randomValues(batch * n, seed: 4)
            for (byIndex, alpha, beta) in [(true, Float(1), Float(0)), (false, 1.5, -0.5)] {
                let c0: [Float] = beta == 0 ? [Float](repeating: .nan, count: n * k) : randomValues(n * k, seed: 2)
                let stored = (0..<batch).map { byIndex ? Int(order[first + $0]) : first + $0 }
                let dense = x.dense
                let expected: [Double] = (0..<(n * k)).map { idx in
                    let (j, c) = (idx / k, idx % k)
                    let sum = (0..<batch).reduce(0.0) { $0 + Double(b[$1 * n + j]) * Double(dense[stored[$1] * k + c]) }
                    return Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c0[idx]))
                }
                let name = "\(byIndex ? "X[order]" : "X[offset]")ᵀ·B \(m)×\(k) n \(n) beta \(beta)"
                var twins: [[Float]] = []
                for slices in [1, 3, min(k, 16)] {
                    var twin = c0, failure = [Int32](repeating: 0, count: KernelFailure.length)
                    KernelReference.sparse_matmul_tn(batch, n, k, x.values.count, alpha, x.starts,
                                                     x.indices.isEmpty ? [0] : x.indices, x.values.isEmpty ? [0] : x.values,
                                                     m, order, byIndex ? first : first, byIndex, b, 0, n, beta, &twin, 0, k,
                                                     min(slices, k), &failure)
                    XCTAssertEqual(failure[0], 0)
                    twins.append(twin)
                }
                assertClose(twins[0], expected, tolerance: 1e-5, relative: 1e-5, "twin \(name)")
                XCTAssertEqual(Set(twins.map { $0.map(\.bitPattern) }).count, 1, "\(name): the slicing changed the bits")
                var devices = testDevices()
                if !smallTestSizes, let gpuShaped = try defaultTunedOpenCLDevice() { devices.append(gpuShaped) }
                for device in devices {
                    let c = try device.makeBuffer(c0)
                    let rows: SparseSelection.Rows = byIndex ? .indices(try device.makeBuffer(order), offset: first)
                        : .range(first: first)
                    try device.sparseMatmulTransposed(try x.operand(on: device), rows: rows, m: batch, n: n, alpha: alpha,
                                                      b: try device.makeBuffer(b), at: 0, beta: beta, c: c, at: 0)
                    XCTAssertEqual(try device.read(c).map(\.bitPattern), twins[0].map(\.bitPattern), "\(label(device)) \(name)")
                }
            }
        }
    }

    func testTransposedProductFailsOnBadRows() throws {
        let cases: [(String, [Int32], [Int32], [Int32]?, String)] = [
            ("column past k", [0, 1, 3], [0, 1, 9], nil, "sparseMatmul row 1"),
            ("negative column", [0, 1, 3], [0, -1, 2], nil, "sparseMatmul row 1"),
            ("row range past nnz", [0, 1, 5], [0, 1, 2], nil, "sparseMatmul row 1"),
            ("selected row past A", [0, 1, 3], [0, 1, 2], [0, 2], "sparseMatmul selected row (product row 1)"),
        ]
        var devices = testDevices()
        if let gpuShaped = try defaultTunedOpenCLDevice() { devices.append(gpuShaped) }
        for (name, starts, indices, selected, prefix) in cases {
            for device in devices {
                let a = SparseOperand(rows: 2, columns: 3, nonZeros: 3, rowStarts: try device.makeBuffer(starts),
                                      columnIndices: try device.makeBuffer(indices), values: try device.makeBuffer([1, 2, 3] as [Float]))
                let rows: SparseSelection.Rows = try selected.map { .indices(try device.makeBuffer($0), offset: 0) } ?? .range(first: 0)
                let c = try device.makeBuffer(count: 6)
                assertDeviceError("\(label(device)) \(name)", {
                    try device.sparseMatmulTransposed(a, rows: rows, m: 2, n: 2, alpha: 1,
                                                      b: try device.makeBuffer([1, 1, 1, 1] as [Float]), at: 0, beta: 0,
                                                      c: c, at: 0)
                    try device.synchronize()
                }, matches: { if case let .outOfBounds(what, _, _, _) = $0 { what.hasPrefix(prefix) } else { false } })
                XCTAssertTrue(try device.read(c).allSatisfy(\.isNaN), "\(label(device)) \(name): C is NaN")
            }
        }
    }

    func testPositionMapIsSetAndResetByScatter() throws {
        let order = Self.order(50, seed: 8)
        for device in testDevices() {
            let map = try device.makeBuffer([Int32](repeating: -1, count: 50))
            let indices = try device.makeBuffer(order)
            try device.scatterPositions(map, count: 50, indices: indices, at: 20, rows: 7, reset: false)
            var expected = [Int32](repeating: -1, count: 50)
            for i in 0..<7 { expected[Int(order[20 + i])] = Int32(i) }
            XCTAssertEqual(try device.readInts(map), expected, label(device))
            try device.scatterPositions(map, count: 50, indices: indices, at: 20, rows: 7, reset: true)
            XCTAssertEqual(try device.readInts(map), [Int32](repeating: -1, count: 50), "\(label(device)) reset")
        }
    }

    func testBadSelectionFailsTheSameWayEverywhere() throws {
        let x = Pattern(rows: 4, columns: 5, density: 0.7, seed: 1)
        let cases: [(String, Case, String)] = [
            ("selected row past A", Case(a: x, rows: 2, rowIndices: [0, 4], n: 1, transposeB: true),
             "sparseMatmul selected row (product row 1)"),
            ("negative selected row", Case(a: x, rows: 2, rowIndices: [-1, 0], n: 1, transposeB: true),
             "sparseMatmul selected row (product row 0)"),
            ("mapped row past B", Case(a: x, rows: 4, bMode: 2, bRows: 2, map: [0, 1, 2, 0, 1], n: 1, transposeB: false),
             "sparseMatmul B row map"),
        ]
        var devices = testDevices()
        if let gpuShaped = try defaultTunedOpenCLDevice() { devices.append(gpuShaped) }
        for (name, bad, prefix) in cases {
            for device in devices {
                for variant in device is OpenCLDevice ? [SparseVariant.rowItems, .rowGroups] : [nil] {
                    assertDeviceError("\(label(device)) \(variant.map { "\($0)" } ?? "") \(name)", {
                        _ = try bad.run(on: device, variant: variant)
                        try device.synchronize()
                    }, matches: { error in
                        if case let .outOfBounds(what, _, _, _) = error { return what.hasPrefix(prefix) }
                        return false
                    })
                    XCTAssertNoThrow(try device.synchronize(), "\(label(device)) \(name): reported once")
                }
            }
        }
        // A bad column index and a scatter index outside the map.
        for device in devices {
            let a = SparseOperand(rows: 2, columns: 3, nonZeros: 2, rowStarts: try device.makeBuffer([0, 1, 2] as [Int32]),
                                  columnIndices: try device.makeBuffer([0, 9] as [Int32]),
                                  values: try device.makeBuffer([1, 2] as [Float]))
            assertDeviceError("\(label(device)) bad column", {
                try device.sparseMatmul(a, SparseSelection(rows: 1, aRows: .range(first: 1)), n: 1, transposeB: false,
                                        alpha: 1, b: try device.makeBuffer([1, 1, 1] as [Float]), at: 0, beta: 0,
                                        c: try device.makeBuffer(count: 1), at: 0)
                try device.synchronize()
            }, matches: { if case let .outOfBounds(what, _, _, _) = $0 { what.hasPrefix("sparseMatmul row 0") } else { false } })
            assertDeviceError("\(label(device)) scatter index", {
                try device.scatterPositions(try device.makeBuffer([-1, -1] as [Int32]), count: 2,
                                            indices: try device.makeBuffer([1, 2] as [Int32]), at: 0, rows: 2, reset: false)
                try device.synchronize()
            }, matches: { if case let .outOfBounds(what, _, _, _) = $0 { what.hasPrefix("scatterPositions index (row 1)") } else { false } })
            // A range past A is caught on the host.
            XCTAssertThrowsError(try device.sparseMatmul(a, SparseSelection(rows: 2, aRows: .range(first: 1)), n: 1,
                                                         transposeB: false, alpha: 1,
                                                         b: try device.makeBuffer([1, 1, 1] as [Float]), at: 0, beta: 0,
                                                         c: try device.makeBuffer(count: 2), at: 0))
        }
    }

    /// The kernel choice at its boundaries: the cpu entry never groups; the default groups from
    /// sparseGroupMinLength entries per row on average.
    func testVariantChoice() {
        let gpu = KernelTuning.default, cpu = KernelTuning.cpu
        let L = gpu.sparseGroupMinLength
        XCTAssertEqual(SparseVariant.choose(rows: 1, nonZeros: 1_000_000, tuning: cpu), .rowItems)
        XCTAssertEqual(SparseVariant.choose(rows: 0, nonZeros: 0, tuning: gpu), .rowItems)
        XCTAssertEqual(SparseVariant.choose(rows: 1, nonZeros: L - 1, tuning: gpu), .rowItems)
        XCTAssertEqual(SparseVariant.choose(rows: 1, nonZeros: L, tuning: gpu), .rowGroups)
        XCTAssertEqual(SparseVariant.choose(rows: 7, nonZeros: 7 * L - 1, tuning: gpu), .rowItems)
        XCTAssertEqual(SparseVariant.choose(rows: 7, nonZeros: 7 * L, tuning: gpu), .rowGroups)
        XCTAssertEqual(KernelTuning.default.fitted(to: 16).sparseLocal, 16)
    }
}

extension Device {
    /// An int32 buffer's values.
    func readInts(_ buffer: Buffer) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: buffer.count)
        try out.withUnsafeMutableBytes { try read(buffer, at: 0, count: buffer.count, into: $0) }
        return out
    }
}

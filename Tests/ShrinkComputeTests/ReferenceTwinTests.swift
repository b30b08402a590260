import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// Every OpenCL kernel against its scalar twin in `KernelReference` (same name, same argument
/// order): the CPU device's op, and the op on every OpenCL device (and on the first one opened
/// with the default, GPU-shaped tuning), each matmul kernel forced. Seeded inputs carry NaN, ±0
/// and ±inf where the op defines them, at positions in the SIMD body and in the tail (counts
/// ≥ 8 and not a multiple of 8).
///
/// Tolerances: bitwise (NaN matches any NaN; ±0 and every other value by bit pattern) wherever
/// the device runs the reference's arithmetic in the reference's order — all elementwise,
/// penalty, proximal, optimizer and mse kernels, the one- and two-stage column sums, the
/// compensated-Float norms on OpenCL, and matmul_general, matmul_tiled and matmul_nn16 (fma
/// over k in order). Within rounding where the order or the library differs: matmul_nt,
/// matmul_splitk and OpenBLAS (1e-6·k + 1e-5 relative, finite data), the CPU's Double-accumulated
/// norms (1e-6 relative), and bce/ce on OpenCL, whose exp/log1p/log come from the OpenCL
/// library instead of glibc (4 ulp).
///
/// The reference itself is checked against independent Double loops in the last section, so
/// a wrong reference fails too.
final class ReferenceTwinTests: XCTestCase {
    // MARK: Support

    nonisolated(unsafe) static var kept: [AnyObject] = []
    static let keptLock = NSLock()

    override func tearDown() {
        Self.keptLock.withLock { Self.kept.removeAll() }
        super.tearDown()
    }

    /// Host memory for the reference's pointers, kept until the test ends (so that `Host(x).p`
    /// passed straight to a call stays valid: Swift may release an object after its last use).
    final class Host<T> {
        let pointer: UnsafeMutablePointer<T>
        let count: Int
        init(_ values: [T]) {
            count = values.count
            pointer = .allocate(capacity: max(values.count, 1))
            pointer.initialize(from: values, count: values.count)
            ReferenceTwinTests.keptLock.withLock { ReferenceTwinTests.kept.append(self) }
        }
        deinit { pointer.deallocate() }
        var values: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
        var p: UnsafeMutablePointer<T> { pointer }
    }

    /// The devices under test, plus the default-tuned OpenCL device (GPU-shaped kernels and sizes).
    static func devices() throws -> [any Device] {
        var devices = testDevices()
        if let tuned = try defaultTunedOpenCLDevice() { devices.append(tuned) }
        return devices
    }

    static func name(_ device: any Device) -> String {
        guard let cl = device as? OpenCLDevice else { return label(device) }
        return "\(cl.info.selector) (norm items \(cl.tuning.normItems), tile \(cl.tuning.tile))"
    }

    /// Seeded values in (−2, 2) with NaN, ±0 and ±inf at `edges` positions (scaled to the count,
    /// so some fall in the SIMD body and some in the tail).
    static func edgy(_ count: Int, seed: UInt64, edges: [Float] = [.nan, 0, -0.0, .infinity, -.infinity]) -> [Float] {
        var x = randomValues(count, seed: seed, in: -2..<2)
        for (i, value) in edges.enumerated() {
            x[(i * 7 + 1) % count] = value
            x[count - 1 - i] = value  // the tail
        }
        return x
    }

    /// Same bits, or both NaN.
    static func sameBits(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    func assertBitwise(_ got: [Float], _ want: [Float], _ message: @autoclosure () -> String,
                       file: StaticString = #filePath, line: UInt = #line) {
        guard got.count == want.count else {
            return XCTFail("\(message()): \(got.count) values, expected \(want.count)", file: file, line: line)
        }
        let bad = zip(got, want).enumerated().filter { !Self.sameBits($0.element.0, $0.element.1) }
        guard let first = bad.first else { return }
        XCTFail("\(message()): \(bad.count) of \(got.count) differ from the reference; first [\(first.offset)] = " +
                "\(first.element.0) (bits \(String(first.element.0.bitPattern, radix: 16))), reference " +
                "\(first.element.1) (bits \(String(first.element.1.bitPattern, radix: 16)))", file: file, line: line)
    }

    /// Within `ulps` units in the last place of the reference (NaN iff NaN, infinities equal).
    func assertULP(_ got: [Float], _ want: [Float], ulps: Float, _ message: @autoclosure () -> String,
                   file: StaticString = #filePath, line: UInt = #line) {
        assertClose(got, want.map(Double.init), tolerance: 0, relative: Double(ulps) * 0x1p-23, message(),
                    file: file, line: line)
    }

    // MARK: elementwise.cl

    func testFillFloat() throws {
        let count = 37
        let want = Host([Float](repeating: 5, count: count + 4))
        KernelReference.fill_float(want.p, 2, count, -0.0)
        for device in try Self.devices() {
            let buffer = try device.makeBuffer([Float](repeating: 5, count: count + 4))
            try device.fill(buffer, at: 2, count: count, with: -0.0)
            assertBitwise(try device.read(buffer), want.values, "\(Self.name(device)) fill_float")
        }
    }

    func testGatherRows() throws {
        let (sourceRows, cols, rows) = (11, 13, 9)
        let src = Self.edgy(sourceRows * cols, seed: 1)
        let idx: [Int32] = [7, 7, 7, 3, 0, 10, 5, 10, 1, 2, 4, 9]  // read from offset 2
        let want = Host([Float](repeating: 0, count: rows * cols)), failure = Host([Int32](repeating: 0, count: 5))
        KernelReference.gather_rows(Host(src).p, sourceRows, Host(idx).p, 2, rows, cols, want.p, failure.p)
        XCTAssertEqual(failure.values, [0, 0, 0, 0, 0])
        for device in try Self.devices() {
            let out = try device.makeBuffer(count: rows * cols)
            try device.gatherRows(try device.makeBuffer(src), indices: try device.makeBuffer(idx), at: 2, rows: rows,
                                  cols: cols, into: out)
            assertBitwise(try device.read(out), want.values, "\(Self.name(device)) gather_rows")
        }
    }

    /// A bad index: the reference's failure record names the same error every device throws.
    func testGatherRowsFailureRecord() throws {
        let src = randomValues(6, seed: 2), idx: [Int32] = [0, 2, -4]
        let dst = Host([Float](repeating: 0, count: 6)), failure = Host([Int32](repeating: 0, count: 5))
        KernelReference.gather_rows(Host(src).p, 3, Host(idx).p, 0, 3, 2, dst.p, failure.p)
        XCTAssertEqual(failure.values, [KernelFailure.Code.gatherRowIndex.rawValue, 2, -4, 1, 3])
        XCTAssertTrue(dst.values[4].isNaN && dst.values[5].isNaN)
        let expected = try XCTUnwrap(KernelFailure.error(failure.p))
        for device in try Self.devices() {
            let out = try device.makeBuffer(count: 6)
            assertDeviceError("\(Self.name(device))", {
                try device.gatherRows(try device.makeBuffer(src), indices: try device.makeBuffer(idx), at: 0, rows: 3,
                                      cols: 2, into: out)
                try device.synchronize()
            }, matches: { $0 == expected })
        }
    }

    func testAddBias() throws {
        let (rows, cols) = (5, 19)
        var x = Self.edgy(rows * cols, seed: 3), bias = Self.edgy(cols + 3, seed: 4, edges: [.nan, -0.0, .infinity])
        for c in [4, cols - 1] {  // −0 + −0 = −0: ReLU must give +0
            x[2 * cols + c] = -0.0
            bias[3 + c] = -0.0
        }
        for relu in [false, true] {
            let want = Host(x)
            KernelReference.add_bias(want.p, Host(bias).p, 3, rows, cols, relu)
            for device in try Self.devices() {
                let buffer = try device.makeBuffer(x)
                try device.addBias(buffer, bias: try device.makeBuffer(bias), at: 3, rows: rows, cols: cols, relu: relu)
                assertBitwise(try device.read(buffer), want.values, "\(Self.name(device)) add_bias relu \(relu)")
            }
        }
    }

    func testApplyMask() throws {
        let count = 8 * 9 + 5
        let x = Self.edgy(count, seed: 5), mask = Self.edgy(count, seed: 6, edges: [.nan, 0, -0.0, -1, 1])
        let want = Host(x)
        KernelReference.apply_mask(want.p, Host(mask).p, count)
        for device in try Self.devices() {
            let buffer = try device.makeBuffer(x)
            try device.applyMask(buffer, mask: try device.makeBuffer(mask), count: count)
            assertBitwise(try device.read(buffer), want.values, "\(Self.name(device)) apply_mask")
        }
    }

    /// One stage on every device; the two stages on OpenCL at several slice counts.
    func testColumnSums() throws {
        let (rows, cols) = (203, 9)
        let x = Self.edgy(rows * cols, seed: 7, edges: [.nan, -0.0, .infinity])
        let one = Host([Float](repeating: 0, count: cols + 2))
        KernelReference.column_sums(Host(x).p, rows, cols, one.p, 2)
        for device in try Self.devices() {
            let out = try device.makeBuffer(count: cols + 2)
            if let cl = device as? OpenCLDevice {
                try cl.columnSums(try device.makeBuffer(x), rows: rows, cols: cols, into: out, at: 2, slices: 1)
            } else {
                try device.columnSums(try device.makeBuffer(x), rows: rows, cols: cols, into: out, at: 2)
            }
            assertBitwise(try device.read(out), one.values, "\(Self.name(device)) column_sums")
        }
        for slices in [2, 7, 16] {
            let partials = Host([Float](repeating: 0, count: slices * cols)), two = Host([Float](repeating: 0, count: cols + 2))
            KernelReference.column_sums_partial(Host(x).p, rows, cols, slices, partials.p)
            KernelReference.column_sums_finish(partials.p, cols, slices, two.p, 2)
            for device in try Self.devices() {
                guard let cl = device as? OpenCLDevice else { continue }
                let out = try device.makeBuffer(count: cols + 2)
                try cl.columnSums(try device.makeBuffer(x), rows: rows, cols: cols, into: out, at: 2, slices: slices)
                assertBitwise(try device.read(out), two.values,
                              "\(Self.name(device)) column_sums_partial/finish, \(slices) slices")
            }
        }
    }

    // MARK: matmul.cl

    /// The reference of the kernel a variant names.
    static func referenceKernel(_ variant: MatmulVariant) -> KernelReference.MatmulKernel {
        switch variant {
        case .general: KernelReference.matmul_general
        case .tiled: KernelReference.matmul_tiled
        case .nn16: KernelReference.matmul_nn16
        case .nt: KernelReference.matmul_nt
        case .splitK: KernelReference.matmul_splitk
        case .nn16Slices: KernelReference.matmul  // its two stages: see `sliceReference`
        }
    }

    /// C by matmul_nn16_slices' two stages (k cut into `slices` ranges of ⌈k/slices⌉, each summed
    /// in order, the ranges added in order).
    static func sliceReference(_ test: MatmulTests.Case, slices: Int) -> [Float] {
        let o = test.offsets, s = test.shape
        let a = Host(padded(test.a, before: o.a)), b = Host(padded(test.b, before: o.b))
        let c = Host(padded(test.c, before: o.c)), partials = Host([Float](repeating: 0, count: slices * s.m * s.n))
        KernelReference.matmul_nn16_slices(s.m, s.n, s.k, (s.k + slices - 1) / slices, a.p, o.a, s.lda, s.transposeA,
                                           b.p, o.b, s.ldb, partials.p, slices: slices)
        KernelReference.matmul_add_slices(s.m, s.n, slices, test.alpha, partials.p, test.beta, c.p, o.c, s.ldc)
        return Array(c.values[o.c..<(o.c + s.m * s.n)])
    }

    /// C at its offset in the padded buffers MatmulTests.run uses, by the variant's reference.
    static func reference(_ test: MatmulTests.Case, _ variant: MatmulVariant) -> [Float] {
        let o = test.offsets, s = test.shape
        let a = Host(padded(test.a, before: o.a)), b = Host(padded(test.b, before: o.b))
        let c = Host(padded(test.c, before: o.c))
        referenceKernel(variant)(s.m, s.n, s.k, test.alpha, a.p, o.a, s.lda, s.transposeA, b.p, o.b, s.ldb,
                                   s.transposeB, test.beta, c.p, o.c, s.ldc)
        return Array(c.values[o.c..<(o.c + s.m * s.n)])
    }

    /// Each kernel forced on each OpenCL device, and the CPU's OpenBLAS, against the reference:
    /// bitwise for the kernels that accumulate over k in order, within rounding for the others.
    /// Finite data (an infinity's NaN depends on the order of the sum); a NaN in A reaches its row.
    func testMatmulEveryVariant() throws {
        let shapes = [(9, 17, 18), (5, 6, 17), (16, 16, 16), (1, 3, 300), (19, 33, 40)]
        for (m, n, k) in shapes {
            for combo in 0..<4 {
                let shape = MatmulShape(m: m, n: n, k: k, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2)
                for beta: Float in [-0.5, 0] {
                    var test = MatmulTests.Case(shape, seed: 30)
                    test.beta = beta
                    if beta == 0 { test.c = [Float](repeating: .nan, count: m * n) }
                    test.a[m * k / 2] = .nan
                    let tolerance = test.tolerance
                    for device in try Self.devices() {
                        guard let cl = device as? OpenCLDevice else {
                            assertClose(try MatmulTests.run(test, on: device), Self.reference(test, .general).map(Double.init),
                                        tolerance: tolerance, relative: 1e-5, "cpu OpenBLAS \(shape) beta \(beta)")
                            continue
                        }
                        for slices in [1, 3] where shape.k >= 3 && !shape.transposeB {
                            let got = try MatmulTests.run(test, on: cl, variant: .nn16Slices, slices: slices)
                            assertBitwise(got, Self.sliceReference(test, slices: slices),
                                          "\(Self.name(cl)) matmul_nn16_slices ×\(slices) \(shape) beta \(beta)")
                        }
                        for variant in MatmulVariant.allCases where variant.accepts(shape) && variant != .nn16Slices {
                            let got = try MatmulTests.run(test, on: cl, variant: variant)
                            let want = Self.reference(test, variant)
                            let message = "\(Self.name(cl)) \(variant.rawValue) \(shape) beta \(beta)"
                            switch variant {
                            case .general, .tiled, .nn16: assertBitwise(got, want, message)
                            case .nt, .splitK, .nn16Slices:
                                assertClose(got, want.map(Double.init), tolerance: tolerance, relative: 1e-5, message)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: norm.cl

    static let kinds: [NormKind] = [.sum, .l1, .l2, .l2Squared]

    /// The reference's result for `norm` on `device` (one launch up to normSmallCount, else two stages).
    static func referenceNorm(_ kind: NormKind, _ x: [Float], offset: Int, count: Int, tuning: KernelTuning,
                              scale: Float, accumulate: Bool, start: Float) -> Float {
        let (code, threshold) = kind.kernelCode
        let result = Host([start]), px = Host(x)
        if count <= KernelTuning.normSmallCount {
            KernelReference.norm_small(px.p, offset, count, code, threshold, result.p, 0, scale, accumulate,
                                       normLocal: tuning.normLocal)
        } else {
            let partials = Host([Float](repeating: 0, count: tuning.normItems))
            KernelReference.norm_partials(px.p, offset, count, code, threshold, partials.p, normItems: tuning.normItems)
            KernelReference.norm_finish(partials.p, code, result.p, 0, scale, accumulate, normItems: tuning.normItems,
                                        normLocal: tuning.normLocal)
        }
        return result.values[0]
    }

    /// norm_small and norm_partials + norm_finish: bitwise on OpenCL (Kahan in Float, the same
    /// chunks), within 1e-6 relative on the CPU (Double accumulation).
    func testNorms() throws {
        for count in [1, 77, 5_003, 40_009] {
            let x = randomValues(count + 3, seed: UInt64(count), in: -3..<3)
            for kind in Self.kinds {
                for accumulate in [false, true] {
                    for device in try Self.devices() {
                        let tuning = (device as? OpenCLDevice)?.tuning ?? .cpu
                        let want = Self.referenceNorm(kind, x, offset: 3, count: count, tuning: tuning, scale: -0.75,
                                                      accumulate: accumulate, start: 2)
                        let result = try device.makeBuffer([Float]([2]))
                        try device.norm(kind, of: try device.makeBuffer(x), at: 3, count: count, into: result, at: 0,
                                        scale: -0.75, accumulate: accumulate)
                        let got = try device.read(result)
                        let message = "\(Self.name(device)) \(kind) count \(count) accumulate \(accumulate)"
                        if device is OpenCLDevice { assertBitwise(got, [want], message) } else {
                            assertClose(got, [Double(want)], tolerance: 1e-6, relative: 1e-6, message)
                        }
                    }
                }
            }
        }
        // NaN and ±inf: the same non-finite result everywhere.
        for edges: [Float] in [[.nan], [.infinity], [-.infinity], [.infinity, -.infinity]] {
            let x = Self.edgy(20_011, seed: 9, edges: edges)
            for kind in Self.kinds {
                for device in try Self.devices() {
                    let tuning = (device as? OpenCLDevice)?.tuning ?? .cpu
                    for count in [1_003, 20_011] {
                        let want = Self.referenceNorm(kind, x, offset: 0, count: count, tuning: tuning, scale: 1,
                                                      accumulate: false, start: 0)
                        let got = try device.norm(kind, of: try device.makeBuffer(x), at: 0, count: count)
                        XCTAssertTrue(Self.sameBits(got, want) || (device is CPUDevice && want.isFinite),
                                      "\(Self.name(device)) \(kind) count \(count) with \(edges): \(got), reference \(want)")
                    }
                }
            }
        }
    }

    func testNormSegments() throws {
        let x = Self.edgy(3000, seed: 10, edges: [-0.0])
        let table: [Int32] = [0, 7, 3, 7, 1000, 0, 1007, 0, 5, 1500, 1493, 1, 2, 1, 6, 2999, 1, 2]
        let scales: [Float] = [1, 0.5, 2, -1.5, 3, -0.0]
        let segmentCount = scales.count
        for kind in Self.kinds {
            for accumulate in [false, true] {
                for device in try Self.devices() {
                    let tuning = (device as? OpenCLDevice)?.tuning ?? .cpu
                    let start = [Float](repeating: 10, count: 12)
                    let want = Host(start), failure = Host([Int32](repeating: 0, count: 5))
                    let (code, threshold) = kind.kernelCode
                    KernelReference.norm_segments(Host(x).p, x.count, Host(table).p, Host(scales).p, code, threshold, want.p,
                                                  12, 4, accumulate, failure.p, segmentCount: segmentCount,
                                                  normLocal: tuning.normLocal)
                    XCTAssertEqual(failure.values[0], 0)
                    let result = try device.makeBuffer(start)
                    try device.norms(kind, of: try device.makeBuffer(x), segments: try device.makeBuffer(table),
                                     scales: try device.makeBuffer(scales), segmentCount: segmentCount, into: result,
                                     at: 4, accumulate: accumulate)
                    let got = try device.read(result)
                    let message = "\(Self.name(device)) norm_segments \(kind) accumulate \(accumulate)"
                    if device is OpenCLDevice { assertBitwise(got, want.values, message) } else {
                        assertClose(got, want.values.map(Double.init), tolerance: 1e-6, relative: 1e-6, message)
                    }
                }
            }
        }
    }

    // MARK: penalty.cl

    func testPenaltyGradient() throws {
        let count = 8 * 40 + 7
        let w = Self.edgy(count + 4, seed: 11), g = Self.edgy(count + 4, seed: 12, edges: [-0.0, .nan])
        let coefficients: [(Float, Float, Float)] = [(0.3, 0, 0), (0, 0.25, 0), (0, 0, 0.7), (0.3, 0.25, 0.7), (0, 0, 0)]
        for (l1, l2, l2n) in coefficients {
            for norm: Float in [2.5, 0, .nan] where l2n != 0 || norm == 2.5 {
                let norms: [Float] = [9, norm]
                let want = Host(g)
                KernelReference.penalty_gradient(Host(w).p, want.p, 4, count, l1, l2, l2n, Host(norms).p, 1)
                for device in try Self.devices() {
                    let gradient = try device.makeBuffer(g)
                    try device.penaltyGradient(PenaltyCoefficients(l1: l1, l2: l2, l2Norm: l2n), weights: try device.makeBuffer(w),
                                               gradient: gradient, at: 4, count: count, norms: try device.makeBuffer(norms),
                                               normIndex: 1)
                    assertBitwise(try device.read(gradient), want.values,
                                  "\(Self.name(device)) penalty_gradient l1 \(l1) l2 \(l2) l2n \(l2n) ‖w‖ \(norm)")
                }
            }
        }
    }

    func testPenaltyVector() throws {
        let count = 8 * 30 + 3
        let w = Self.edgy(count, seed: 13), g = Self.edgy(count, seed: 14, edges: [-0.0])
        var l1 = randomValues(count, seed: 15, in: 0..<1), l2 = randomValues(count, seed: 16, in: 0..<1)
        for i in stride(from: 0, to: count, by: 3) { l1[i] = 0 }
        for i in stride(from: 0, to: count, by: 4) { l2[i] = 0 }
        let want = Host(g)
        KernelReference.penalty_vector(Host(w).p, want.p, Host(l1).p, Host(l2).p, count)
        for device in try Self.devices() {
            let gradient = try device.makeBuffer(g)
            try device.penaltyGradient(l1: try device.makeBuffer(l1), l2: try device.makeBuffer(l2),
                                       weights: try device.makeBuffer(w), gradient: gradient, count: count)
            assertBitwise(try device.read(gradient), want.values, "\(Self.name(device)) penalty_vector")
        }
    }

    // MARK: proximal.cl

    func testProximalL1() throws {
        let count = 8 * 12 + 6
        let w = Self.edgy(count + 2, seed: 17)
        for threshold: Float in [0, 0.4, .infinity] {
            let want = Host(w)
            KernelReference.proximal_l1(want.p, 2, count, threshold)
            for device in try Self.devices() {
                let buffer = try device.makeBuffer(w)
                try device.proximalL1(buffer, at: 2, count: count, threshold: threshold)
                assertBitwise(try device.read(buffer), want.values, "\(Self.name(device)) proximal_l1 threshold \(threshold)")
            }
        }
    }

    func testFistaStep() throws {
        let (rows, cols, count) = (3, 21, 3 * 21 + 4)
        let z = Self.edgy(count, seed: 18), g = Self.edgy(count, seed: 19, edges: [.nan, -0.0]), x = Self.edgy(count, seed: 20)
        let thresholds: [Float] = [0.1, 0, 0.5], scales: [Float] = [0.9, 1, 0.5]
        let wz = Host(z), wx = Host(x)
        KernelReference.fista_step(wz.p, Host(g).p, wx.p, count, rows, cols, 0.3, 0.6, Host(thresholds).p, Host(scales).p)
        for device in try Self.devices() {
            let (bz, bx) = (try device.makeBuffer(z), try device.makeBuffer(x))
            try device.fistaStep(z: bz, gradient: try device.makeBuffer(g), x: bx, count: count, rows: rows, cols: cols,
                                 step: 0.3, momentum: 0.6, thresholds: try device.makeBuffer(thresholds),
                                 scales: try device.makeBuffer(scales))
            assertBitwise(try device.read(bz), wz.values, "\(Self.name(device)) fista_step z")
            assertBitwise(try device.read(bx), wx.values, "\(Self.name(device)) fista_step x")
        }
    }

    // MARK: loss.cl

    func testLossGradient() throws {
        let rows = 37
        let cases: [(LossKind, Int, Int)] = [(.mse, 3, 1), (.bce, 2, 1), (.ce, 5, 5), (.ce, 8, 4)]
        for (loss, cols, width) in cases {
            var z = Self.edgy(rows * cols, seed: 21, edges: [.nan, 0, -0.0, .infinity, -.infinity])
            z[0] = 80; z[1] = -80  // saturating logits
            var y: [Float]
            switch loss {
            case .mse: y = randomValues(rows + 1, seed: 22, in: -2..<2)
            case .bce: y = randomValues(rows + 1, seed: 22, in: 0..<1).map { $0.rounded() }
            case .ce: y = (0..<(rows + 1)).map { Float($0 % (width + 1)) }  // one label past the classes
            }
            y[5] = 1.5  // not a class index (ce)
            let grad = Host([Float](repeating: 0, count: rows * cols))
            let rowLoss = Host([Float](repeating: 0, count: rows * cols / width))
            let rowCorrect = Host([Float](repeating: 0, count: rows * cols / width))
            KernelReference.loss_gradient(loss.kernelCode, Host(z).p, Host(y).p, 1, rows, cols, width, 1 / Float(rows),
                                          grad.p, rowLoss.p, rowCorrect.p)
            for device in try Self.devices() {
                let (g, l, c) = (try device.makeBuffer(count: rows * cols), try device.makeBuffer(count: rows * cols / width),
                                 try device.makeBuffer(count: rows * cols / width))
                try device.lossGradient(loss, logits: try device.makeBuffer(z), targets: try device.makeBuffer(y), at: 1,
                                        rows: rows, cols: cols, classes: width, gradient: g, rowLoss: l, rowCorrect: c)
                let message = "\(Self.name(device)) loss_gradient \(loss) \(cols)/\(width)"
                if device is OpenCLDevice && loss != .mse {
                    assertULP(try device.read(g), grad.values, ulps: 4, message + " gradient")
                    assertULP(try device.read(l), rowLoss.values, ulps: 4, message + " loss")
                } else {
                    assertBitwise(try device.read(g), grad.values, message + " gradient")
                    assertBitwise(try device.read(l), rowLoss.values, message + " loss")
                }
                assertBitwise(try device.read(c), rowCorrect.values, message + " correct")
            }
        }
    }

    // MARK: optimizer.cl

    func testSGDStep() throws {
        let count = 8 * 20 + 5
        let w = Self.edgy(count + 3, seed: 23), g = Self.edgy(count + 3, seed: 24, edges: [.nan, -0.0]),
            b = Self.edgy(count + 3, seed: 25, edges: [-0.0])
        let settings = [SGDHyperparameters(learningRate: 0.1), SGDHyperparameters(learningRate: 0.1, weightDecay: 0.01),
                        SGDHyperparameters(learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.02),
                        SGDHyperparameters(learningRate: 0.05, momentum: 0.9, nesterov: true)]
        for h in settings {
            for first in [true, false] {
                let (ww, wb) = (Host(w), Host(b))
                KernelReference.sgd_step(ww.p, Host(g).p, wb.p, 3, count, h.learningRate, h.momentum, h.dampening,
                                         h.weightDecay, h.nesterov, first)
                for device in try Self.devices() {
                    let (bw, bb) = (try device.makeBuffer(w), try device.makeBuffer(b))
                    try device.sgdStep(h, weights: bw, gradient: try device.makeBuffer(g), momentum: bb, at: 3, count: count,
                                       isFirstStep: first)
                    assertBitwise(try device.read(bw), ww.values, "\(Self.name(device)) sgd_step \(h) first \(first) w")
                    assertBitwise(try device.read(bb), wb.values, "\(Self.name(device)) sgd_step \(h) first \(first) buf")
                }
            }
        }
    }

    func testAdamStep() throws {
        let count = 8 * 20 + 5
        let w = Self.edgy(count + 3, seed: 26), g = Self.edgy(count + 3, seed: 27, edges: [.nan, -0.0, .infinity])
        let m = Self.edgy(count + 3, seed: 28, edges: [-0.0]), v = randomValues(count + 3, seed: 29, in: 0..<2)
        for decoupled in [false, true] {
            for wd: Float in [0, 0.01] {
                let h = AdamHyperparameters(learningRate: 0.01, weightDecay: wd, decoupled: decoupled)
                let (stepSize, sqrtBC2) = h.biasCorrections(step: 3)
                let (ww, wm, wv) = (Host(w), Host(m), Host(v))
                KernelReference.adam_step(ww.p, Host(g).p, wm.p, wv.p, 3, count, h.learningRate, h.beta1, h.beta2, h.epsilon,
                                          h.weightDecay, h.decoupled, stepSize, sqrtBC2)
                for device in try Self.devices() {
                    let (bw, bm, bv) = (try device.makeBuffer(w), try device.makeBuffer(m), try device.makeBuffer(v))
                    try device.adamStep(h, weights: bw, gradient: try device.makeBuffer(g), firstMoment: bm, secondMoment: bv,
                                        at: 3, count: count, step: 3)
                    let message = "\(Self.name(device)) adam_step decoupled \(decoupled) wd \(wd)"
                    assertBitwise(try device.read(bw), ww.values, message + " w")
                    assertBitwise(try device.read(bm), wm.values, message + " m")
                    assertBitwise(try device.read(bv), wv.values, message + " v")
                }
            }
        }
    }

    // MARK: The reference against independent Double loops

    func testReferenceMatmulAgainstDouble() {
        for combo in 0..<4 {
            let shape = MatmulShape(m: 7, n: 5, k: 33, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2)
            let test = MatmulTests.Case(shape, seed: 31)
            var expected = [Double](repeating: 0, count: 35)
            for i in 0..<7 {
                for j in 0..<5 {
                    var s = 0.0
                    for p in 0..<33 {
                        let a = shape.transposeA ? test.a[p * 7 + i] : test.a[i * 33 + p]
                        let b = shape.transposeB ? test.b[j * 33 + p] : test.b[p * 5 + j]
                        s += Double(a) * Double(b)
                    }
                    expected[i * 5 + j] = Double(test.alpha) * s + Double(test.beta) * Double(test.c[i * 5 + j])
                }
            }
            assertClose(Self.reference(test, .general), expected, tolerance: 1e-5, relative: 1e-6, "reference matmul \(shape)")
        }
    }

    func testReferenceNormsAgainstDouble() {
        let x = randomValues(30_000, seed: 32, in: -3..<3)
        for count in [100, 30_000] {
            let sum = x.prefix(count).reduce(0.0) { $0 + Double($1) }
            let l1 = x.prefix(count).reduce(0.0) { $0 + abs(Double($1)) }
            let squares = x.prefix(count).reduce(0.0) { $0 + Double($1) * Double($1) }
            for (kind, value) in zip(Self.kinds, [sum, l1, squares.squareRoot(), squares]) {
                for tuning in [KernelTuning.cpu, .default] {
                    let got = Self.referenceNorm(kind, x, offset: 0, count: count, tuning: tuning, scale: 2,
                                                 accumulate: true, start: 1)
                    assertClose(got, 1 + 2 * value, tolerance: 1e-5, relative: 1e-6, "reference \(kind) count \(count)")
                }
            }
        }
    }

    func testReferenceLossesAgainstDouble() {
        // bce: max(z, 0) − z·y + log(1 + e^−|z|), gradient σ(z) − y; ce: logsumexp − z_y, softmax − onehot.
        for (z, y) in [(Float(1.5), Float(1)), (-2.25, 0), (0, 1), (30, 0)] {
            let (zd, yd) = (Double(z), Double(y))
            let g = Host([Float(0)])
            let row = KernelReference.loss_row(1, Host([z]).p, y, 1, 0.5, g.p)
            assertClose(row.loss, max(zd, 0) - zd * yd + log(1 + exp(-abs(zd))), tolerance: 1e-7, relative: 1e-6, "bce \(z)")
            assertClose(g.values[0], 0.5 * (1 / (1 + exp(-zd)) - yd), tolerance: 1e-7, relative: 1e-6, "bce gradient \(z)")
        }
        let logits: [Float] = [0.5, -1.25, 3, 2.75]
        let e = logits.map { exp(Double($0)) }, total = e.reduce(0, +)
        let g = Host([Float](repeating: 0, count: 4))
        let row = KernelReference.loss_row(2, Host(logits).p, 2, 4, 1, g.p)
        assertClose(row.loss, log(total) - 3, tolerance: 1e-7, relative: 1e-6, "ce loss")
        assertClose(g.values, (0..<4).map { e[$0] / total - ($0 == 2 ? 1 : 0) }, tolerance: 1e-7, relative: 1e-6, "ce gradient")
        XCTAssertEqual(row.correct, 1)
    }

    func testReferenceElementFormulasAgainstDouble() {
        // Adam (torch): m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; w −= lr/(1−β₁ᵗ)·m/(√v/√(1−β₂ᵗ) + ε).
        let (w, g, m0, v0) = (0.8, -0.3, 0.05, 0.02)
        let h = AdamHyperparameters(learningRate: 0.01)
        let (stepSize, sqrtBC2) = h.biasCorrections(step: 2)
        let m = Host([Float(m0)]), v = Host([Float(v0)])
        let got = KernelReference.adam_update(Float(w), Float(g), m.p, v.p, 0.01, 0.9, 0.999, 1e-8, 0, false, stepSize, sqrtBC2)
        let md = 0.9 * m0 + 0.1 * g, vd = 0.999 * v0 + 0.001 * g * g
        let wd = w - 0.01 / (1 - 0.81) * md / (vd.squareRoot() / (1 - 0.999 * 0.999).squareRoot() + 1e-8)
        assertClose(got, wd, tolerance: 1e-6, relative: 1e-6, "adam")
        // SGD with momentum and nesterov: b = μb + (1−d)·(g + wd·w); w −= lr·(g + wd·w + μb).
        let buffer = Host([Float(0.2)])
        let sgd = KernelReference.sgd_update(0.8, -0.3, buffer.p, 0.1, 0.9, 0.25, 0.01, true, false)
        let dd = -0.3 + 0.01 * 0.8, bd = 0.9 * 0.2 + 0.75 * dd
        assertClose(sgd, 0.8 - 0.1 * (dd + 0.9 * bd), tolerance: 1e-7, relative: 1e-6, "sgd")
        assertClose(buffer.values[0], bd, tolerance: 1e-7, relative: 1e-6, "sgd buffer")
        // Soft threshold and the elastic-net gradient, by cases.
        XCTAssertEqual(KernelReference.soft_threshold(1.5, 0.5), 1)
        XCTAssertEqual(KernelReference.soft_threshold(-1.5, 0.5), -1)
        XCTAssertEqual(KernelReference.soft_threshold(0.25, 0.5), 0)
        XCTAssertEqual(KernelReference.elastic_net_gradient(-2, 0.5, 0.25), -0.5 + 2 * 0.25 * -2)
        XCTAssertEqual(KernelReference.elastic_net_gradient(.infinity, 0.5, 0), 0.5)  // no 0·∞
        XCTAssertTrue(KernelReference.sign_nan(.nan).isNaN)
        XCTAssertEqual(KernelReference.sign_nan(-0.0).sign, .minus)
    }
}

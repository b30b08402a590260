import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// matmul on every device against a plain Double loop (CLBlast's test shape): the sizes
/// {1, 7, 61, 64, 65, 93, 144, 256} for m, n and k, every transpose, alpha/beta ≠ 1/0 with C
/// preloaded, nonzero offsets, beta = 0 over a NaN-filled C, NaN/Inf inputs, every kernel variant.
final class MatmulTests: XCTestCase {
    static let sizes = [1, 7, 61, 64, 65, 93, 144, 256]

    /// C = alpha·op(A)·op(B) + beta·C in Double; beta = 0 ignores C (as BLAS does).
    /// A is stored m×k (k×m when transposed), B k×n (n×k when transposed), all row-major.
    static func reference(_ s: MatmulShape, alpha: Double, a: [Float], b: [Float], beta: Double, c: [Float]) -> [Double] {
        let (m, n, k) = (s.m, s.n, s.k)
        // op(A) by rows and op(B) by columns, both contiguous along p, in Double.
        var rowsA = [Double](repeating: 0, count: m * k), colsB = [Double](repeating: 0, count: n * k)
        for i in 0..<m {
            for p in 0..<k { rowsA[i * k + p] = Double(s.transposeA ? a[p * m + i] : a[i * k + p]) }
        }
        for j in 0..<n {
            for p in 0..<k { colsB[j * k + p] = Double(s.transposeB ? b[j * k + p] : b[p * n + j]) }
        }
        var out = [Double](repeating: 0, count: m * n)
        rowsA.withUnsafeBufferPointer { ra in
            colsB.withUnsafeBufferPointer { cb in
                for i in 0..<m {
                    for j in 0..<n {
                        var acc = 0.0
                        var pa = ra.baseAddress! + i * k, pb = cb.baseAddress! + j * k
                        for _ in 0..<k {
                            acc += pa.pointee * pb.pointee
                            pa += 1; pb += 1
                        }
                        out[i * n + j] = alpha * acc + (beta == 0 ? 0 : beta * Double(c[i * n + j]))
                    }
                }
            }
        }
        return out
    }

    /// One product: its inputs, and the offsets at which they are placed in their buffers.
    struct Case {
        var shape: MatmulShape
        var alpha: Float = 0.75
        var beta: Float = -0.5
        var a: [Float], b: [Float], c: [Float]
        var offsets = (a: 3, b: 5, c: 7)

        init(_ shape: MatmulShape, seed: UInt64) {
            self.shape = shape
            a = randomValues(shape.m * shape.k, seed: seed)
            b = randomValues(shape.k * shape.n, seed: seed &+ 1)
            c = randomValues(shape.m * shape.n, seed: seed &+ 2)
        }

        var expected: [Double] {
            MatmulTests.reference(shape, alpha: Double(alpha), a: a, b: b, beta: Double(beta), c: c)
        }

        /// Float GEMM error grows with k (a random walk of k roundings of terms ≤ 1).
        var tolerance: Double { 1e-6 * Double(max(shape.k, 1)) }
    }

    /// Runs `test` on `device` (optionally forcing an OpenCL kernel variant); checks that nothing
    /// outside C's range was written, and returns C.
    static func run(_ test: Case, on device: any Device, variant: MatmulVariant? = nil, slices: Int? = nil,
                    file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let o = test.offsets
        let a = try device.makeBuffer(padded(test.a, before: o.a))
        let b = try device.makeBuffer(padded(test.b, before: o.b))
        let c = try device.makeBuffer(padded(test.c, before: o.c))
        if let variant, let cl = device as? OpenCLDevice {
            try cl.matmul(test.shape, variant: variant, slices: slices, alpha: test.alpha, a: a, at: o.a, b: b, at: o.b,
                          beta: test.beta, c: c, at: o.c)
        } else {
            try device.matmul(test.shape, alpha: test.alpha, a: a, at: o.a, b: b, at: o.b, beta: test.beta, c: c, at: o.c)
        }
        let out = try device.read(c)
        let count = test.shape.m * test.shape.n
        assertSentinels(out, offset: o.c, count: count, "\(label(device)) \(test.shape)", file: file, line: line)
        return Array(out[o.c..<(o.c + count)])
    }

    private func check(_ test: Case, on devices: [any Device], expected: [Double]? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = expected ?? test.expected
        for device in devices {
            assertClose(try Self.run(test, on: device, file: file, line: line), expected, tolerance: test.tolerance,
                        relative: 1e-5, "\(label(device)) \(test.shape) alpha \(test.alpha) beta \(test.beta)",
                        file: file, line: line)
        }
    }

    // MARK: Sizes and transposes

    /// The full product of the sizes (512 shapes) on every device, each shape with a transpose
    /// combination drawn from a seeded generator; the reference is computed once per shape.
    func testEverySizeCombinationOnEveryDevice() throws {
        let devices = testDevices()
        var generator = SplitMix(seed: 2024)
        var seen = Set<Int>()
        for m in Self.sizes {
            for n in Self.sizes {
                for k in Self.sizes {
                    let combo = Int(generator.next() & 3)
                    seen.insert(combo)
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2)
                    try check(Case(shape, seed: UInt64(m * 1_000_000 + n * 1000 + k)), on: devices)
                }
            }
        }
        XCTAssertEqual(seen.count, 4, "the generator should draw every transpose combination")
    }

    /// All four transpose combinations on a subset that crosses every block edge (8, 16, 4).
    func testEveryTransposeCombination() throws {
        let devices = testDevices()
        let shapes = [(7, 61, 65), (65, 7, 93), (144, 93, 1), (1, 256, 7), (64, 64, 64), (93, 144, 256), (256, 65, 61)]
        for (m, n, k) in shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                    try check(Case(shape, seed: UInt64(m + n + k)), on: devices)
                }
            }
        }
    }

    /// alpha and beta away from 1 and 0 in both signs, and zero offsets.
    func testAlphaBetaAndOffsets() throws {
        let devices = testDevices()
        for (alpha, beta): (Float, Float) in [(1, 1), (-2, 0.25), (0.75, -0.5), (0, 3)] {
            for offsets in [(a: 0, b: 0, c: 0), (a: 1, b: 17, c: 64)] {
                var test = Case(MatmulShape(m: 65, n: 33, k: 61, transposeB: true), seed: 9)
                (test.alpha, test.beta, test.offsets) = (alpha, beta, offsets)
                try check(test, on: devices)
            }
        }
    }

    /// k = 0: op(A)·op(B) is empty, so C ← beta·C (and 0 when beta = 0, even over NaN).
    func testEmptyInnerDimensionScalesC() throws {
        for device in testDevices() {
            var test = Case(MatmulShape(m: 3, n: 5, k: 0), seed: 4)  // A and B are empty
            assertClose(try Self.run(test, on: device), test.c.map { -0.5 * Double($0) }, tolerance: 0, relative: 1e-7,
                        "\(label(device)) k = 0")
            test.beta = 0
            test.c = [Float](repeating: .nan, count: 15)
            XCTAssertEqual(try Self.run(test, on: device), [Float](repeating: 0, count: 15), "\(label(device)) k = 0, beta 0")
        }
    }

    // MARK: Non-finite values

    /// beta = 0 must ignore C's old contents, NaN included, on every path (full and edge blocks).
    func testBetaZeroIgnoresNaNInC() throws {
        let devices = testDevices()
        for (m, n, k) in [(1, 1, 1), (7, 61, 65), (64, 64, 64), (65, 93, 7), (144, 256, 17)] {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    var test = Case(MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB), seed: 5)
                    test.beta = 0
                    test.c = [Float](repeating: .nan, count: m * n)
                    try check(test, on: devices)
                }
            }
        }
    }

    /// A NaN in A poisons its row of C, an Inf in B its column, on every device and path.
    func testNaNAndInfInputsPropagate() throws {
        let devices = testDevices()
        for (m, n, k) in [(3, 2, 2), (20, 40, 33), (65, 93, 61)] {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                    var test = Case(shape, seed: 6)
                    test.alpha = 1
                    test.a = randomValues(m * k, seed: 7, in: 0.5..<1)  // positive: Inf·a stays +Inf
                    test.b = randomValues(k * n, seed: 8, in: 0.5..<1)
                    let (nanRow, infColumn, p) = (m - 1, n / 2, k / 2)
                    test.a[transposeA ? p * m + nanRow : nanRow * k + p] = .nan
                    test.b[transposeB ? infColumn * k + p : p * n + infColumn] = .infinity
                    let expected = test.expected  // the Double reference propagates them the same way
                    XCTAssertTrue(expected[nanRow * n].isNaN && expected[infColumn] == .infinity || m == 1)
                    try check(test, on: devices, expected: expected)
                }
            }
        }
    }

    // MARK: Kernel variants

    /// Every kernel of matmul.cl, forced, on the shapes and transposes it accepts — including the
    /// GPU-shaped tiled kernel, which PoCL runs too.
    func testEveryKernelVariantForced() throws {
        let devices = openCLTestDevices()
        for variant in MatmulVariant.allCases {
            for (m, n, k) in [(1, 1, 1), (7, 61, 65), (65, 33, 17), (64, 64, 64), (93, 144, 7), (8, 16, 16)] {
                for transposeA in [false, true] {
                    for transposeB in [false, true] {
                        let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                        guard variant.accepts(shape) else { continue }
                        for beta: Float in [-0.5, 0] {
                            var test = Case(shape, seed: 10)
                            test.beta = beta
                            if beta == 0 { test.c = [Float](repeating: .nan, count: m * n) }
                            let expected = test.expected
                            for device in devices {
                                assertClose(try Self.run(test, on: device, variant: variant), expected,
                                            tolerance: test.tolerance, relative: 1e-5, "\(variant) \(shape) beta \(beta)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// A variant that cannot compute a shape is refused, not run.
    func testVariantRefusesShapesItCannotCompute() throws {
        for device in openCLTestDevices() {
            let test = Case(MatmulShape(m: 4, n: 4, k: 4, transposeB: true), seed: 1)
            assertDeviceError("nn16 with Bᵀ", { _ = try Self.run(test, on: device, variant: .nn16) }) {
                if case .invalidArgument = $0 { return true } else { return false }
            }
        }
    }

    /// The default (GPU) tuning on an OpenCL device: choose() then picks matmul_tiled or
    /// matmul_general, with TILE = 16 local-memory tiles.
    func testDefaultTuningOnOpenCL() throws {
        guard let device = try defaultTunedOpenCLDevice() else { return }
        XCTAssertFalse(device.tuning.prefersRegisterBlocks)
        for (m, n, k) in [(7, 61, 65), (16, 16, 16), (65, 93, 144), (61, 64, 15)] {
            for combo in 0..<4 {
                let shape = MatmulShape(m: m, n: n, k: k, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2)
                try check(Case(shape, seed: 11), on: [device])
            }
        }
    }

    // MARK: Variant choice (a pure function)

    /// At the boundary sizes 1, 7, 61, 64, 65 (and the tile edge 16): the cpu tuning picks the
    /// float16 register-block kernels by transpose; the default (GPU) tuning picks matmul_splitk
    /// for a dimension under 16 with k ≥ 64 and ≥ max(m, n), else matmul_tiled exactly when every
    /// dimension fills a 16-wide tile, else matmul_general.
    func testVariantChoiceAtBoundarySizes() {
        let sizes = [1, 7, 61, 64, 65]
        for m in sizes {
            for n in sizes {
                for k in sizes {
                    for combo in 0..<4 {
                        let (ta, tb) = (combo & 1 == 1, combo & 2 == 2)
                        let shape = MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb)
                        let cpu: MatmulVariant = !tb ? .nn16 : (ta ? .general : .nt)
                        XCTAssertEqual(MatmulVariant.choose(shape, tuning: .cpu), cpu, "cpu \(shape)")
                        let skinnyLongK = min(m, n) < 16 && k >= 64 && k >= max(m, n)
                        let gpu: MatmulVariant = skinnyLongK ? .splitK : m >= 16 && n >= 16 && k >= 16 ? .tiled : .general
                        XCTAssertEqual(MatmulVariant.choose(shape, tuning: .default), gpu, "default \(shape)")
                        XCTAssertTrue(MatmulVariant.choose(shape, tuning: .cpu).accepts(shape), "cpu \(shape)")
                    }
                }
            }
        }
        for size in [15, 16] {
            let expected: MatmulVariant = size >= 16 ? .tiled : .general
            let skinny: MatmulVariant = size >= 16 ? .tiled : .splitK  // m or n under a tile, k = 64
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: size, n: 64, k: 64), tuning: .default), skinny)
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: 64, n: size, k: 64), tuning: .default), skinny)
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: size, n: 64, k: 63), tuning: .default), expected)
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: 64, n: 64, k: size), tuning: .default), expected)
        }
        // An empty C takes the general kernel (which launches nothing) on every tuning.
        for tuning in [KernelTuning.cpu, .default] {
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: 0, n: 5, k: 5), tuning: tuning), .general)
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: 5, n: 0, k: 5, transposeB: true), tuning: tuning), .general)
        }
        // A pure function: the same answer on every call.
        let shape = MatmulShape(m: 65, n: 64, k: 61, transposeA: true)
        XCTAssertEqual(MatmulVariant.choose(shape, tuning: .default), MatmulVariant.choose(shape, tuning: .default))
    }

    /// What each variant accepts (the predicate choose() relies on).
    func testVariantAcceptance() {
        for combo in 0..<4 {
            let shape = MatmulShape(m: 7, n: 7, k: 7, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2)
            XCTAssertTrue(MatmulVariant.general.accepts(shape))
            XCTAssertTrue(MatmulVariant.tiled.accepts(shape))
            XCTAssertEqual(MatmulVariant.nn16.accepts(shape), !shape.transposeB)
            XCTAssertEqual(MatmulVariant.nn16Slices.accepts(shape), !shape.transposeB)
            XCTAssertEqual(MatmulVariant.nt.accepts(shape), shape.transposeB && !shape.transposeA)
        }
    }
}

/// SplitMix64: a seeded generator for drawing test parameters.
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
@testable import ShrinkCompute
import XCTest

/// matmul on every device against a plain double loop: sizes 1…256, every transpose,
/// alpha/beta ≠ 1/0, nonzero offsets.
final class MatmulTests: XCTestCase {
    static let sizes = [1, 7, 61, 64, 65, 93, 144, 256]

    /// C = alpha·op(A)·op(B) + beta·C in Double.
    static func reference(_ s: MatmulShape, alpha: Double, a: [Float], b: [Float], beta: Double, c: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: s.m * s.n)
        for i in 0..<s.m {
            for j in 0..<s.n {
                var acc = 0.0
                for p in 0..<s.k {
                    let av = s.transposeA ? a[p * s.m + i] : a[i * s.k + p]
                    let bv = s.transposeB ? b[j * s.k + p] : b[p * s.n + j]
                    acc += Double(av) * Double(bv)
                }
                out[i * s.n + j] = alpha * acc + (beta == 0 ? 0 : beta * Double(c[i * s.n + j]))
            }
        }
        return out
    }

    private func check(_ device: any Device, _ s: MatmulShape, alpha: Float = 0.75, beta: Float = -0.5,
                       offsets: (Int, Int, Int) = (3, 5, 7)) throws {
        let a = randomValues(s.m * s.k, seed: UInt64(s.m * 31 + s.k))
        let b = randomValues(s.k * s.n, seed: UInt64(s.n * 17 + s.k + 1))
        let c = randomValues(s.m * s.n, seed: 99)
        let pad = { (offset: Int, values: [Float]) in [Float](repeating: 9, count: offset) + values + [9, 9] }
        let ba = try device.makeBuffer(pad(offsets.0, a)), bb = try device.makeBuffer(pad(offsets.1, b))
        let bc = try device.makeBuffer(pad(offsets.2, c))
        try device.matmul(s, alpha: alpha, a: ba, at: offsets.0, b: bb, at: offsets.1, beta: beta, c: bc, at: offsets.2)
        let out = try device.read(bc)
        let expected = Self.reference(s, alpha: Double(alpha), a: a, b: b, beta: Double(beta), c: c)
        assertClose(Array(out[offsets.2..<(offsets.2 + s.m * s.n)]), expected, tolerance: 1e-4, relative: 1e-4,
                    "\(device.kind) \(s)")
        XCTAssertEqual(Array(out[..<offsets.2]), [Float](repeating: 9, count: offsets.2), "\(device.kind) \(s): wrote before C")
        XCTAssertEqual(Array(out.suffix(2)), [9, 9], "\(device.kind) \(s): wrote past C")
    }

    /// Every (m, n, k) in the size set, with the transposes cycling through all four combinations.
    func testAllSizesEveryDevice() throws {
        for device in ComputeDevices.all {
            var combo = 0
            for m in Self.sizes {
                for n in Self.sizes {
                    for k in Self.sizes where m * n * k <= 1 << 21 || (m == n && n == k) {
                        combo += 1
                        try check(device, MatmulShape(m: m, n: n, k: k, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2))
                    }
                }
            }
        }
    }

    /// All four transpose combinations on odd shapes.
    func testEveryTransposeCombination() throws {
        for device in ComputeDevices.all {
            for (m, n, k) in [(7, 61, 65), (65, 7, 93), (144, 93, 1), (1, 256, 7)] {
                for ta in [false, true] {
                    for tb in [false, true] {
                        try check(device, MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb))
                    }
                }
            }
        }
    }

    /// beta = 0 ignores C's old contents, NaN included; NaN and Inf inputs propagate.
    func testBetaZeroAndNonFinite() throws {
        for device in ComputeDevices.all {
            let s = MatmulShape(m: 2, n: 2, k: 2)
            let c = try device.makeBuffer([Float.nan, .nan, .nan, .nan])
            try device.matmul(s, alpha: 1, a: try device.makeBuffer([Float]([1, 2, 3, 4])), b: try device.makeBuffer([Float]([1, 0, 0, 1])), beta: 0, c: c)
            XCTAssertEqual(try device.read(c), [1, 2, 3, 4], "\(device.kind): beta 0 leaked C")
            try device.matmul(s, alpha: 1, a: try device.makeBuffer([Float.nan, 0, 0, .infinity]),
                              b: try device.makeBuffer([Float]([1, 0, 0, 1])), beta: 0, c: c)
            let out = try device.read(c)
            XCTAssertTrue(out[0].isNaN && out[1].isNaN, "\(device.kind): NaN did not propagate: \(out)")
            XCTAssertEqual(out[3], .infinity, "\(device.kind): Inf did not propagate: \(out)")
        }
    }

    func testOutOfBoundsIsAnErrorNotACrash() throws {
        for device in ComputeDevices.all {
            let small = try device.makeBuffer(count: 4)
            XCTAssertThrowsError(try device.matmul(MatmulShape(m: 4, n: 4, k: 4), a: small, b: small, c: small)) {
                guard case DeviceError.outOfBounds = $0 else { return XCTFail("\(device.kind): \($0)") }
            }
        }
    }

    /// The variant choice is a pure function of shape and tuning, at boundary sizes.
    func testVariantChoice() {
        for size in [1, 7, 61, 64, 65] {
            let nn = MatmulShape(m: size, n: size, k: size)
            XCTAssertEqual(MatmulVariant.choose(nn, tuning: .cpu), .nn16, "cpu A·B \(size)")
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: size, n: size, k: size, transposeA: true), tuning: .cpu), .nn16)
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: size, n: size, k: size, transposeB: true), tuning: .cpu), .nt)
            XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: size, n: size, k: size, transposeA: true, transposeB: true),
                                                tuning: .cpu), .block)
            XCTAssertEqual(MatmulVariant.choose(nn, tuning: .default), size >= 16 ? .tiled : .general, "gpu \(size)")
        }
        XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: 0, n: 5, k: 5), tuning: .cpu), .general)
        XCTAssertEqual(MatmulVariant.choose(MatmulShape(m: 64, n: 64, k: 7), tuning: .default), .general)
    }

    /// Every kernel of matmul.cl on the OpenCL devices, forced, on odd shapes and all transposes
    /// it accepts — including the GPU-shaped tiled kernel, which PoCL can also run.
    func testEveryKernelVariantForced() throws {
        for device in ComputeDevices.all.compactMap({ $0 as? OpenCLDevice }) {
            for variant in MatmulVariant.allCases {
                for (m, n, k) in [(1, 1, 1), (7, 61, 65), (65, 33, 17), (64, 64, 64), (93, 144, 7)] {
                    for ta in [false, true] {
                        for tb in [false, true] {
                            let s = MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb)
                            guard variant.accepts(s) else { continue }
                            let a = randomValues(m * k, seed: 5), b = randomValues(k * n, seed: 6), c0 = randomValues(m * n, seed: 7)
                            let c = try device.makeBuffer(c0)
                            try device.matmul(s, variant: variant, alpha: 1.5, a: try device.makeBuffer(a), at: 0,
                                              b: try device.makeBuffer(b), at: 0, beta: 0.25, c: c, at: 0)
                            assertClose(try device.read(c), Self.reference(s, alpha: 1.5, a: a, b: b, beta: 0.25, c: c0),
                                        tolerance: 1e-4, relative: 1e-4, "\(variant) \(s)")
                        }
                    }
                }
            }
        }
    }
}

import Foundation
@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// The kernels for skinny shapes — matmul_splitk (k-parallel work-group reduction) and the
/// two-stage column sums — forced on every OpenCL device, with both the device's own tuning
/// and the default (GPU) tuning, against plain Double loops written here.
final class SkinnyKernelTests: XCTestCase {
    /// The devices: each OpenCL device as opened, and the first one with the GPU tuning
    /// (a different SK_LOCAL, column slices and partials count).
    private func devices() throws -> [OpenCLDevice] {
        openCLTestDevices() + [try defaultTunedOpenCLDevice()].compactMap { $0 }
    }

    /// Skinny shapes with edge sizes: one output, odd sizes, n not a multiple of the group's
    /// 16 columns, k not a multiple of the slices, k below the slice count, and long k.
    static let skinnyShapes = [(1, 1, 1), (1, 1, 10_000), (1, 100, 10_000), (10, 100, 4097), (3, 17, 1000),
                               (1, 33, 63), (65, 1, 777), (10, 10, 3), (2, 1000, 517)]

    func testSplitKAgainstTheReferenceAtSkinnyShapes() throws {
        for device in try devices() {
            for (m, n, k) in Self.skinnyShapes {
                for combo in 0..<4 {
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2)
                    for beta: Float in [-0.5, 0] {
                        var test = MatmulTests.Case(shape, seed: UInt64(m * 7 + n * 3 + k + combo))
                        test.beta = beta
                        if beta == 0 { test.c = [Float](repeating: .nan, count: m * n) }
                        assertClose(try MatmulTests.run(test, on: device, variant: .splitK), test.expected,
                                    tolerance: test.tolerance, relative: 1e-5,
                                    "\(label(device)) SK_LOCAL \(device.tuning.splitKLocal) splitk \(shape) beta \(beta)")
                    }
                }
            }
        }
    }

    /// The same inputs give the same bits on every call (a fixed reduction tree, no atomics).
    func testSplitKIsReproducible() throws {
        try assertReproducible(.splitK)
    }

    /// NaN in A poisons its row of C through the reduction tree.
    func testSplitKPropagatesNaN() throws {
        try assertNaNReachesOnlyItsRow(.splitK, n: 5)
    }

    /// `variant` on a long-k product gives the same bits on three more calls, on every device.
    private func assertReproducible(_ variant: MatmulVariant, file: StaticString = #filePath, line: UInt = #line) throws {
        for device in try devices() {
            let test = MatmulTests.Case(MatmulShape(m: 10, n: 100, k: 10_000, transposeA: true), seed: 3)
            let first = try MatmulTests.run(test, on: device, variant: variant)
            for _ in 0..<3 {
                XCTAssertEqual(try MatmulTests.run(test, on: device, variant: variant), first, "\(label(device))",
                               file: file, line: line)
            }
        }
    }

    /// A NaN in row 1 of op(A) (p = 517 of k = 1000) makes row 1 of C NaN and leaves rows 0 and 2.
    private func assertNaNReachesOnlyItsRow(_ variant: MatmulVariant, n: Int, slices: Int? = nil,
                                            file: StaticString = #filePath, line: UInt = #line) throws {
        for device in try devices() {
            var test = MatmulTests.Case(MatmulShape(m: 3, n: n, k: 1000, transposeA: true), seed: 4)
            test.a[517 * 3 + 1] = .nan  // A is stored k×m: row 1 of op(A), p = 517
            let c = try MatmulTests.run(test, on: device, variant: variant, slices: slices)
            for j in 0..<n {
                XCTAssertTrue(c[n + j].isNaN, "\(label(device)) C[1, \(j)] = \(c[n + j])", file: file, line: line)
                XCTAssertFalse(c[j].isNaN || c[2 * n + j].isNaN, "\(label(device)) rows 0 and 2 stay finite",
                               file: file, line: line)
            }
        }
    }

    // MARK: matmul_nn16_slices (register blocks over k-ranges, CPU-type devices)

    /// The skinny shapes with B not transposed, in 1, 2, 7 and 16 k-ranges (k = 1 and 3 leave
    /// ranges empty; n = 17, 33, 100, 1000 shift the last column block; m = 3, 10, 65 clamp rows;
    /// n = 1, 10 take the scalar path).
    func testNN16SlicesAgainstTheReferenceAtSkinnyShapes() throws {
        for device in try devices() {
            for (m, n, k) in Self.skinnyShapes {
                for transposeA in [false, true] {
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA)
                    for beta: Float in [-0.5, 0] {
                        var test = MatmulTests.Case(shape, seed: UInt64(m * 7 + n * 3 + k))
                        test.beta = beta
                        if beta == 0 { test.c = [Float](repeating: .nan, count: m * n) }
                        let expected = test.expected
                        for slices in [1, 2, 7, 16] {
                            assertClose(try MatmulTests.run(test, on: device, variant: .nn16Slices, slices: slices), expected,
                                        tolerance: test.tolerance, relative: 1e-5,
                                        "\(label(device)) nn16_slices \(shape) beta \(beta) slices \(slices)")
                        }
                    }
                }
            }
        }
    }

    /// The same inputs give the same bits on every call (slices added in a fixed order).
    func testNN16SlicesIsReproducible() throws {
        try assertReproducible(.nn16Slices)
    }

    /// NaN in A poisons its row of C through its slice and the sum, and no other row.
    func testNN16SlicesPropagatesNaN() throws {
        try assertNaNReachesOnlyItsRow(.nn16Slices, n: 20, slices: 4)
    }

    /// Not a check: with SHRINK_TIME_SLICES set, prints µs per call of matmul_nn16 and
    /// matmul_nn16_slices (its own k-ranges and others) on the skinny shapes of the training
    /// workloads, timed in alternating rounds in one process (median of 7 rounds of 10 calls).
    func testTimeNN16Slices() throws {
        guard ProcessInfo.processInfo.environment["SHRINK_TIME_SLICES"] != nil else {
            throw XCTSkip("set SHRINK_TIME_SLICES=1 to time matmul_nn16_slices")
        }
        let shapes = [MatmulShape(m: 10, n: 100, k: 10_000, transposeA: true), MatmulShape(m: 1, n: 100, k: 10_000, transposeA: true),
                      MatmulShape(m: 1, n: 1024, k: 1024, transposeA: true), MatmulShape(m: 10, n: 100, k: 1000, transposeA: true),
                      MatmulShape(m: 50, n: 10, k: 800, transposeA: true), MatmulShape(m: 64, n: 256, k: 1024, transposeA: true),
                      MatmulShape(m: 1, n: 10, k: 1000, transposeA: true)]
        for device in openCLTestDevices() {
            for shape in shapes {
                let test = MatmulTests.Case(shape, seed: 5)
                let a = try device.makeBuffer(test.a), b = try device.makeBuffer(test.b), c = try device.makeBuffer(test.c)
                let runs: [(String, MatmulVariant, Int?)] = [("nn16", .nn16, nil), ("slices", .nn16Slices, nil),
                                                            ("slices4", .nn16Slices, 4), ("slices8", .nn16Slices, 8),
                                                            ("slices32", .nn16Slices, 32)]
                var times = [[Double]](repeating: [], count: runs.count)
                for round in 0..<8 {
                    for (index, run) in runs.enumerated() {
                        let start = DispatchTime.now().uptimeNanoseconds
                        for _ in 0..<10 {
                            try device.matmul(shape, variant: run.1, slices: run.2, alpha: 1, a: a, at: 0, b: b, at: 0,
                                              beta: 0, c: c, at: 0)
                        }
                        try device.synchronize()
                        if round > 0 { times[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 10_000) }
                    }
                }
                let medians = zip(runs, times).map { run, t in "\(run.0) \(String(format: "%.1f", t.sorted()[t.count / 2]))" }
                print("nn16_slices timing \(shape) [\(MatmulVariant.choose(shape, tuning: device.tuning).rawValue) chosen, " +
                      "\(device.tuning.kSlices(k: shape.k)) slices]: " + medians.joined(separator: ", ") + " µs")
            }
        }
    }

    // MARK: Column sums in two stages

    func testTwoStageColumnSumsAgainstTheReference() throws {
        for device in try devices() {
            for (rows, cols) in [(1, 1), (2, 1), (10_000, 10), (1023, 3), (65, 17), (4097, 1), (700, 13)] {
                let x = randomValues(rows * cols, seed: UInt64(rows * 31 + cols))
                var expected = [Double](repeating: 0, count: cols)
                for r in 0..<rows {
                    for c in 0..<cols { expected[c] += Double(x[r * cols + c]) }
                }
                let input = try device.makeBuffer(x)
                for slices in [2, 3, 7, 16] where slices * cols <= device.tuning.normItems {
                    let out = try device.makeBuffer(padded([Float](repeating: .nan, count: cols), before: 3))
                    try device.columnSums(input, rows: rows, cols: cols, into: out, at: 3, slices: slices)
                    let all = try device.read(out)
                    assertSentinels(all, offset: 3, count: cols, "\(label(device)) columnSums \(slices) slices")
                    assertClose(Array(all[3..<(3 + cols)]), expected, tolerance: 1e-6 * Double(rows), relative: 1e-6,
                                "\(label(device)) columnSums \(rows)×\(cols) in \(slices) slices")
                }
            }
        }
    }

    /// More partials than the shared buffer holds is refused, not written past its end.
    func testTwoStageColumnSumsRefuseTooManyPartials() throws {
        for device in try devices() {
            let cols = device.tuning.normItems / 2 + 1
            let x = try device.makeBuffer(count: 4 * cols), out = try device.makeBuffer(count: cols)
            assertDeviceError("\(label(device)) 2 slices × \(cols) columns", {
                try device.columnSums(x, rows: 4, cols: cols, into: out, at: 0, slices: 2)
            }) { if case .invalidArgument = $0 { return true } else { return false } }
        }
    }
}

@testable import ShrinkCompute
import ShrinkTestSupport
import XCTest

/// Every matmul kernel forced, on small shapes that still reach each kernel's full-block and
/// edge paths (nn16: 8×16 blocks; nt: k ≥ 16; tiled: 16×16 tiles; splitk: k split over many work-items;
/// nn16_slices: 1, 3 and 7 k-ranges, empty ranges at k = 1, the shifted last column block at
/// n = 17 and 37, clamped rows at m = 9 and 10, the scalar path at n < 16), every transpose it accepts,
/// beta ≠ 0 and beta = 0 over NaN, on every OpenCL device and on the first one opened with the
/// default (GPU-shaped) tuning. Small enough for a simulator: scripts/oclgrind.sh runs this
/// under Oclgrind in place of MatmulTests' large sweeps. `SHRINK_TEST_VARIANTS` (comma-separated
/// kernel names) limits the variants run.
final class KernelSweepTests: XCTestCase {
    static let shapes = [(1, 1, 1), (9, 17, 18), (5, 6, 17), (16, 16, 16), (1, 3, 300), (10, 37, 200)]

    static var variants: [MatmulVariant] {
        guard let names = ProcessInfo.processInfo.environment["SHRINK_TEST_VARIANTS"], !names.isEmpty else {
            return MatmulVariant.allCases
        }
        // An unknown name is a mistake in the caller's list, not a variant to skip quietly.
        return names.split(separator: ",").map { name in
            guard let variant = MatmulVariant(rawValue: String(name)) else {
                preconditionFailure("SHRINK_TEST_VARIANTS: unknown kernel '\(name)'")
            }
            return variant
        }
    }

    func testEveryMatmulVariantAtSmallSizes() throws {
        var devices: [OpenCLDevice] = openCLTestDevices()
        if let tuned = try defaultTunedOpenCLDevice() { devices.append(tuned) }
        for variant in Self.variants {
            // nn16_slices' own k-ranges are 1 at these k: force more too.
            let sliceCounts: [Int?] = variant == .nn16Slices ? [nil, 3, 7] : [nil]
            for (m, n, k) in Self.shapes {
                for combo in 0..<4 {
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: combo & 1 == 1, transposeB: combo & 2 == 2)
                    guard variant.accepts(shape) else { continue }
                    for beta: Float in [-0.5, 0] {
                        var test = MatmulTests.Case(shape, seed: 20)
                        test.beta = beta
                        if beta == 0 { test.c = [Float](repeating: .nan, count: m * n) }
                        let expected = test.expected
                        for device in devices {
                            for slices in sliceCounts {
                                assertClose(try MatmulTests.run(test, on: device, variant: variant, slices: slices), expected,
                                            tolerance: test.tolerance, relative: 1e-5,
                                            "\(label(device)) tile \(device.tuning.tile) \(variant) \(shape) beta \(beta) slices \(slices ?? 0)")
                            }
                        }
                    }
                }
            }
        }
    }
}

@testable import ShrinkCompute
import XCTest

/// The tuning table and the sizes fitted to a device's limits (pure functions), and the
/// OpenCL device's tuning as its queries give it.
final class KernelTuningTests: XCTestCase {
    /// Skinny shapes with a long k take matmul_splitk on the GPU tuning; square ones, short k
    /// and k below max(m, n) do not; the CPU tuning never takes it (it measured slower on PoCL).
    func testSplitKChoice() {
        let splitK = [MatmulShape(m: 10, n: 100, k: 10_000, transposeA: true), MatmulShape(m: 1, n: 1024, k: 1024, transposeA: true),
                      MatmulShape(m: 1, n: 1, k: 64, transposeB: true), MatmulShape(m: 15, n: 4000, k: 4000)]
        let not = [MatmulShape(m: 16, n: 100, k: 10_000, transposeA: true), MatmulShape(m: 10_000, n: 10, k: 100, transposeB: true),
                   MatmulShape(m: 1, n: 10, k: 63), MatmulShape(m: 1, n: 1025, k: 1024),
                   MatmulShape(m: 15, n: 4500, k: 5000), MatmulShape(m: 64, n: 64, k: 4096)]
        for shape in splitK {
            XCTAssertEqual(MatmulVariant.choose(shape, tuning: .default), .splitK, "default \(shape)")
            XCTAssertNotEqual(MatmulVariant.choose(shape, tuning: .cpu), .splitK, "cpu \(shape)")
        }
        for shape in not { XCTAssertNotEqual(MatmulVariant.choose(shape, tuning: .default), .splitK, "default \(shape)") }
    }

    /// matmul_nn16_slices on the CPU tuning: B not transposed, n ≥ 16, k of at least 2·256 (16
    /// ranges at most) and nn16's grid of at most 64 blocks of 8×16; never on the default (GPU) tuning.
    func testNN16SlicesChoice() {
        let slices = [MatmulShape(m: 10, n: 100, k: 10_000, transposeA: true), MatmulShape(m: 1, n: 100, k: 10_000, transposeA: true),
                      MatmulShape(m: 1, n: 1024, k: 1024, transposeA: true), MatmulShape(m: 64, n: 128, k: 512),
                      MatmulShape(m: 3, n: 16, k: 512)]
        let not = [MatmulShape(m: 10, n: 100, k: 511, transposeA: true), MatmulShape(m: 65, n: 128, k: 4096),
                   MatmulShape(m: 64, n: 129, k: 4096), MatmulShape(m: 10, n: 100, k: 10_000, transposeB: true),
                   MatmulShape(m: 1024, n: 256, k: 1024, transposeA: true), MatmulShape(m: 1, n: 10, k: 1000, transposeA: true),
                   MatmulShape(m: 3, n: 15, k: 512)]
        for shape in slices {
            XCTAssertEqual(MatmulVariant.choose(shape, tuning: .cpu), .nn16Slices, "cpu \(shape)")
            XCTAssertNotEqual(MatmulVariant.choose(shape, tuning: .default), .nn16Slices, "default \(shape)")
        }
        for shape in not { XCTAssertNotEqual(MatmulVariant.choose(shape, tuning: .cpu), .nn16Slices, "cpu \(shape)") }
        XCTAssertEqual(KernelTuning.cpu.kSlices(k: 10_000), 16)
        XCTAssertEqual(KernelTuning.cpu.kSlices(k: 1024), 4)
        XCTAssertEqual(KernelTuning.cpu.kSlices(k: 511), 1)
        XCTAssertEqual(KernelTuning.cpu.kSlices(k: 0), 1)
        XCTAssertEqual(KernelTuning.default.kSlices(k: 1_000_000), 1)
    }

    /// splitk's work-group: lx a power of two ≥ min(n, 16) (1 for a GEMV), ly a power of two,
    /// lx·ly the most that fits the limit.
    func testSplitKGroup() {
        let cases: [(n: Int, limit: Int, group: (Int, Int))] = [
            (1, 256, (1, 256)), (10, 256, (16, 16)), (100, 64, (16, 4)), (3, 64, (4, 16)), (16, 1, (1, 1)),
            (2, 96, (2, 32)), (1000, 1024, (16, 64)),
        ]
        for c in cases {
            let g = KernelTuning.splitKGroup(n: c.n, limit: c.limit)
            XCTAssertTrue(g == c.group, "n \(c.n) limit \(c.limit): \(g), expected \(c.group)")
        }
    }

    /// Column sums: slices of at least columnChunk rows, at most columnSlices, partials within normItems.
    func testColumnSumSlices() {
        XCTAssertEqual(KernelTuning.default.columnSumSlices(rows: 10_000, cols: 10), 156)
        XCTAssertEqual(KernelTuning.default.columnSumSlices(rows: 100_000, cols: 10), 256)
        XCTAssertEqual(KernelTuning.default.columnSumSlices(rows: 100_000, cols: 100), 40)   // 4096 / 100
        XCTAssertEqual(KernelTuning.default.columnSumSlices(rows: 63, cols: 1), 1)
        XCTAssertEqual(KernelTuning.cpu.columnSumSlices(rows: 10_000, cols: 10), 16)
        XCTAssertEqual(KernelTuning.cpu.columnSumSlices(rows: 1000, cols: 1), 1)
        XCTAssertEqual(KernelTuning.cpu.columnSumSlices(rows: 800, cols: 50), 1)
        XCTAssertEqual(KernelTuning.cpu.columnSumSlices(rows: 1024, cols: 1024), 1)
        XCTAssertEqual(KernelTuning.cpu.columnSumSlices(rows: 5, cols: 0), 1)
    }

    /// The table is keyed by device type; the limits shrink what does not fit.
    func testTableAndFitting() {
        XCTAssertEqual(KernelTuning.forDevice(type: .cpu, maxWorkGroupSize: 4096), .cpu)
        XCTAssertEqual(KernelTuning.forDevice(type: .gpu, maxWorkGroupSize: 1024, localMemory: 48 * 1024), .default)
        XCTAssertEqual(KernelTuning.forDevice(type: .accelerator, maxWorkGroupSize: 1024), .default)
        // 128 work-items: 8×8 tiles and matmul-local, 128-item splitk and elementwise groups.
        let small = KernelTuning.forDevice(type: .gpu, maxWorkGroupSize: 128)
        XCTAssertEqual(small.tile, 8)
        XCTAssertTrue(small.matmulLocal == (8, 8))
        XCTAssertEqual(small.splitKLocal, 128)
        XCTAssertEqual(small.elementwiseLocal, 128)
        // 2 KiB of local memory (512 floats): a 16-tile needs 528 floats, an 8-tile 136.
        let tight = KernelTuning.forDevice(type: .gpu, maxWorkGroupSize: 1024, localMemory: 2048)
        XCTAssertEqual(tight.tile, 8)
        XCTAssertEqual(tight.splitKLocal, 256)
        XCTAssertEqual(KernelTuning.forDevice(type: .gpu, maxWorkGroupSize: 1024, localMemory: 512).splitKLocal, 128)
        XCTAssertTrue(tight.options.contains("-DSK_LOCAL=256") && tight.options.contains("-DTILE=8"), tight.options)
    }

    /// A 1-D local size: within the kernel's limit, a multiple of its preferred multiple when one fits.
    func testKernelLimitsFit() {
        XCTAssertEqual(KernelLimits(maxItems: 1024, preferredMultiple: 32).fit(256), 256)
        XCTAssertEqual(KernelLimits(maxItems: 1024, preferredMultiple: 32).fit(100), 96)
        XCTAssertEqual(KernelLimits(maxItems: 1024, preferredMultiple: 32).fit(20), 20)
        XCTAssertEqual(KernelLimits(maxItems: 192, preferredMultiple: 64).fit(256), 192)
        XCTAssertEqual(KernelLimits(maxItems: 100, preferredMultiple: 64).fit(256), 64)
        XCTAssertEqual(KernelLimits(maxItems: 1, preferredMultiple: 1).fit(256), 1)
    }

    /// An OpenCL device's tuning is its type's entry fitted to what it reports, and each
    /// kernel's queried limits lie within the device's.
    func testOpenCLDeviceTuningFromQueries() throws {
        for device in openCLTestDevices() {
            let info = device.info
            XCTAssertGreaterThanOrEqual(info.localMemory, 1024, "\(info.selector) CL_DEVICE_LOCAL_MEM_SIZE")
            XCTAssertEqual(device.tuning,
                           KernelTuning.forDevice(type: info.type, maxWorkGroupSize: info.maxWorkGroupSize,
                                                  localMemory: info.localMemory), info.selector)
            for name in ["matmul_splitk", "matmul_tiled", "fill_float", "column_sums_partial"] {
                let limits = try device.limits(name)
                XCTAssertTrue((1...info.maxWorkGroupSize).contains(limits.maxItems), "\(name) \(limits)")
                XCTAssertGreaterThanOrEqual(limits.preferredMultiple, 1, name)
            }
            let options = OpenCLDevice.buildOptions(device.tuning, info)
            XCTAssertEqual(options.contains("-cl-fp32-correctly-rounded-divide-sqrt"), info.correctlyRoundedDivideSqrt)
        }
    }
}

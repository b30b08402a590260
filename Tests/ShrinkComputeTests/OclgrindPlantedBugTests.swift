import Foundation
@testable import ShrinkCompute
import ShrinkKernels
import XCTest

/// Bugs planted on purpose, so that scripts/oclgrind.sh can show its report detection catches
/// each kind it relies on: it runs this test once per kind under Oclgrind with every check on
/// (`SHRINK_OCLGRIND_PLANTED=<kind>`) and fails unless that run is reported with the kind's
/// message. Without the variable the test is skipped (a normal run has no simulator to report).
///
///   out-of-bounds   a global read one element past the end of a buffer   ("Invalid read")
///   local-race      every work-item writes its own value to one __local float ("data race")
///   uninitialized   half the work-items read __local elements nothing wrote ("uninitialized")
///   api             a kernel name the program lacks (OCLGRIND_CHECK_API; reported on stderr,
///                   not in OCLGRIND_LOG)                                   ("CL_INVALID_KERNEL_NAME")
final class OclgrindPlantedBugTests: XCTestCase {
    static let source = """

        #line 1 "planted.cl"
        __kernel void planted_out_of_bounds(__global const float *x, __global float *y, const int n) {
            const int i = get_global_id(0);
            if (i < n) y[i] = x[i + 1];  // item n - 1 reads x[n]
        }
        __kernel void planted_local_race(__global float *y, const int n) {
            __local float tile[1];
            const int i = get_local_id(0);
            tile[0] = (float)i;  // every item writes its own value: a write-write race
            barrier(CLK_LOCAL_MEM_FENCE);
            if (i < n) y[get_global_id(0)] = tile[0];
        }
        __kernel void planted_uninitialized(__global float *y, const int n) {
            __local float tile[64];
            const int i = get_local_id(0);
            if (i < 32) tile[i] = 1.0f;  // items 32..63 read elements nothing wrote
            barrier(CLK_LOCAL_MEM_FENCE);
            if (i < n) y[get_global_id(0)] = tile[i] > 0.0f ? 1.0f : 2.0f;
        }
        """

    func testPlantedBug() throws {
        guard let kind = ProcessInfo.processInfo.environment["SHRINK_OCLGRIND_PLANTED"] else {
            throw XCTSkip("scripts/oclgrind.sh runs this under Oclgrind with SHRINK_OCLGRIND_PLANTED set")
        }
        guard let info = try OpenCL.devices().first, info.platformName.hasPrefix("Oclgrind") else {
            return XCTFail("SHRINK_OCLGRIND_PLANTED needs Oclgrind as the first OpenCL device")
        }
        // The real program plus the planted kernels, so that opening the device itself is clean.
        let device = try OpenCLDevice(info: info, source: KernelSources.program + Self.source)
        let n = 64
        let x = try device.makeBuffer(count: n), y = try device.makeBuffer(count: n)
        switch kind {
        case "out-of-bounds":
            try device.launch("planted_out_of_bounds", global: [n], local: [n], [.floats(x, 0, n), .floats(y, 0, n), .int(n)])
        case "local-race":
            try device.launch("planted_local_race", global: [n], local: [n], [.floats(y, 0, n), .int(n)])
        case "uninitialized":
            try device.launch("planted_uninitialized", global: [n], local: [n], [.floats(y, 0, n), .int(n)])
        case "api":
            XCTAssertThrowsError(try device.launch("planted_no_such_kernel", global: [n], local: [n], [.floats(y, 0, n)]))
        default:
            return XCTFail("SHRINK_OCLGRIND_PLANTED: unknown kind '\(kind)'")
        }
        try device.synchronize()
    }
}

@testable import ShrinkCompute
import XCTest

/// Host-side stores into part of a buffer: a new buffer reads as zeros, a write at an offset
/// and a copy into part of a buffer change only their range, on every device.
///
/// On Oclgrind these run through `OpenCLDevice.wholeBufferHostStores`: Oclgrind 21.10's
/// uninitialized-memory check (`OCLGRIND_UNINITIALIZED=1`) re-creates a buffer's shadow state
/// at the size of each host store, so `clEnqueueFillBuffer` (stored 4 bytes at a time), a
/// write at a nonzero offset or a copy into part of a buffer leaves the whole buffer marked
/// uninitialized, and every later kernel read of it is reported ("Controlflow depends on
/// uninitialized value", ~1,000 of them in a 2-epoch `train`) although the values are right.
/// Minimal reproducer (C, `gcc repro.c -lOpenCL`, run with OCLGRIND_UNINITIALIZED=1 and only
/// Oclgrind's ICD file in OCL_ICD_VENDORS):
///
///     kernel:  __kernel void k(__global const float *x, __global float *y) { y[0] = x[1] > 0.0f ? 1.0f : 2.0f; }
///     x = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 16, NULL, NULL);
///     (a) clEnqueueWriteBuffer(q, x, CL_TRUE, 0, 16, four_floats, ...)      -> no report
///     (b) clEnqueueFillBuffer(q, x, &zero, 4, 0, 16, ...)                      -> "Uninitialized value written"
///     (c) (a), then clEnqueueWriteBuffer(q, x, CL_TRUE, 8, 8, two_floats, ...) -> reported
///     (d) (a), then clEnqueueCopyBuffer(q, s, x, 0, 12, 4, ...)                -> reported
///     set args (x, y); clEnqueueNDRangeKernel(q, k, 1, NULL, &one, NULL, ...); clFinish(q);
///
/// (Uninitialized::hostMemoryStore calls ShadowMemory::allocate(address, size) for each store.)
/// scripts/oclgrind.sh runs this suite under Oclgrind with every check on and fails on any report.
final class HostStoreTests: XCTestCase {
    func testNewBuffersAreZero() throws {
        for device in testDevices() {
            let x = try device.makeBuffer(count: 37)
            XCTAssertEqual(try device.read(x), [Float](repeating: 0, count: 37), label(device))
            // A kernel reads it too (the reduction of zeros, and of zeros plus one written value).
            XCTAssertEqual(try device.norm(.l1, of: x), 0, label(device))
            try device.write([Float(-2.5)], to: x, at: 36)
            XCTAssertEqual(try device.norm(.l1, of: x), 2.5, label(device))
        }
    }

    func testWriteAtAnOffsetChangesOnlyItsRange() throws {
        for device in testDevices() {
            let x = try device.makeBuffer((0..<10).map { Float($0) })
            try device.write([Float](arrayLiteral: -1, -2, -3), to: x, at: 4)
            XCTAssertEqual(try device.read(x), [0, 1, 2, 3, -1, -2, -3, 7, 8, 9], label(device))
            XCTAssertEqual(try device.norm(.sum, of: x), 24, label(device))
        }
    }

    func testCopyIntoPartOfABufferChangesOnlyItsRange() throws {
        for device in testDevices() {
            let source = try device.makeBuffer([Float](arrayLiteral: 10, 20, 30, 40))
            let destination = try device.makeBuffer([Float](arrayLiteral: 1, 2, 3, 4, 5, 6))
            try device.copy(source, at: 1, to: destination, at: 3, count: 2)
            XCTAssertEqual(try device.read(destination), [1, 2, 3, 20, 30, 6], label(device))
            XCTAssertEqual(try device.read(source), [10, 20, 30, 40], label(device))
            XCTAssertEqual(try device.norm(.sum, of: destination), 62, label(device))
        }
    }
}

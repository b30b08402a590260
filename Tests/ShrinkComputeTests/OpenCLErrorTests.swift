import Foundation
@testable import ShrinkCompute
import XCTest

/// Errors explain themselves (STYLE §6): build failures carry the compiler's log, allocation
/// limits and bad ranges are typed errors on every device (never a crash), OpenCL codes have names.
final class OpenCLErrorTests: XCTestCase {
    // MARK: Build failures

    /// A syntax error surfaces as buildFailed with the compiler's log, which names the file set by
    /// `#line` (as KernelSources does) and the line:col of the error.
    func testBrokenKernelSourceSurfacesTheBuildLog() throws {
        guard let info = openCLTestDevices().first?.info else { return }
        let source = """
            #line 1 "broken.cl"
            __kernel void broken(__global float *x) {
                const int i = get_global_id(0);
                x[i] = undefined_name * 2.0f;
            }
            """
        assertDeviceError("broken source", { _ = try OpenCLDevice(info: info, source: source) }) { error in
            guard case let .buildFailed(device, code, log) = error else { return false }
            let description = "\(error)"
            XCTAssertEqual(device, info.name)
            XCTAssertEqual(code, -11)
            XCTAssertTrue(log.contains("undefined_name"), log)
            XCTAssertNotNil(log.range(of: #"broken\.cl:3:\d+"#, options: .regularExpression), "no file:line:col in \(log)")
            XCTAssertTrue(description.contains("CL_BUILD_PROGRAM_FAILURE"), description)
            XCTAssertTrue(description.contains(log), "the description must carry the log: \(description)")
            return true
        }
    }

    // MARK: Allocation

    /// Beyond the device's limit (or an overflowing byte count): allocationTooLarge, on every device.
    func testOversizedAllocationIsAllocationTooLarge() throws {
        for device in testDevices() {
            var counts = [Int.max / 8, Int.max / 4 + 1, Int.max, 1 << 40]
            if let cl = device as? OpenCLDevice { counts.append(cl.info.maxAllocation / 4 + 1) }
            for count in counts {
                for type in [ElementType.float32, .int32] {
                    assertDeviceError("\(label(device)) \(count) × \(type)", { _ = try device.makeBuffer(count: count, type: type) }) {
                        guard case let .allocationTooLarge(bytes, limit, name) = $0 else { return false }
                        return bytes > limit && limit > 0 && name == device.name && "\($0)".contains("cannot allocate")
                    }
                }
            }
        }
    }

    func testZeroSizeAllocation() throws {
        for device in testDevices() {
            assertDeviceError("\(label(device)) zero", { _ = try device.makeBuffer(count: 0, type: .float32) }) {
                $0 == .zeroSizeAllocation
            }
            assertDeviceError("\(label(device)) empty array", { _ = try device.makeBuffer([Float]()) }) { $0 == .zeroSizeAllocation }
            assertDeviceError("\(label(device)) negative", { _ = try device.makeBuffer(count: -1, type: .int32) }) { _ in true }
        }
    }

    /// A buffer up to the limit still works after the failures (the device is not left broken).
    func testDeviceStillWorksAfterFailedAllocations() throws {
        for device in testDevices() {
            _ = try? device.makeBuffer(count: Int.max / 8, type: .float32)
            let x = try device.makeBuffer([Float]([3, 4]))
            XCTAssertEqual(try device.norm(.l2, of: x), 5, "\(label(device))")
        }
    }

    // MARK: Names

    func testErrorNames() {
        XCTAssertEqual(openCLErrorName(-61), "CL_INVALID_BUFFER_SIZE")
        XCTAssertEqual(openCLErrorName(-11), "CL_BUILD_PROGRAM_FAILURE")
        XCTAssertEqual(openCLErrorName(-5), "CL_OUT_OF_RESOURCES")
        XCTAssertEqual(openCLErrorName(-54), "CL_INVALID_WORK_GROUP_SIZE")
        XCTAssertEqual(openCLErrorName(-1001), "CL_PLATFORM_NOT_FOUND_KHR")
        XCTAssertEqual(openCLErrorName(0), "CL_SUCCESS")
        XCTAssertEqual(openCLErrorName(-12345), "CL_UNKNOWN_ERROR")
        XCTAssertEqual("\(DeviceError.openCL(call: "clCreateBuffer", code: -61))",
                       "clCreateBuffer failed: CL_INVALID_BUFFER_SIZE (-61)")
        XCTAssertTrue("\(DeviceError.noOpenCLPlatform)".contains("pocl-opencl-icd"), "the hint names what to install")
    }

    // MARK: Ranges

    /// The buffers the range tests work on: x and y of 16 floats, `small` of 4, 4 int32 indices.
    struct Buffers {
        let x: Buffer, y: Buffer, small: Buffer, indices: Buffer
        init(_ device: any Device) throws {
            (x, y) = (try device.makeBuffer(count: 16), try device.makeBuffer(count: 16))
            small = try device.makeBuffer(count: 4)
            indices = try device.makeBuffer([Int32]([0, 1, 2, 3]))
        }
    }

    typealias Operation = (name: String, run: () throws -> Void)

    /// Every operation with one of its offsets set to `bad`.
    static func operations(_ device: any Device, _ b: Buffers, offset bad: Int) -> [Operation] {
        let (x, y, small, indices) = (b.x, b.y, b.small, b.indices)
        let s = MatmulShape(m: 2, n: 2, k: 2), sgd = SGDHyperparameters(learningRate: 0.1, momentum: 0.9)
        return [
            ("write", { try device.write([Float](repeating: 1, count: 4), to: x, at: bad) }),
            ("read", { _ = try device.read(x, at: bad, count: 4) }),
            ("copy source", { try device.copy(x, at: bad, to: y, at: 0, count: 4) }),
            ("copy destination", { try device.copy(x, at: 0, to: y, at: bad, count: 4) }),
            ("fill", { try device.fill(x, at: bad, count: 4, with: 1) }),
            ("matmul A", { try device.matmul(s, alpha: 1, a: x, at: bad, b: y, at: 0, beta: 0, c: small, at: 0) }),
            ("matmul B", { try device.matmul(s, alpha: 1, a: x, at: 0, b: y, at: bad, beta: 0, c: small, at: 0) }),
            ("matmul C", { try device.matmul(s, alpha: 1, a: x, at: 0, b: y, at: 0, beta: 0, c: x, at: bad) }),
            ("norm x", { try device.norm(.l2, of: x, at: bad, count: 4, into: small, at: 0, scale: 1, accumulate: false) }),
            ("norm result", { try device.norm(.l2, of: x, at: 0, count: 4, into: small, at: bad, scale: 1, accumulate: false) }),
            ("penaltyGradient", { try device.penaltyGradient(PenaltyCoefficients(l1: 1), weights: x, gradient: y, at: bad,
                                                             count: 4, norms: small, normIndex: 0) }),
            ("penaltyGradient norm", { try device.penaltyGradient(PenaltyCoefficients(l2Norm: 1), weights: x, gradient: y,
                                                                  at: 0, count: 4, norms: small, normIndex: bad) }),
            ("proximalL1", { try device.proximalL1(x, at: bad, count: 4, threshold: 0.1) }),
            ("gatherRows indices", { try device.gatherRows(x, indices: indices, at: bad, rows: 2, cols: 2, into: small) }),
            ("addBias", { try device.addBias(x, bias: small, at: bad, rows: 2, cols: 2, relu: false) }),
            ("lossGradient targets", { try device.lossGradient(.mse, logits: x, targets: y, at: bad, rows: 4, cols: 1,
                                                               gradient: small, rowLoss: small, rowCorrect: small) }),
            ("sgdStep", { try device.sgdStep(sgd, weights: x, gradient: y, momentum: small, at: bad, count: 4, isFirstStep: true) }),
            ("adamStep", { try device.adamStep(AdamHyperparameters(learningRate: 0.1), weights: x, gradient: y,
                                               firstMoment: x, secondMoment: y, at: bad, count: 4, step: 1) }),
        ]
    }

    /// Operations whose sizes describe more elements than one of their buffers holds.
    static func oversizedOperations(_ device: any Device, _ b: Buffers) -> [Operation] {
        let (x, y, small, indices) = (b.x, b.y, b.small, b.indices)
        return [
            ("matmul", { try device.matmul(MatmulShape(m: 4, n: 4, k: 4), a: small, b: small, c: small) }),
            ("gatherRows destination", { try device.gatherRows(x, indices: indices, at: 0, rows: 4, cols: 2, into: small) }),
            ("addBias x", { try device.addBias(small, bias: x, at: 0, rows: 3, cols: 2, relu: true) }),
            ("applyMask", { try device.applyMask(small, mask: x, count: 5) }),
            ("columnSums x", { try device.columnSums(small, rows: 3, cols: 2, into: x, at: 0) }),
            ("columnSums destination", { try device.columnSums(x, rows: 2, cols: 4, into: small, at: 1) }),
            ("lossGradient logits", { try device.lossGradient(.ce, logits: small, targets: x, at: 0, rows: 2, cols: 3,
                                                              gradient: x, rowLoss: x, rowCorrect: x) }),
            ("lossGradient gradient", { try device.lossGradient(.ce, logits: x, targets: x, at: 0, rows: 2, cols: 3,
                                                                gradient: small, rowLoss: x, rowCorrect: x) }),
            ("sgdStep momentum", { try device.sgdStep(SGDHyperparameters(learningRate: 0.1, momentum: 0.9), weights: x,
                                                      gradient: y, momentum: small, at: 4, count: 4, isFirstStep: true) }),
            ("adamStep moments", { try device.adamStep(AdamHyperparameters(learningRate: 0.1), weights: x, gradient: y,
                                                       firstMoment: small, secondMoment: y, at: 0, count: 8, step: 1) }),
        ]
    }

    private func assertOutOfBounds(_ operations: [Operation], _ context: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        for (name, run) in operations {
            assertDeviceError("\(context) \(name)", file: file, line: line, run) {
                guard case .outOfBounds = $0 else { return false }
                return true
            }
        }
    }

    /// Every operation given an offset past the end (13: the range starts inside x but runs past
    /// it), negative, or Int.max throws outOfBounds on every device and writes nothing.
    func testOutOfRangeOffsetsAreOutOfBounds() throws {
        for device in testDevices() {
            let buffers = try Buffers(device)
            for bad in [13, 17, -1, Int.max] {
                assertOutOfBounds(Self.operations(device, buffers, offset: bad), "\(label(device)) at \(bad):")
            }
            XCTAssertEqual(try device.read(buffers.small), [0, 0, 0, 0], "\(label(device)): a refused op wrote")
        }
    }

    /// Sizes larger than the buffers they describe throw outOfBounds on every device.
    func testSizesLargerThanTheirBuffersAreOutOfBounds() throws {
        for device in testDevices() {
            let buffers = try Buffers(device)
            assertOutOfBounds(Self.oversizedOperations(device, buffers), "\(label(device)):")
            XCTAssertEqual(try device.read(buffers.small), [0, 0, 0, 0], "\(label(device)): a refused op wrote")
        }
    }

    func testNegativeMatmulDimensionIsInvalid() throws {
        for device in testDevices() {
            let x = try device.makeBuffer(count: 4)
            assertDeviceError("\(label(device))", { try device.matmul(MatmulShape(m: -1, n: 2, k: 2), a: x, b: x, c: x) }) {
                guard case .invalidArgument = $0 else { return false }
                return true
            }
        }
    }

    // MARK: Buffers of the wrong kind

    func testForeignAndWronglyTypedBuffers() throws {
        let devices = testDevices()
        for device in devices {
            let floats = try device.makeBuffer(count: 4), ints = try device.makeBuffer([Int32]([0, 1, 2, 3]))
            assertDeviceError("\(label(device)) fill ints", { try device.fill(ints, at: 0, count: 2, with: 0) }) {
                guard case .wrongElementType = $0 else { return false }
                return true
            }
            assertDeviceError("\(label(device)) gather with float indices", {
                try device.gatherRows(floats, indices: floats, at: 0, rows: 1, cols: 1, into: floats)
            }) {
                guard case .wrongElementType = $0 else { return false }
                return true
            }
            assertDeviceError("\(label(device)) copy float → int", { try device.copy(floats, at: 0, to: ints, at: 0, count: 1) }) {
                guard case .wrongElementType = $0 else { return false }
                return true
            }
            for other in devices where other !== device {
                let foreign = try other.makeBuffer(count: 4)
                assertDeviceError("\(label(device)) with a \(label(other)) buffer", {
                    try device.proximalL1(foreign, at: 0, count: 4, threshold: 1)
                }) {
                    guard case .foreignBuffer = $0 else { return false }
                    return true
                }
            }
        }
    }

    func testReadIntoTooSmallDestination() throws {
        for device in testDevices() {
            let x = try device.makeBuffer([Float]([1, 2, 3]))
            var small = [Float](repeating: 0, count: 2)
            assertDeviceError("\(label(device))", {
                try small.withUnsafeMutableBytes { try device.read(x, at: 0, count: 3, into: $0) }
            }) {
                guard case .invalidArgument = $0 else { return false }
                return true
            }
        }
    }
}

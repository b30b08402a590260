import COpenCL
import ShrinkKernels
import Foundation

/// A `cl_mem` owned by a `Buffer`; released with it.
final class CLMemory {
    let mem: cl_mem
    init(_ mem: cl_mem) { self.mem = mem }
    deinit { clReleaseMemObject(mem) }
}

/// What the driver says of one kernel on one device.
struct KernelLimits {
    /// CL_KERNEL_WORK_GROUP_SIZE: the most work-items in one of its work-groups.
    var maxItems: Int
    /// CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE (the warp or wavefront, SIMD width on CPUs).
    var preferredMultiple: Int

    /// A 1-D local size: at most `wanted` and maxItems, rounded down to the preferred multiple
    /// when at least one multiple fits.
    func fit(_ wanted: Int) -> Int {
        let size = max(1, min(wanted, maxItems))
        return size >= preferredMultiple ? size / preferredMultiple * preferredMultiple : size
    }
}

/// A device behind the OpenCL ICD loader: one context, one in-order queue, one program
/// built from Kernels/*.cl with the device's tuning options, kernel objects cached.
///
/// Operations are enqueued without waiting; `read` and `synchronize` wait. Setting kernel
/// arguments and enqueueing happen under one lock, so one device may be shared by tasks.
public final class OpenCLDevice: Device, @unchecked Sendable {
    public let info: OpenCLDeviceInfo
    public let tuning: KernelTuning
    public var name: String { info.name }
    public var kind: DeviceKind { .opencl }

    private let context: cl_context
    let queue: cl_command_queue
    private let program: cl_program
    private var kernels: [String: cl_kernel] = [:]
    private var limits: [String: KernelLimits] = [:]
    private let lock = NSLock()
    /// Serializes the two enqueues of each reduction (they share `partials`).
    let normLock = NSLock()
    private let counterBox = CounterBox()
    public var counters: DeviceCounters { counterBox.current }
    /// norm_partials' output, reused by every reduction (the queue is in order).
    private var partials: Buffer!
    /// The failure record (KernelFailure) of the kernels that find a bad index or segment
    /// (gather_rows, norm_segments): they never read outside their source, store NaN and
    /// record the failure here; `read` and `synchronize` read and clear it and throw.
    private var failureRecord: Buffer!
    /// Whether a recording kernel was enqueued since the record was last read (so the record
    /// is read only after such a kernel: one small read when the host next waits).
    private var failurePending = false
    /// Host-side stores (fill, write, copy) always cover whole buffers. Oclgrind 21.10's
    /// uninitialized-memory check forgets a buffer's state on any host store that is not the
    /// whole buffer (`clEnqueueFillBuffer` stores 4 bytes at a time; a write or copy into
    /// part of a buffer), then flags every later kernel read of it. The values are right;
    /// only the check is wrong. Reproducer: Tests/ShrinkComputeTests/HostStoreTests.swift.
    let wholeBufferHostStores: Bool

    /// Opens `info`'s device and builds `source` (by default the embedded Kernels/*.cl).
    /// `notice` hears, before the pause, that the program is compiled because the on-disk
    /// cache missed (the layer itself prints nothing).
    public init(info: OpenCLDeviceInfo, source: String = KernelSources.program, tuning: KernelTuning? = nil,
                notice: (String) -> Void = { _ in }) throws {
        self.info = info
        var tuning = tuning ?? KernelTuning.forDevice(type: info.type, maxWorkGroupSize: info.maxWorkGroupSize,
                                                       localMemory: info.localMemory)
        var status: cl_int = 0
        var deviceID: cl_device_id? = info.id
        guard let context = clCreateContext(nil, 1, &deviceID, nil, nil, &status) else {
            throw DeviceError.openCL(call: "clCreateContext", code: status)
        }
        self.context = context
        let queue: cl_command_queue?
        if info.versionNumber.major >= 2 {
            queue = clCreateCommandQueueWithProperties(context, info.id, nil, &status)
        } else {
            queue = clCreateCommandQueue(context, info.id, 0, &status)
        }
        guard let queue else {
            clReleaseContext(context)
            throw DeviceError.openCL(call: "clCreateCommandQueue", code: status)
        }
        self.queue = queue
        wholeBufferHostStores = info.platformName.hasPrefix("Oclgrind")
        do {
            var built = try Self.build(source: source, context: context, device: info,
                                       options: Self.buildOptions(tuning, info), notice: notice)
            // A kernel's own limit (registers, __local use) may be below the device's: refit
            // the fixed-size work-groups to it and build once more.
            let limit = Self.fixedGroupLimit(built, info)
            let refitted = tuning.fitted(to: limit, localMemory: info.localMemory)
            if refitted != tuning {
                clReleaseProgram(built)
                tuning = refitted
                built = try Self.build(source: source, context: context, device: info,
                                       options: Self.buildOptions(tuning, info), notice: notice)
            }
            program = built
        } catch {
            clReleaseCommandQueue(queue)
            clReleaseContext(context)
            throw error
        }
        self.tuning = tuning
        partials = try makeBuffer(count: tuning.normItems, type: .float32)
        failureRecord = try makeBuffer(count: KernelFailure.length, type: .int32)
    }

    deinit {
        for kernel in kernels.values { clReleaseKernel(kernel) }
        clReleaseProgram(program)
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    /// The tuning's options, plus correctly rounded `/` and `sqrt` where the device supports
    /// them (OpenCL 1.2 otherwise allows 2.5 ulp for `/` and 3 ulp for `sqrt`; see Kernels/README.md).
    static func buildOptions(_ tuning: KernelTuning, _ info: OpenCLDeviceInfo) -> String {
        tuning.options + (info.correctlyRoundedDivideSqrt ? " -cl-fp32-correctly-rounded-divide-sqrt" : "")
    }

    /// The smallest CL_KERNEL_WORK_GROUP_SIZE of the kernels whose work-group size is fixed at
    /// build time (the tiles, the norms) and of matmul_splitk.
    private static func fixedGroupLimit(_ program: cl_program, _ info: OpenCLDeviceInfo) -> Int {
        var limit = info.maxWorkGroupSize
        for name in ["matmul_tiled", "matmul_splitk", "norm_small", "norm_finish", "norm_segments",
                     "sparse_matmul_sel_group"] {
            var status: cl_int = 0
            guard let kernel = clCreateKernel(program, name, &status) else { continue }
            limit = min(limit, kernelLimits(kernel, info).maxItems)
            clReleaseKernel(kernel)
        }
        return limit
    }

    /// A kernel's CL_KERNEL_WORK_GROUP_SIZE and CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE on
    /// the device (the device's limit and 1 when the driver does not say).
    static func kernelLimits(_ kernel: cl_kernel, _ info: OpenCLDeviceInfo) -> KernelLimits {
        var items = 0, multiple = 0
        let query = { (param: Int32, value: inout Int) in
            if clGetKernelWorkGroupInfo(kernel, info.id, cl_kernel_work_group_info(param), MemoryLayout<Int>.size,
                                        &value, nil) != CL_SUCCESS { value = 0 }
        }
        query(CL_KERNEL_WORK_GROUP_SIZE, &items)
        query(CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, &multiple)
        return KernelLimits(maxItems: items > 0 ? items : info.maxWorkGroupSize, preferredMultiple: max(multiple, 1))
    }

    /// The program from the on-disk binary cache when present and loadable, else built from
    /// source (and then cached).
    private static func build(source: String, context: cl_context, device: OpenCLDeviceInfo,
                              options: String, notice: (String) -> Void) throws -> cl_program {
        let cache = ProgramCache.standard
        let url = cache?.url(device: device, source: source, options: options)
        if let cache, let url, let binary = cache.load(url),
           let program = buildFromBinary(binary, context: context, device: device, options: options) {
            return program
        }
        notice("compiling OpenCL kernels for \(device.name), " +
               (cache == nil ? "every run (no cache folder: set \(ProgramCache.environmentKey))…" : "first run only…"))
        let program = try buildFromSource(source, context: context, device: device, options: options)
        if let cache, let url { cache.store(program, at: url) }
        return program
    }

    private static func buildFromBinary(_ binary: [UInt8], context: cl_context, device: OpenCLDeviceInfo,
                                        options: String) -> cl_program? {
        var status: cl_int = 0
        var binaryStatus: cl_int = 0
        var deviceID: cl_device_id? = device.id
        var length = binary.count
        let program: cl_program? = binary.withUnsafeBufferPointer { buffer in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return clCreateProgramWithBinary(context, 1, &deviceID, &length, &pointer, &binaryStatus, &status)
        }
        guard let program, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else {
            if let program { clReleaseProgram(program) }
            return nil
        }
        guard clBuildProgram(program, 1, &deviceID, options, nil, nil) == CL_SUCCESS else {
            clReleaseProgram(program)
            return nil
        }
        return program
    }

    private static func buildFromSource(_ source: String, context: cl_context, device: OpenCLDeviceInfo,
                                        options: String) throws -> cl_program {
        var status: cl_int = 0
        let program: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = strlen(text)
            return clCreateProgramWithSource(context, 1, &pointer, &length, &status)
        }
        guard let program else { throw DeviceError.openCL(call: "clCreateProgramWithSource", code: status) }
        var deviceID: cl_device_id? = device.id
        status = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        if status != CL_SUCCESS {
            let log = buildLog(program, device.id)
            clReleaseProgram(program)
            throw DeviceError.buildFailed(device: device.name, code: status, log: log)
        }
        return program
    }

    private static func buildLog(_ program: cl_program, _ device: cl_device_id) -> String {
        var size = 0
        clGetProgramBuildInfo(program, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
        guard size > 0 else { return "(no build log)" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        clGetProgramBuildInfo(program, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &bytes, nil)
        let log = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return log.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Process-wide devices

    nonisolated(unsafe) private static var opened: [String: OpenCLDevice] = [:]
    private static let openedLock = NSLock()

    /// The device for `info`, opened (and its program built) once per process; `notice` as
    /// in `init`.
    public static func shared(_ info: OpenCLDeviceInfo, notice: (String) -> Void = { _ in }) throws -> OpenCLDevice {
        openedLock.lock()
        defer { openedLock.unlock() }
        if let device = opened[info.selector] { return device }
        let device = try OpenCLDevice(info: info, notice: notice)
        opened[info.selector] = device
        return device
    }

    // MARK: Memory

    public func makeBuffer(count: Int, type: ElementType) throws -> Buffer {
        guard count > 0 else { throw DeviceError.zeroSizeAllocation }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, bytes <= info.maxAllocation, count <= Int(Int32.max) else {
            throw DeviceError.allocationTooLarge(bytes: overflow ? Int.max : bytes,
                                                 limit: min(info.maxAllocation, Int(Int32.max) * 4), device: name)
        }
        var status: cl_int = 0
        guard let mem = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status) else {
            throw memoryError(status, "clCreateBuffer", bytes)
        }
        let buffer = Buffer(count: count, type: type, storage: CLMemory(mem))
        if wholeBufferHostStores {
            try [UInt8](repeating: 0, count: bytes).withUnsafeBytes { try write($0, to: buffer, at: 0) }
            return buffer
        }
        var zero: UInt32 = 0
        try withLock {
            try check(clEnqueueFillBuffer(queue, mem, &zero, 4, 0, bytes, 0, nil, nil), "clEnqueueFillBuffer", bytes)
        }
        return buffer
    }

    public func write(_ values: UnsafeRawBufferPointer, to buffer: Buffer, at offset: Int) throws {
        let count = values.count / buffer.type.size
        try buffer.checkRange(offset, count, "write")
        guard count > 0, let base = values.baseAddress else { return }
        if wholeBufferHostStores && count != buffer.count {
            return try writeWhole(values, to: buffer, at: offset)
        }
        let mem = try memory(buffer, "write")
        counterBox.transfer()
        try withLock {
            try check(clEnqueueWriteBuffer(queue, mem, cl_bool(CL_TRUE), offset * buffer.type.size,
                                           count * buffer.type.size, base, 0, nil, nil), "clEnqueueWriteBuffer")
        }
    }

    /// Waits for the queue, reads, then throws the failure a kernel recorded since the host last
    /// waited (a bad gatherRows index or norms segment), if any, once.
    public func read(_ buffer: Buffer, at offset: Int, count: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        try read(buffer, at: offset, count: count, into: destination, checkingFailures: true)
    }

    private func read(_ buffer: Buffer, at offset: Int, count: Int, into destination: UnsafeMutableRawBufferPointer,
                      checkingFailures: Bool) throws {
        try buffer.checkRange(offset, count, "read")
        guard destination.count >= count * buffer.type.size else {
            throw DeviceError.invalidArgument("read: destination holds \(destination.count) bytes, \(count * buffer.type.size) needed")
        }
        guard count > 0, let base = destination.baseAddress else { return }
        let mem = try memory(buffer, "read")
        counterBox.transfer()
        let failure: DeviceError? = try withLock {
            try check(clEnqueueReadBuffer(queue, mem, cl_bool(CL_TRUE), offset * buffer.type.size,
                                          count * buffer.type.size, base, 0, nil, nil), "clEnqueueReadBuffer")
            return checkingFailures ? try takeFailureLocked() : nil
        }
        if let failure { throw failure }
    }

    /// The recorded failure, cleared (nil without one, and without a read when no recording
    /// kernel was enqueued since the last look). Call with the lock held, after the queue drained.
    /// The record's read is not counted as a transfer: it rides on a wait the host already made.
    private func takeFailureLocked() throws -> DeviceError? {
        guard failurePending else { return nil }
        failurePending = false
        let mem = try memory(failureRecord, "failure record")
        let bytes = KernelFailure.length * 4
        var record = [Int32](repeating: 0, count: KernelFailure.length)
        try check(clEnqueueReadBuffer(queue, mem, cl_bool(CL_TRUE), 0, bytes, &record, 0, nil, nil), "clEnqueueReadBuffer")
        guard record[0] != 0 else { return nil }
        var zero = [Int32](repeating: 0, count: KernelFailure.length)
        try check(clEnqueueWriteBuffer(queue, mem, cl_bool(CL_TRUE), 0, bytes, &zero, 0, nil, nil), "clEnqueueWriteBuffer")
        return KernelFailure.error(record)
    }

    public func copy(_ source: Buffer, at sourceOffset: Int, to destination: Buffer, at destinationOffset: Int, count: Int) throws {
        try source.checkRange(sourceOffset, count, "copy source")
        try destination.checkRange(destinationOffset, count, "copy destination")
        try destination.checkType(source.type, "copy")
        guard count > 0 else { return }
        if wholeBufferHostStores {
            var staged = [UInt8](repeating: 0, count: count * source.type.size)
            try staged.withUnsafeMutableBytes {
                try read(source, at: sourceOffset, count: count, into: $0, checkingFailures: false)
            }
            return try staged.withUnsafeBytes { try write($0, to: destination, at: destinationOffset) }
        }
        let (src, dst) = (try memory(source, "copy"), try memory(destination, "copy"))
        let size = source.type.size
        try withLock {
            try check(clEnqueueCopyBuffer(queue, src, dst, sourceOffset * size, destinationOffset * size,
                                          count * size, 0, nil, nil), "clEnqueueCopyBuffer")
        }
    }

    /// A write into part of `buffer` as one whole-buffer store: read it all, patch, write it all.
    private func writeWhole(_ values: UnsafeRawBufferPointer, to buffer: Buffer, at offset: Int) throws {
        var whole = [UInt8](repeating: 0, count: buffer.byteCount)
        try whole.withUnsafeMutableBytes { try read(buffer, at: 0, count: buffer.count, into: $0, checkingFailures: false) }
        whole.replaceSubrange(offset * buffer.type.size ..< offset * buffer.type.size + values.count, with: values)
        try whole.withUnsafeBytes { try write($0, to: buffer, at: 0) }
    }

    public func fill(_ buffer: Buffer, at offset: Int, count: Int, with value: Float) throws {
        try launch1D("fill_float", count: count, [.floats(buffer, offset, count), .int(offset), .int(count), .float(value)])
    }

    /// Waits for the queue, then throws a recorded failure as `read` does.
    public func synchronize() throws {
        let failure: DeviceError? = try withLock {
            try check(clFinish(queue), "clFinish")
            return try takeFailureLocked()
        }
        if let failure { throw failure }
    }

    // MARK: Launching

    /// A kernel argument. `floats`/`ints` also carry the range the kernel touches, checked first;
    /// `failureRecord` is the device's failure record (KernelFailure), looked at when the host next waits.
    enum Argument {
        case floats(Buffer, Int, Int)
        case ints(Buffer, Int, Int)
        case failureRecord
        case int(Int)
        case float(Float)
        case bool(Bool)
    }

    /// Sets the arguments and enqueues `name` over `global` items in groups of `local`
    /// (global is padded up to a multiple of local). Does not wait.
    func launch(_ name: String, global: [Int], local: [Int], _ arguments: [Argument]) throws {
        /// An argument's value as clSetKernelArg takes it.
        enum Value { case mem(cl_mem), int32(Int32), float(Float) }
        let values: [Value] = try arguments.map { argument in
            switch argument {
            case let .floats(buffer, offset, count), let .ints(buffer, offset, count):
                if case .ints = argument { try buffer.checkType(.int32, name) } else { try buffer.checkType(.float32, name) }
                try buffer.checkRange(offset, count, name)
                return .mem(try memory(buffer, name))
            case let .int(value):
                guard let v = Int32(exactly: value) else {
                    throw DeviceError.invalidArgument("\(name): \(value) does not fit a 32-bit kernel argument")
                }
                return .int32(v)
            case let .float(value): return .float(value)
            case let .bool(value): return .int32(value ? 1 : 0)
            case .failureRecord: return .mem(try memory(failureRecord, name))
            }
        }
        let records = arguments.contains { if case .failureRecord = $0 { true } else { false } }
        if global.contains(0) { return }
        let padded = zip(global, local).map { g, l in (g + l - 1) / l * l }
        counterBox.launch()
        try withLock {
            let kernel = try kernelLocked(name)
            for (index, value) in values.enumerated() {
                let status: cl_int
                switch value {
                case var .mem(mem): status = clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, &mem)
                case var .int32(i): status = clSetKernelArg(kernel, cl_uint(index), 4, &i)
                case var .float(f): status = clSetKernelArg(kernel, cl_uint(index), 4, &f)
                }
                try clCheck(status, "clSetKernelArg(\(name), \(index))")
            }
            try check(clEnqueueNDRangeKernel(queue, kernel, cl_uint(padded.count), nil, padded, local, 0, nil, nil),
                      "clEnqueueNDRangeKernel(\(name))")
            if records { failurePending = true }
        }
    }

    func launch1D(_ name: String, count: Int, _ arguments: [Argument]) throws {
        try launch(name, global: [count], local: [try limits(name).fit(tuning.elementwiseLocal)], arguments)
    }

    /// `name`'s work-group limits on this device (queried once).
    func limits(_ name: String) throws -> KernelLimits {
        try withLock {
            if let known = limits[name] { return known }
            let found = Self.kernelLimits(try kernelLocked(name), info)
            limits[name] = found
            return found
        }
    }

    private func kernelLocked(_ name: String) throws -> cl_kernel {
        if let kernel = kernels[name] { return kernel }
        var status: cl_int = 0
        guard let kernel = clCreateKernel(program, name, &status) else {
            throw DeviceError.openCL(call: "clCreateKernel(\(name))", code: status)
        }
        kernels[name] = kernel
        return kernel
    }

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func memory(_ buffer: Buffer, _ what: String) throws -> cl_mem {
        guard let storage = buffer.storage as? CLMemory else { throw DeviceError.foreignBuffer(what: what) }
        return storage.mem
    }

    private func check(_ status: cl_int, _ call: String, _ bytes: Int = 0) throws {
        guard status != CL_SUCCESS else { return }
        throw memoryError(status, call, bytes)
    }

    private func memoryError(_ status: cl_int, _ call: String, _ bytes: Int) -> DeviceError {
        if status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_HOST_MEMORY || status == CL_OUT_OF_RESOURCES,
           bytes > 0 {
            return .outOfMemory(bytes: bytes, device: name)
        }
        return .openCL(call: call, code: status)
    }

    var partialsBuffer: Buffer { partials }
}

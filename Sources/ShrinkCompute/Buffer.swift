/// The element type of a device buffer.
public enum ElementType: Sendable {
    case float32
    case int32

    public var size: Int { 4 }
}

/// A device-resident array. Its contents are reached only through its `Device`
/// (`write`, `read` and the kernels); the memory is released with the last reference.
public final class Buffer: @unchecked Sendable {
    public let count: Int
    public let type: ElementType
    /// The device-specific storage (host memory for `CPUDevice`, a `cl_mem` for `OpenCLDevice`).
    let storage: AnyObject

    init(count: Int, type: ElementType, storage: AnyObject) {
        self.count = count
        self.type = type
        self.storage = storage
    }

    public var byteCount: Int { count * type.size }

    /// Throws unless elements offset..<offset+length lie inside the buffer.
    func checkRange(_ offset: Int, _ length: Int, _ what: String) throws {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw DeviceError.outOfBounds(what: what, offset: offset, count: length, bufferCount: count)
        }
    }

    func checkType(_ expected: ElementType, _ what: String) throws {
        guard type == expected else { throw DeviceError.wrongElementType(what: what, expected: expected, actual: type) }
    }
}

extension Device {
    /// A buffer holding `values`.
    public func makeBuffer(_ values: [Float]) throws -> Buffer {
        let buffer = try makeBuffer(count: values.count, type: .float32)
        try values.withUnsafeBytes { try write($0, to: buffer, at: 0) }
        return buffer
    }

    /// An int32 buffer holding `values`.
    public func makeBuffer(_ values: [Int32]) throws -> Buffer {
        let buffer = try makeBuffer(count: values.count, type: .int32)
        try values.withUnsafeBytes { try write($0, to: buffer, at: 0) }
        return buffer
    }

    public func makeBuffer(count: Int) throws -> Buffer { try makeBuffer(count: count, type: .float32) }

    public func write(_ values: [Float], to buffer: Buffer, at offset: Int = 0) throws {
        try values.withUnsafeBytes { try write($0, to: buffer, at: offset) }
    }

    public func write(_ values: [Int32], to buffer: Buffer, at offset: Int = 0) throws {
        try values.withUnsafeBytes { try write($0, to: buffer, at: offset) }
    }

    /// The float contents of `buffer[offset..<offset+count]` (waits for queued work).
    public func read(_ buffer: Buffer, at offset: Int = 0, count: Int? = nil) throws -> [Float] {
        let n = count ?? (buffer.count - offset)
        try buffer.checkType(.float32, "read")
        try buffer.checkRange(offset, n, "read")
        return try [Float](unsafeUninitializedCapacity: n) { out, initialized in
            try read(buffer, at: offset, count: n, into: UnsafeMutableRawBufferPointer(out))
            initialized = n
        }
    }

    /// N(x[offset..<offset+count]) read back to the host. On the CPU the reduction runs in
    /// Double; on OpenCL it is the device's two-stage compensated float result.
    public func norm(_ kind: NormKind, of x: Buffer, at offset: Int = 0, count: Int? = nil) throws -> Float {
        let result = try makeBuffer(count: 1)
        try norm(kind, of: x, at: offset, count: count ?? (x.count - offset), into: result, at: 0,
                 scale: 1, accumulate: false)
        return try read(result)[0]
    }

    public func matmul(_ shape: MatmulShape, alpha: Float = 1, a: Buffer, b: Buffer, beta: Float = 0, c: Buffer) throws {
        try matmul(shape, alpha: alpha, a: a, at: 0, b: b, at: 0, beta: beta, c: c, at: 0)
    }
}

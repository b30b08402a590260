/// Errors of the compute layer. Each description is one line that says what failed
/// and, where it helps, what to do next.
public enum DeviceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An OpenCL call returned an error code.
    case openCL(call: String, code: Int32)
    /// The kernel program failed to build; `log` is the compiler's build log.
    case buildFailed(device: String, code: Int32, log: String)
    /// No OpenCL platform is installed or visible to the ICD loader.
    case noOpenCLPlatform
    /// `opencl:P:D` named a platform or device that does not exist.
    case deviceNotFound(platform: Int, device: Int, available: String)
    /// An allocation of zero elements (OpenCL rejects those).
    case zeroSizeAllocation
    /// An allocation larger than the device can hold.
    case allocationTooLarge(bytes: Int, limit: Int, device: String)
    /// The device ran out of memory while allocating or running.
    case outOfMemory(bytes: Int, device: String)
    /// A range outside a buffer.
    case outOfBounds(what: String, offset: Int, count: Int, bufferCount: Int)
    /// A buffer of the wrong element type.
    case wrongElementType(what: String, expected: ElementType, actual: ElementType)
    /// A buffer made by another device.
    case foreignBuffer(what: String)
    /// An argument outside its domain.
    case invalidArgument(String)
    /// A device selection string that is not cpu | gpu | auto | opencl:P:D.
    case invalidSelection(String)

    public var description: String {
        switch self {
        case let .openCL(call, code):
            return "\(call) failed: \(openCLErrorName(code)) (\(code))"
        case let .buildFailed(device, code, log):
            return "OpenCL program build failed on \(device): \(openCLErrorName(code)) (\(code)); build log:\n\(log)"
        case .noOpenCLPlatform:
            return "no OpenCL platform found (install pocl-opencl-icd or a GPU driver's ICD)"
        case let .deviceNotFound(platform, device, available):
            return "no OpenCL device opencl:\(platform):\(device); available: \(available.isEmpty ? "none" : available)"
        case .zeroSizeAllocation:
            return "cannot allocate a buffer of zero elements"
        case let .allocationTooLarge(bytes, limit, device):
            return "cannot allocate \(bytes) bytes on \(device): the limit is \(limit) bytes"
        case let .outOfMemory(bytes, device):
            return "out of memory allocating \(bytes) bytes on \(device)"
        case let .outOfBounds(what, offset, count, bufferCount):
            return "\(what): elements \(offset)..<\(offset + count) lie outside a buffer of \(bufferCount)"
        case let .wrongElementType(what, expected, actual):
            return "\(what): expected a \(expected) buffer, got \(actual)"
        case let .foreignBuffer(what):
            return "\(what): the buffer belongs to another device"
        case let .invalidArgument(message):
            return message
        case let .invalidSelection(text):
            return "unknown device '\(text)': expected cpu, gpu, auto or opencl:P:D"
        }
    }
}

import Foundation

/// Which device to run on: `cpu`, `gpu` (= `auto`), or exactly `opencl:P:D`.
///
/// `gpu` is PyTorch's `use_gpu and torch.cuda.is_available()`, done properly: the first
/// OpenCL device of type GPU; else the first OpenCL device of any type, with a notice;
/// else the CPU, with a notice.
public enum DeviceSelection: Sendable, Hashable, CustomStringConvertible {
    case cpu
    case gpu
    case auto
    case opencl(platform: Int, device: Int)

    /// The environment variable that supplies a default selection.
    public static let environmentKey = "SHRINK_DEVICE"

    /// Parses `cpu | gpu | auto | opencl:P:D`.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        switch lower {
        case "cpu": self = .cpu
        case "gpu": self = .gpu
        case "auto": self = .auto
        default:
            let parts = lower.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "opencl", parts[1...].allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let p = Int(parts[1]), let d = Int(parts[2]) else {
                throw DeviceError.invalidSelection(text)
            }
            self = .opencl(platform: p, device: d)
        }
    }

    /// `SHRINK_DEVICE` if set, else `fallback`.
    public static func fromEnvironment(default fallback: DeviceSelection = .cpu) throws -> DeviceSelection {
        guard let text = ProcessInfo.processInfo.environment[environmentKey], !text.isEmpty else { return fallback }
        return try DeviceSelection(parsing: text)
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .gpu: return "gpu"
        case .auto: return "auto"
        case let .opencl(p, d): return "opencl:\(p):\(d)"
        }
    }

    /// What `gpu` picks from `devices`: a GPU-type device first, else the first device.
    public static func preferredOpenCLDevice(_ devices: [OpenCLDeviceInfo]) -> OpenCLDeviceInfo? {
        preferredOpenCLDevice(devices, localRank: 0)
    }

    /// The GPU a process with this local rank takes (one per GPU, round robin: the processes
    /// of an MPI job on a node with several GPUs share them out), else the first device.
    public static func preferredOpenCLDevice(_ devices: [OpenCLDeviceInfo], localRank: Int) -> OpenCLDeviceInfo? {
        let gpus = devices.filter { $0.type == .gpu }
        return gpus.isEmpty ? devices.first : gpus[localRank % gpus.count]
    }

    /// Opens the selected device. `notice` receives the one-line fallback notices and, when
    /// the kernel cache misses, the one before the compile pause.
    /// `localRank`: this process's rank on its node under MPI (`gpu`/`auto` take GPU
    /// localRank mod the GPU count; `opencl:P:D` stays exact).
    public func makeDevice(localRank: Int = 0,
                           notice: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> any Device {
        switch self {
        case .cpu:
            return CPUDevice()
        case .gpu, .auto:
            let devices: [OpenCLDeviceInfo]
            do { devices = try OpenCL.devices() } catch { devices = [] }
            guard let chosen = Self.preferredOpenCLDevice(devices, localRank: localRank) else {
                notice("no OpenCL device found, falling back to CPU")
                return CPUDevice()
            }
            if chosen.type != .gpu {
                notice("no OpenCL GPU found, using \(chosen.selector) \(chosen.name) [\(chosen.type.rawValue)]")
            }
            return try OpenCLDevice.shared(chosen, notice: notice)
        case let .opencl(p, d):
            let devices: [OpenCLDeviceInfo]
            do { devices = try OpenCL.devices() } catch DeviceError.noOpenCLPlatform {
                throw DeviceError.deviceNotFound(platform: p, device: d, available: "")
            }
            guard let info = devices.first(where: { $0.platformIndex == p && $0.deviceIndex == d }) else {
                throw DeviceError.deviceNotFound(platform: p, device: d,
                                                 available: devices.map(\.selector).joined(separator: ", "))
            }
            return try OpenCLDevice.shared(info, notice: notice)
        }
    }
}

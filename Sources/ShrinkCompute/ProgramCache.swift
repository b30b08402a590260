import COpenCL
import Foundation

/// Compiled OpenCL program binaries on disk, keyed by device name, driver version, source
/// hash and build options. PoCL keeps its own cache; GPU drivers may not, and a program
/// loaded from its binary skips the front-end compile.
///
/// Folder: `$SHRINK_CACHE_DIR`, else `$XDG_CACHE_HOME/shrink`, else `~/.cache/shrink`.
/// Every failure (unwritable folder, corrupt file) silently falls back to a source build.
struct ProgramCache {
    let folder: URL

    static let environmentKey = "SHRINK_CACHE_DIR"

    static var standard: ProgramCache? {
        let env = ProcessInfo.processInfo.environment
        if let dir = env[environmentKey], !dir.isEmpty { return ProgramCache(folder: URL(fileURLWithPath: dir)) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty {
            return ProgramCache(folder: URL(fileURLWithPath: xdg).appendingPathComponent("shrink"))
        }
        guard let home = env["HOME"], !home.isEmpty else { return nil }
        return ProgramCache(folder: URL(fileURLWithPath: home).appendingPathComponent(".cache/shrink"))
    }

    /// The file for this device, driver, source and options.
    func url(device: OpenCLDeviceInfo, source: String, options: String) -> URL {
        let key = [device.platformName, device.name, device.version, device.driverVersion, options, source]
            .joined(separator: "\u{1F}")
        let hash = String(Self.fnv1a(Array(key.utf8)), radix: 16)
        return folder.appendingPathComponent("program-\(hash).bin")
    }

    /// The stored binary, if any.
    func load(_ url: URL) -> [UInt8]? {
        guard let data = try? Data(contentsOf: url), !data.isEmpty else { return nil }
        return [UInt8](data)
    }

    /// Stores the program's binary for its single device (atomically; errors ignored).
    func store(_ program: cl_program, at url: URL) {
        var size = 0
        guard clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
            == CL_SUCCESS, size > 0 else { return }
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBufferPointer { buffer -> cl_int in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARIES),
                                    MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &pointer, nil)
        }
        guard status == CL_SUCCESS else { return }
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try? Data(bytes).write(to: url, options: .atomic)
    }

    /// 64-bit FNV-1a: a stable hash (Swift's Hasher is seeded per process).
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}

import COpenCL

/// The type of an OpenCL device, as CL_DEVICE_TYPE reports it.
public enum OpenCLDeviceType: String, Sendable {
    case gpu, cpu, accelerator, other
}

/// One OpenCL device as the ICD loader lists it: where it is (`opencl:P:D`) and what it is.
public struct OpenCLDeviceInfo: Sendable, CustomStringConvertible {
    public let platformIndex: Int
    public let deviceIndex: Int
    public let platformName: String
    public let name: String
    public let vendor: String
    public let type: OpenCLDeviceType
    /// CL_DEVICE_VERSION, e.g. "OpenCL 3.0 PoCL ..."
    public let version: String
    public let driverVersion: String
    public let computeUnits: Int
    public let globalMemory: Int
    public let maxAllocation: Int
    public let maxWorkGroupSize: Int
    nonisolated(unsafe) let id: cl_device_id
    nonisolated(unsafe) let platform: cl_platform_id
    /// CL_DEVICE_LOCAL_MEM_SIZE in bytes (OpenCL 1.2 guarantees 32 KiB).
    public var localMemory: Int = 32 * 1024
    /// CL_DEVICE_SINGLE_FP_CONFIG has CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT, so the program may be
    /// built with -cl-fp32-correctly-rounded-divide-sqrt.
    public var correctlyRoundedDivideSqrt = false

    public var selector: String { "opencl:\(platformIndex):\(deviceIndex)" }

    /// The OpenCL major.minor version the device reports (1.2 when unparsable).
    public var versionNumber: (major: Int, minor: Int) {
        let parts = version.split(separator: " ")
        guard parts.count > 1 else { return (1, 2) }
        let numbers = parts[1].split(separator: ".").compactMap { Int($0) }
        return numbers.count >= 2 ? (numbers[0], numbers[1]) : (1, 2)
    }

    public var description: String {
        "\(selector)  \(name) [\(type.rawValue)]  \(version)  \(computeUnits) compute units  " +
            "\(globalMemory >> 20) MiB  (platform: \(platformName))"
    }
}

/// Enumeration of OpenCL platforms and devices through the ICD loader.
public enum OpenCL {
    /// Every device of every platform, in platform then device order.
    /// Throws `DeviceError.noOpenCLPlatform` when the loader finds no platform.
    public static func devices() throws -> [OpenCLDeviceInfo] {
        var platformCount: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &platformCount)
        if status == -1001 || platformCount == 0 { throw DeviceError.noOpenCLPlatform }
        try clCheck(status, "clGetPlatformIDs")
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        try clCheck(clGetPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs")
        var result: [OpenCLDeviceInfo] = []
        for (p, platform) in platforms.enumerated() {
            guard let platform else { continue }
            let platformName = (try? platformString(platform, cl_platform_info(CL_PLATFORM_NAME))) ?? "unknown"
            var deviceCount: cl_uint = 0
            let found = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
            if found == CL_DEVICE_NOT_FOUND || deviceCount == 0 { continue }
            try clCheck(found, "clGetDeviceIDs")
            var ids = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            try clCheck(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &ids, nil), "clGetDeviceIDs")
            for (d, id) in ids.enumerated() {
                guard let id else { continue }
                result.append(try info(id, platform: platform, platformName: platformName, p: p, d: d))
            }
        }
        return result
    }

    private static func info(_ id: cl_device_id, platform: cl_platform_id, platformName: String,
                             p: Int, d: Int) throws -> OpenCLDeviceInfo {
        let rawType: cl_device_type = try deviceValue(id, CL_DEVICE_TYPE)
        let type: OpenCLDeviceType =
            rawType & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
            : rawType & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu
            : rawType & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator : .other
        let units: cl_uint = try deviceValue(id, CL_DEVICE_MAX_COMPUTE_UNITS)
        let memory: cl_ulong = try deviceValue(id, CL_DEVICE_GLOBAL_MEM_SIZE)
        let maxAlloc: cl_ulong = try deviceValue(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE)
        let maxGroup: Int = try deviceValue(id, CL_DEVICE_MAX_WORK_GROUP_SIZE)
        let localMemory: cl_ulong = try deviceValue(id, CL_DEVICE_LOCAL_MEM_SIZE)
        let fpConfig: cl_device_fp_config = try deviceValue(id, CL_DEVICE_SINGLE_FP_CONFIG)
        return OpenCLDeviceInfo(
            platformIndex: p, deviceIndex: d, platformName: platformName,
            name: try deviceString(id, CL_DEVICE_NAME), vendor: try deviceString(id, CL_DEVICE_VENDOR),
            type: type, version: try deviceString(id, CL_DEVICE_VERSION),
            driverVersion: try deviceString(id, CL_DRIVER_VERSION), computeUnits: Int(units),
            globalMemory: Int(clamping: memory), maxAllocation: Int(clamping: maxAlloc),
            maxWorkGroupSize: maxGroup, id: id, platform: platform, localMemory: Int(clamping: localMemory),
            correctlyRoundedDivideSqrt: fpConfig & cl_device_fp_config(CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0)
    }

    private static func platformString(_ id: cl_platform_id, _ param: cl_platform_info) throws -> String {
        var size = 0
        try clCheck(clGetPlatformInfo(id, param, 0, nil, &size), "clGetPlatformInfo")
        var bytes = [CChar](repeating: 0, count: size + 1)
        try clCheck(clGetPlatformInfo(id, param, size, &bytes, nil), "clGetPlatformInfo")
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func deviceString(_ id: cl_device_id, _ param: Int32) throws -> String {
        var size = 0
        try clCheck(clGetDeviceInfo(id, cl_device_info(param), 0, nil, &size), "clGetDeviceInfo")
        var bytes = [CChar](repeating: 0, count: size + 1)
        try clCheck(clGetDeviceInfo(id, cl_device_info(param), size, &bytes, nil), "clGetDeviceInfo")
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces)
    }

    static func deviceValue<T: FixedWidthInteger>(_ id: cl_device_id, _ param: Int32) throws -> T {
        var value: T = 0
        try clCheck(clGetDeviceInfo(id, cl_device_info(param), MemoryLayout<T>.size, &value, nil), "clGetDeviceInfo")
        return value
    }
}

import Foundation

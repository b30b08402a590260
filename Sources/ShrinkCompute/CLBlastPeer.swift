import COpenCL
import Foundation

/// CLBlast's SGEMM, loaded at run time (`dlopen`) when `libclblast` is installed, so it is a
/// benchmark peer and never a build dependency. It runs on the same device and queue.
public enum CLBlastPeer {
    private typealias Sgemm = @convention(c) (
        Int32, Int32, Int32, Int, Int, Int, Float,
        cl_mem?, Int, Int, cl_mem?, Int, Int, Float, cl_mem?, Int, Int,
        UnsafeMutablePointer<cl_command_queue?>?, UnsafeMutablePointer<cl_event?>?) -> Int32

    private static let sgemm: Sgemm? = {
        for name in ["libclblast.so.1", "libclblast.so"] {
            if let handle = dlopen(name, RTLD_NOW), let symbol = dlsym(handle, "CLBlastSgemm") {
                return unsafeBitCast(symbol, to: Sgemm.self)
            }
        }
        return nil
    }()

    public static var isAvailable: Bool { sgemm != nil }

    /// µs per CLBlastSgemm call for `shape` on `device` (best of three rounds of `repeats`
    /// after one warm-up call, which builds CLBlast's kernels), or nil without libclblast.
    public static func microseconds(_ shape: MatmulShape, on device: OpenCLDevice, repeats: Int) throws -> Double? {
        guard let sgemm else { return nil }
        let a = try device.makeBuffer(count: shape.m * shape.k), b = try device.makeBuffer(count: shape.k * shape.n)
        let c = try device.makeBuffer(count: shape.m * shape.n)
        let (ma, mb, mc) = (try device.memory(a, "clblast"), try device.memory(b, "clblast"), try device.memory(c, "clblast"))
        var queue: cl_command_queue? = device.queue
        func call() throws {
            let status = sgemm(101, shape.transposeA ? 112 : 111, shape.transposeB ? 112 : 111, shape.m, shape.n, shape.k, 1,
                               ma, 0, shape.lda, mb, 0, shape.ldb, 0, mc, 0, shape.ldc, &queue, nil)
            guard status == 0 else { throw DeviceError.invalidArgument("CLBlastSgemm failed with status \(status)") }
        }
        try device.synchronize()
        try call()
        try device.synchronize()
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { try call() }
            try device.synchronize()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(repeats))
        }
        return best
    }
}

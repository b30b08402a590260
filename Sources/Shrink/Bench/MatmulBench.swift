import CBLAS
import Foundation

/// One GEMM shape timed on a device, with OpenBLAS (called directly) as the CPU peer.
public struct MatmulBenchResult: Sendable {
    public let shape: MatmulShape
    public let device: String
    public let microseconds: Double
    public let openBLASMicroseconds: Double
    /// CLBlast on the same OpenCL device, when the device is OpenCL and libclblast is present.
    public let clblastMicroseconds: Double?
    public var gflops: Double { shape.flops / microseconds / 1e3 }
    public var openBLASGflops: Double { shape.flops / openBLASMicroseconds / 1e3 }
}

public enum MatmulBench {
    /// Times C = A·B (shape as given) on `device`: one warm-up call (kernel specialization),
    /// then `repeats` calls between two synchronizations, best of three such rounds.
    public static func run(_ shape: MatmulShape, on device: any Device, repeats: Int) throws -> MatmulBenchResult {
        let a = try device.makeBuffer((0..<(shape.m * shape.k)).map { Float($0 % 7) * 0.1 })
        let b = try device.makeBuffer((0..<(shape.k * shape.n)).map { Float($0 % 5) * 0.1 })
        let c = try device.makeBuffer(count: shape.m * shape.n)
        try device.matmul(shape, a: a, b: b, c: c)
        try device.synchronize()
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { try device.matmul(shape, a: a, b: b, c: c) }
            try device.synchronize()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(repeats))
        }
        let clblast = try (device as? OpenCLDevice).flatMap { try CLBlastPeer.microseconds(shape, on: $0, repeats: repeats) }
        return MatmulBenchResult(shape: shape, device: device.name, microseconds: best,
                                 openBLASMicroseconds: openBLAS(shape, repeats: repeats), clblastMicroseconds: clblast)
    }

    /// cblas_sgemm on host arrays, the same shape and transposes.
    static func openBLAS(_ s: MatmulShape, repeats: Int) -> Double {
        let a = [Float](repeating: 0.5, count: s.m * s.k), b = [Float](repeating: 0.25, count: s.k * s.n)
        var c = [Float](repeating: 0, count: s.m * s.n)
        func call() {
            cblas_sgemm(CblasRowMajor, s.transposeA ? CblasTrans : CblasNoTrans, s.transposeB ? CblasTrans : CblasNoTrans,
                        Int32(s.m), Int32(s.n), Int32(s.k), 1, a, Int32(s.lda), b, Int32(s.ldb), 0, &c, Int32(s.ldc))
        }
        call()
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { call() }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(repeats))
        }
        return best
    }
}

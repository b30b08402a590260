import ArgumentParser
import Foundation
import Shrink

/// `shrink bench matmul`: GFLOP/s and µs per call on a device, next to OpenBLAS in the same run.
struct MatmulBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul", abstract: "Time C = op(A)·op(B) on a device against OpenBLAS.")

    @Option var m: Int
    @Option var n: Int
    @Option var k: Int
    @Flag(help: "A is stored transposed (k×m).") var transposeA = false
    @Flag(help: "B is stored transposed (n×k).") var transposeB = false
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(name: .customLong("repeat"), help: "Calls per timed round.") var repeats: Int = 20
    @Flag(help: "One JSON object.") var json = false

    func validate() throws {
        guard m > 0, n > 0, k > 0 else { throw ValidationError("--m, --n and --k must be > 0") }
        guard repeats > 0 else { throw ValidationError("--repeat must be > 0") }
    }

    func run() throws {
        try reportingErrors {
            let device = try deviceOptions.open()
            let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
            let r = try MatmulBench.run(shape, on: device, repeats: repeats)
            let clblast = r.clblastMicroseconds
            if json {
                var fields = ["\"m\":\(m)", "\"n\":\(n)", "\"k\":\(k)", "\"device\":\"\(r.device)\"",
                              "\"us\":\(r.microseconds)", "\"gflops\":\(r.gflops)", "\"openblas_us\":\(r.openBLASMicroseconds)",
                              "\"openblas_gflops\":\(r.openBLASGflops)", "\"ratio_to_openblas\":\(r.gflops / r.openBLASGflops)"]
                if let clblast { fields += ["\"clblast_us\":\(clblast)", "\"ratio_to_clblast\":\(clblast / r.microseconds)"] }
                print("{" + fields.joined(separator: ",") + "}")
            } else {
                var line = String(format: "%@ %@: %9.1f µs %7.1f GFLOP/s | OpenBLAS %9.1f µs %7.1f GFLOP/s → %.2f×",
                                  device.name, shape.description, r.microseconds, r.gflops, r.openBLASMicroseconds,
                                  r.openBLASGflops, r.gflops / r.openBLASGflops)
                if let clblast {
                    line += String(format: " | CLBlast %9.1f µs %7.1f GFLOP/s → %.2f×", clblast,
                                   shape.flops / clblast / 1e3, clblast / r.microseconds)
                } else if device.kind == .opencl {
                    line += " | CLBlast: libclblast not found"
                }
                print(line)
            }
        }
    }
}

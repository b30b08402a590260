import Foundation
@testable import Shrink
import XCTest

/// Timing of the sparse exact solver on a text-like set written by a script (indptr, indices,
/// data, y, ybin .npy in the folder `SHRINK_SPARSE_BENCH`); skipped without it. Prints the
/// L1-logistic fit at α = α_max/20 (α_max/`SHRINK_SPARSE_BENCH_DIVISOR`) and a 50-α Lasso path (α_max down to α_max/100), each with
/// its objective and CPU time, for comparison with the peers' run on the same files.
final class SparseSolverBenchTests: XCTestCase {
    func testSparseSolverSpeed() throws {
        guard let location = ProcessInfo.processInfo.environment["SHRINK_SPARSE_BENCH"] else {
            throw XCTSkip("set SHRINK_SPARSE_BENCH to a folder of CSR .npy files to time the sparse solver")
        }
        let folder = URL(fileURLWithPath: location)
        let file = { (name: String) in folder.appendingPathComponent("\(name).npy") }
        let starts = try NPY.parseIntegers(NPY.readBytes(file("indptr")), path: "indptr").values
        let indices = try NPY.parseIntegers(NPY.readBytes(file("indices")), path: "indices").values.map { Int32($0) }
        let columns = Int(ProcessInfo.processInfo.environment["SHRINK_SPARSE_BENCH_P"] ?? "") ?? Int(indices.max()! + 1)
        let matrix = try SparseMatrix(rows: starts.count - 1, columns: columns, rowStarts: starts, columnIndices: indices,
                                      values: try NPY.read(file("data")).values)
        // SHRINK_SPARSE_BENCH_DEVICE=opencl: the screening pass on the first OpenCL device.
        let opencl = ProcessInfo.processInfo.environment["SHRINK_SPARSE_BENCH_DEVICE"] == "opencl"
        let device: any Device = opencl ? TrainingDevices.all.last! : CPUDevice()
        print("BENCH device \(device.kind)")
        let binary = try Dataset(sparse: matrix, targets: try NPY.read(file("ybin")).values)
        var (clock, cpu) = (Date(), Self.cpuSeconds())
        let logistic = try CoordinateDescentSolver(loss: .bce, data: binary, standardize: false, device: device)
        let divisor = Double(ProcessInfo.processInfo.environment["SHRINK_SPARSE_BENCH_DIVISOR"] ?? "") ?? 20
        let alpha = logistic.gradientAtZero / divisor
        let fit = try logistic.solve(alpha: alpha, l1Ratio: 1)
        print(String(format: "BENCH l1-logistic alpha %.6e: %.3f s (cpu %.3f s), objective %.12e, nnz %d, kkt %.2e, sweeps %d",
                     alpha, Date().timeIntervalSince(clock), Self.cpuSeconds() - cpu, fit.objective, fit.nonzeros, fit.kktViolation, fit.iterations))
        let regression = try Dataset(sparse: matrix, targets: try NPY.read(file("y")).values)
        (clock, cpu) = (Date(), Self.cpuSeconds())
        // The peers' grid: α_max = ‖Xᵀ(y − ȳ)‖∞/n exactly (no 10⁻⁴ margin), 50 log steps to α_max/100.
        let top = KKTCheck.gradientAtZero(regression, loss: .mse)
        let path = try RegularizationPath.compute(loss: .mse, l1Ratio: 1, standardize: false, train: regression,
                                                  validation: nil, epsilon: 0.01, count: 50, folds: 0, seed: 0, device: device,
                                                  alphas: RegularizationPath.grid(alphaMax: top, epsilon: 0.01, count: 50))
        let last = path.points.last!
        print(String(format: "BENCH lasso path 50 alphas: %.3f s (cpu %.3f s), first alpha %.6e, last alpha %.6e objective %.12e nnz %d, misses %d",
                     Date().timeIntervalSince(clock), Self.cpuSeconds() - cpu, path.points[0].alpha, last.alpha, last.solution.objective,
                     last.solution.nonzeros, path.misses.count))
        print("BENCH objectives " + path.points.map { String(format: "%.12e", $0.solution.objective) }.joined(separator: " "))
    }

    /// The process's CPU time (user + system, every thread): the machine is shared, wall time is not ours.
    private static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }
}

import Foundation
import Shrink
import XCTest

/// `shrink bench sparse` at a tiny size with the peers off (no Python needed).
final class SparseBenchCLITests: XCTestCase {
    func testTinyRunPrintsSaneFigures() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try CLI.run(["bench", "sparse", "--rows", "300", "--columns", "400", "--nnz-per-row", "8",
                                  "--n-alphas", "5", "--devices", "cpu", "--no-peers", "--keep", folder.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("data (seed 0"), out)
        XCTAssertTrue(out.contains("300 × 400"), out)
        XCTAssertTrue(out.contains("== L1 logistic at one α = 0.02·α_max"), out)
        XCTAssertTrue(out.contains("== Lasso path: 5 α"), out)
        // One in-process line per workload on the CPU: a positive time, a tiny gap from Shrink's
        // own reference, some non-zeros; the whole command is timed or says why not.
        let lines = out.split(separator: "\n").filter { $0.contains("Shrink cd, cpu (in-process)") }
        XCTAssertEqual(lines.count, 2, out)
        for line in lines {
            let fields = line.split(separator: " ")
            let seconds = try XCTUnwrap(fields.firstIndex(of: "s").map { Double(fields[$0 - 1]) } ?? nil)
            XCTAssertGreaterThan(seconds, 0)
            let gap = try XCTUnwrap(fields.firstIndex(of: "gap").flatMap { Double(fields[$0 + 1]) })
            XCTAssertLessThan(abs(gap), 1e-6, String(line))
            let nonzeros = try XCTUnwrap(fields.firstIndex(of: "nnz").flatMap { Int(fields[$0 + 1]) })
            XCTAssertGreaterThan(nonzeros, 0)
        }
        XCTAssertEqual(out.split(separator: "\n").filter { $0.contains("(whole command)") }.count, 2, out)
        // The files the peers read.
        for name in ["X.npz", "y_logistic.npy", "y_lasso.npy", "alphas_lasso.npy", "shrink_cpu_logistic.npy",
                     "shrink_cpu_lasso.npy", "shrink_lasso_reference.npy"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
    }

    /// The sparse route and the densified copy (--densify) reach the same objectives and coefficients
    /// (n > p, so that the solutions are unique).
    func testSparseAndDensifiedRoutesAgree() throws {
        var objectives: [[Double]] = [], solutions: [[Float]] = []
        for extra in [[], ["--densify"]] {
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let result = try CLI.run(["bench", "sparse", "--rows", "600", "--columns", "60", "--nnz-per-row", "6",
                                      "--n-alphas", "4", "--devices", "cpu", "--no-peers", "--keep", folder.path] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            objectives.append(result.stdout.split(separator: "\n").filter { $0.contains("Shrink's reference") }.compactMap { line in
                let fields = line.split(separator: " ")
                return fields.firstIndex(of: "F").flatMap { Double(fields[$0 + 1].trimmingCharacters(in: .punctuationCharacters)) }
            })
            solutions.append(try NPY.read(folder.appendingPathComponent("shrink_cpu_logistic.npy")).values
                + NPY.read(folder.appendingPathComponent("shrink_cpu_lasso.npy")).values)
        }
        XCTAssertEqual(objectives[0].count, 2)
        for (a, b) in zip(objectives[0], objectives[1]) { XCTAssertEqual(a, b, accuracy: 1e-9 * abs(b)) }
        XCTAssertEqual(solutions[0].count, solutions[1].count)
        for (a, b) in zip(solutions[0], solutions[1]) { XCTAssertEqual(a, b, accuracy: 1e-4 * (1 + abs(b))) }
    }

    func testBadOptionsAreUsageErrors() throws {
        for arguments in [["--workloads", "ridge"], ["--devices", "tpu"], ["--rows", "1"], ["--alpha-fraction", "2"]] {
            let result = try CLI.run(["bench", "sparse", "--no-peers"] + arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
        }
    }
}

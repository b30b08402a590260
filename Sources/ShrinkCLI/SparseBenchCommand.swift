import ArgumentParser
import Foundation
import Shrink

/// `shrink bench sparse`: an L1-logistic fit at one α and a Lasso path on a seeded text-like
/// sparse matrix (`SparseBenchData`), Shrink in-process and as the whole command a user runs,
/// on each device, then the peers (liblinear, scikit-learn, celer, skglm) on the very same
/// matrix, written as a SciPy .npz, by scripts/bench_sparse_peers.py in the same run. Every
/// time has its distance from a tight reference next to it (see the script's equal-accuracy rule).
struct SparseBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse",
        abstract: "Time L1 logistic and a Lasso path on text-like sparse data against liblinear, scikit-learn, celer and skglm.")

    @Option(help: "Rows of the generated data.") var rows: Int = 100_000
    @Option(help: "Columns (the vocabulary).") var columns: Int = 200_000
    @Option(name: .customLong("nnz-per-row"), help: "Mean non-zeros per row.") var nonZerosPerRow: Double = 100
    @Option(help: "Seed of the data.") var seed: UInt64 = 0
    @Option(help: "logistic (an L1-logistic fit at one α), lasso (the Lasso path) or both.")
    var workloads: String = "logistic,lasso"
    @Option(name: .customLong("alpha-fraction"), help: "The logistic fit's α as a fraction of α_max.")
    var alphaFraction: Double = 0.02
    @Option(name: .customLong("n-alphas"), help: "The Lasso path's grid size.") var nAlphas: Int = 50
    @Option(help: "The Lasso path's smallest α as a fraction of α_max.") var eps: Double = 1e-2
    @Option(help: "Shrink's KKT tolerance (relative to ‖∇f(0)‖∞), as fit's and path's --tolerance.")
    var tolerance: Double = 1e-7
    @Option(help: "Shrink devices to time: cpu, gpu or both.") var devices: String = "cpu,gpu"
    @Option(help: "Timed repeats of each Shrink run (the least is reported; the peers take the same).")
    var repeats: Int = 1
    @Flag(inversion: .prefixedNo, help: "Run the Python peers (scripts/bench_sparse_peers.py).") var peers = true
    @Option(help: "The peer script (default: scripts/bench_sparse_peers.py in $SHRINK_SCRIPTS, else in the current folder, the binary's, or a folder above them).")
    var script: String?
    @Option(help: "Keep the generated files (X.npz, y_*.npy, the solutions) in this folder.") var keep: String?
    @Flag(help: "Solve Shrink's side on the densified copy (small sizes: at most 2²⁶ entries).") var densify = false
    @Option(name: .customLong("reference-tolerance"), help: "Shrink's own reference: the same solver on the CPU at this tolerance, untimed.")
    var referenceTolerance: Double = 1e-10

    static let defaultScript = "scripts/bench_sparse_peers.py"

    var workloadList: [String] { workloads.split(separator: ",").map { String($0) } }
    var deviceList: [String] { devices.split(separator: ",").map { String($0) } }

    func validate() throws {
        guard rows > 1, columns > 0, nonZerosPerRow > 0, nAlphas > 0, eps > 0, eps < 1, tolerance > 0, repeats > 0,
              alphaFraction > 0, alphaFraction < 1 else {
            throw ValidationError("need --rows > 1, --columns > 0, --nnz-per-row > 0, --n-alphas > 0, 0 < --eps < 1, " +
                                  "--tolerance > 0, --repeats > 0, 0 < --alpha-fraction < 1")
        }
        guard !workloadList.isEmpty, workloadList.allSatisfy({ ["logistic", "lasso"].contains($0) }) else {
            throw ValidationError("--workloads takes logistic, lasso or both, got '\(workloads)'")
        }
        guard deviceList.allSatisfy({ ["cpu", "gpu"].contains($0) }) else {
            throw ValidationError("--devices takes cpu, gpu or both, got '\(devices)'")
        }
        if densify, rows.multipliedReportingOverflow(by: columns).partialValue > SparseBench.densifyLimit
            || rows.multipliedReportingOverflow(by: columns).overflow {
            throw ValidationError("--densify: \(rows) × \(columns) is over 2²⁶ entries")
        }
        if let keep { try checkOutputFolder("--keep", keep) }
        if let script, !FileManager.default.fileExists(atPath: script) { throw ValidationError("--script \(script) not found") }
    }

    func run() throws {
        try reportingErrors {
            let folder = try workFolder()
            defer { if keep == nil { try? FileManager.default.removeItem(at: folder) } }
            let start = DispatchTime.now().uptimeNanoseconds
            let data = try SparseBenchData.make(rows: rows, columns: columns, nonZerosPerRow: nonZerosPerRow, seed: seed)
            print(String(format: "data (seed %llu, %.1f s): ", seed, seconds(since: start)) + SparseBench.describe(data.features))
            try SciPySparse.write(data.features, to: folder.appendingPathComponent("X.npz"))
            for workload in workloadList {
                try SparseWorkload(name: workload, data: data, command: self, folder: folder).run()
            }
            if let keep { print("files kept in \(keep)") }
        }
    }

    private func workFolder() throws -> URL {
        let url = keep.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("shrink-bench-sparse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// One workload of `bench sparse`: Shrink's runs, then the peers on the same files.
private struct SparseWorkload {
    let name: String
    let command: SparseBenchCommand
    let folder: URL
    let features: SparseMatrix
    let targets: [Float]
    let alphas: [Double]
    /// What Shrink solves: the sparse dataset, or its densified copy while the solvers lack the
    /// sparse route; nil when neither is possible.
    let shrinkData: Dataset?
    let shrinkNote: String?

    var isPath: Bool { name == "lasso" }

    init(name: String, data: SparseBenchData, command: SparseBenchCommand, folder: URL) throws {
        self.name = name
        self.command = command
        self.folder = folder
        features = data.features
        targets = name == "lasso" ? data.regressionTargets : data.labels
        let alphaMax = SparseBench.alphaMax(features, targets: targets)
        alphas = name == "lasso" ? RegularizationPath.grid(alphaMax: alphaMax, epsilon: command.eps, count: command.nAlphas)
            : [Double(String(format: "%.6g", command.alphaFraction * alphaMax))!]  // as printed: a standalone rerun takes it
        let dataset = name == "lasso" ? data.regression : data.classification
        let small = features.rows.multipliedReportingOverflow(by: features.columns).partialValue <= SparseBench.densifyLimit
        if command.densify || (!SparseBench.solversTakeSparseData && small) {
            shrinkData = dataset.densified()
            shrinkNote = "Shrink solves the densified copy" + (command.densify ? " (--densify)" : " (its solvers do not take sparse data on this build)")
        } else if SparseBench.solversTakeSparseData {
            (shrinkData, shrinkNote) = (dataset, nil)
        } else {
            shrinkData = nil
            shrinkNote = "Shrink not run: its solvers do not take sparse data on this build (SparseBench.solversTakeSparseData), " +
                "and \(features.rows) × \(features.columns) is too large to densify"
        }
        try NPY.write(NPYArray(shape: [targets.count], values: targets), to: file("y_\(name).npy"))
        try NPY.write(doubles: alphas, shape: [alphas.count], to: file("alphas_\(name).npy"))
    }

    func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    func run() throws {
        print(isPath
            ? String(format: "== Lasso path: %d α from α_max %.6g to %.4g (ε %g), tolerance %g", alphas.count, alphas[0],
                     alphas[alphas.count - 1], command.eps, command.tolerance)
            : String(format: "== L1 logistic at one α = %g·α_max = %.6g, tolerance %g", command.alphaFraction, alphas[0],
                     command.tolerance))
        var candidates: [String] = [], references: [String] = []
        if let note = shrinkNote { print("   " + note) }
        if let data = shrinkData {
            let (reference, objectives) = try shrinkReference(data)
            references.append("Shrink tol \(Self.format(command.referenceTolerance))=\(file("shrink_\(name)_reference.npy").path)")
            for device in command.deviceList {
                candidates += try timeShrink(data, device: device, reference: reference, objectives: objectives)
            }
        }
        if command.peers { runPeers(candidates: candidates, references: references) }
    }

    /// Shrink at the reference tolerance on the CPU, untimed: its solutions [K][p + 1] and objectives.
    private func shrinkReference(_ data: Dataset) throws -> ([[Double]], [Double]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let solutions = try solve(data, device: CPUDevice(), tolerance: command.referenceTolerance)
        let objectives = self.objectives(solutions)
        try save(solutions, as: "shrink_\(name)_reference.npy")
        print(String(format: "   Shrink's reference: tolerance %g on cpu (%.2f s, untimed), F %.12g, nnz %d",
                     command.referenceTolerance, seconds(since: start), objectives[objectives.count - 1],
                     solutions[solutions.count - 1].dropLast().filter { $0 != 0 }.count))
        return (solutions, objectives)
    }

    /// Times Shrink in-process and as the whole command on `device`; returns the peer script's
    /// --candidate arguments.
    private func timeShrink(_ data: Dataset, device name: String, reference: [[Double]], objectives: [Double]) throws -> [String] {
        let device = try (name == "gpu" ? DeviceSelection.gpu : .cpu).makeDevice(notice: { _ in })
        if name == "gpu", device.kind != .opencl {
            print("   Shrink cd, gpu: no OpenCL device, skipped")
            return []
        }
        if name == "gpu" { print("   gpu: \(device.name)") }
        var best = Double.infinity, solutions: [[Double]] = []
        for _ in 0..<command.repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            solutions = try solve(data, device: device, tolerance: command.tolerance)
            best = min(best, seconds(since: start))
        }
        let gap = zip(self.objectives(solutions), objectives).map { ($0 - $1) / abs($1) }.max() ?? .nan
        let error = zip(solutions, reference).map { SparseBench.relativeError($0.dropLast(), $1.dropLast()) }.max() ?? .nan
        let nonzeros = solutions[solutions.count - 1].dropLast().filter { $0 != 0 }.count
        print(String(format: "   %-34@ %9.3f s  gap %+.1e  err %.1e  nnz %d  (vs Shrink's reference)",
                     "Shrink cd, \(name) (in-process)", best, gap, error, nonzeros))
        let saved = file("shrink_\(name)_\(self.name).npy")
        try save(solutions, as: saved.lastPathComponent)
        var candidates = [String(format: "Shrink cd, %@ (in-process)=%@:%.6f", name, saved.path, best)]
        if let whole = timeWholeCommand(device: name) {
            candidates.append(String(format: "Shrink cd, %@ (whole command)=%@:%.6f", name, saved.path, whole))
        }
        return candidates
    }

    /// The solutions [K][p + 1] (coefficients, then the intercept) on `data`.
    private func solve(_ data: Dataset, device: any Device, tolerance: Double) throws -> [[Double]] {
        if isPath {
            let path = try RegularizationPath.compute(
                loss: .mse, l1Ratio: 1, standardize: false, train: data, validation: nil, epsilon: command.eps,
                count: alphas.count, folds: 0, seed: 0, device: device, alphas: alphas, tolerance: tolerance)
            return path.points.map { $0.solution.coefficients + [$0.solution.intercept] }
        }
        let solution = try CoordinateDescentSolver(loss: .bce, data: data, standardize: false, device: device)
            .solve(alpha: alphas[0], l1Ratio: 1, tolerance: tolerance)
        return [solution.coefficients + [solution.intercept]]
    }

    private func objectives(_ solutions: [[Double]]) -> [Double] {
        zip(alphas, solutions).map { alpha, s in
            let w = Array(s.dropLast())
            return isPath ? SparseBench.lassoObjective(features, targets, alpha: alpha, w: w)
                : SparseBench.logisticObjective(features, targets, alpha: alpha, w: w, b: s[s.count - 1])
        }
    }

    private func save(_ solutions: [[Double]], as fileName: String) throws {
        try NPY.write(doubles: solutions.flatMap { $0 }, shape: [solutions.count, features.columns + 1], to: file(fileName))
    }

    /// `shrink fit` / `shrink path` on X.npz as a user runs them, wall time of the whole process
    /// (one untimed warm-up when repeating); nil, with the reason printed, when this build's
    /// commands cannot run it (e.g. no .npz --data yet).
    private func timeWholeCommand(device: String) -> Double? {
        let label = String(format: "%-34@", "Shrink \(isPath ? "path" : "fit"), \(device) (whole command)")
        let output = isPath ? ["--out", file("path_\(device).json").path]
            : ["--save", file("fit_\(device).safetensors").path]
        let grid = alphas.map { String($0) }.joined(separator: "\n")
        do { try grid.write(to: file("alphas_\(name).txt"), atomically: true, encoding: .utf8) } catch {
            print("   \(label) not run: \(error)")
            return nil
        }
        let arguments = (isPath ? ["path", "--loss", "mse", "--alphas", file("alphas_\(name).txt").path]
            : ["fit", "--loss", "bce", "--alpha", String(alphas[0])])
            + ["--data", file("X.npz").path, "--targets", file("y_\(name).npy").path, "--l1-ratio", "1", "--test-split", "0",
               "--tolerance", String(command.tolerance), "--device", device] + output
        var best = Double.infinity, solve: String?
        for attempt in 0..<(command.repeats > 1 ? command.repeats + 1 : 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            let (status, out, err) = runSelf(arguments)
            guard status == 0 else {
                let reason = err.split(separator: "\n").last.map(String.init) ?? "exit status \(status)"
                print("   \(label) unavailable on this build: `shrink \(arguments[0]) --data X.npz` exited \(status): \(reason)")
                return nil
            }
            if attempt > 0 || command.repeats == 1 { best = min(best, seconds(since: start)) }
            solve = out.range(of: #"solve [0-9.eE+-]+ s"#, options: .regularExpression).map { String(out[$0]) }
        }
        print(String(format: "   \(label) %9.3f s  (%@; the in-process solver's solution)", best,
                     solve.map { "of which \($0)" } ?? "its own timing not printed"))
        return best
    }

    /// Runs this binary with `arguments`: exit status, stdout, stderr (through files in `folder`,
    /// so that a talkative child never blocks on a full pipe).
    func runSelf(_ arguments: [String]) -> (Int32, String, String) {
        let (outURL, errURL) = (file("command.out"), file("command.err"))
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        guard let out = try? FileHandle(forWritingTo: outURL), let err = try? FileHandle(forWritingTo: errURL) else {
            return (-1, "", "cannot write \(outURL.path)")
        }
        defer { try? out.close(); try? err.close() }
        let process = Process()
        process.executableURL = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (-1, "", "\(error)") }
        process.waitUntilExit()
        let text = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        return (process.terminationStatus, text(outURL), text(errURL))
    }

    /// The peers, by the script, on the same files; their lines go straight to stdout.
    private func runPeers(candidates: [String], references: [String]) {
        guard let script = command.script ?? PeerScripts.locate(SparseBenchCommand.defaultScript) else {
            printNotice("peers skipped: " + PeerScripts.notFound(SparseBenchCommand.defaultScript, flag: "--script"))
            return
        }
        var arguments = ["python3", script, file("X.npz").path, file("y_\(name).npy").path, "--task", isPath ? "lasso" : "logistic",
                         "--repeats", "\(command.repeats)", "--json-out", file("peers_\(name).json").path]
        arguments += isPath ? ["--alphas", file("alphas_\(name).npy").path] : ["--alpha", String(alphas[0])]
        arguments += candidates.flatMap { ["--candidate", $0] } + references.flatMap { ["--reference-candidate", $0] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        do {
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 {
                printNotice("peers: python3 \(script) exited \(process.terminationStatus) (are numpy, scipy and threadpoolctl installed?)")
            }
        } catch {
            printNotice("peers skipped: cannot run python3 (\(error))")
        }
    }

    static func format(_ value: Double) -> String { String(format: "%g", value) }
}

import ArgumentParser
import Foundation

/// `shrink bench solvers`: the exact solvers' workloads (Lasso paths, L1 logistic fits and paths,
/// a CV path on breast_cancer) against scikit-learn, skglm, celer and liblinear in the same run,
/// each with its distance from an exact reference. The peers are Python packages, so the work is
/// done by `scripts/bench_solvers.py`, which runs this very binary as a user would (whole-command
/// and in-process times).
struct SolversBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solvers", abstract: "Time fit and path against scikit-learn, skglm, celer and liblinear.")

    @Option(help: "Workloads: 1a,1b,1c (Lasso paths), 2a,2b (L1 logistic fits), 3 (L1-logistic path), cv (breast_cancer CV path).")
    var only: String = "1a,1b,1c,2a,2b,3,cv"
    @Option(help: "Timed repeats of each setting.") var repeats: Int = 3
    @Option(help: "Shrink devices to time: cpu, gpu or both.") var devices: String = "cpu,gpu"
    @Option(help: "Write every figure as JSON.") var jsonOut: String?
    @Option(help: "The peer script (default: scripts/bench_solvers.py in $SHRINK_SCRIPTS, else in the current folder, the binary's, or a folder above them).")
    var script: String?

    static let defaultScript = "scripts/bench_solvers.py"

    func validate() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be > 0") }
        if let jsonOut { try checkOutput("--json-out", jsonOut, extensions: ["json"]) }
        if let script, !FileManager.default.fileExists(atPath: script) { throw ValidationError("--script \(script) not found") }
    }

    func run() throws {
        try reportingErrors {
            guard let script = script ?? PeerScripts.locate(Self.defaultScript) else {
                throw ValidationError(PeerScripts.notFound(Self.defaultScript, flag: "--script"))
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, "--shrink", Bundle.main.executablePath ?? CommandLine.arguments[0], "--only", only,
                                 "--repeats", "\(repeats)", "--devices", devices] + (jsonOut.map { ["--json-out", $0] } ?? [])
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 {
                throw ExitCode(process.terminationStatus)
            }
        }
    }
}

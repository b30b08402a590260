import ArgumentParser
import Foundation
import Shrink

/// `shrink fit`: the exact penalized linear solution in scikit-learn's convention.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Solve the penalized linear problem exactly (scikit-learn's Lasso/ElasticNet/Ridge/logistic objective).",
        discussion: """
            mse: (1/2n)‖y − Xw − b‖² + α·ρ‖w‖₁ + α(1−ρ)/2·‖w‖²;  bce: (1/n)Σ logloss + the same penalty; \
            ce: (1/n)Σ softmax cross-entropy of W·x + b (k classes, W k×p) + the same penalty on W \
            (scikit-learn's multinomial LogisticRegression). Intercepts are not penalized; ce's are \
            reported centered (sum 0). Solved by working-set coordinate descent (proximal Newton \
            for bce and ce); --solver fista runs FISTA on the device instead. A solution that misses \
            --kkt-tolerance is reported on standard error and the exit status is 3.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(help: "mse | bce | ce") var loss: LossKind = .mse
    @Option(help: "Penalty strength α ≥ 0 (required).") var alpha: Double
    @Option(name: .customLong("l1-ratio"), help: "ρ in [0, 1]: 1 = lasso, 0 = ridge.") var l1Ratio: Double = 1
    @Flag(help: "Scale each feature to unit variance first, report coefficients in the original units (glmnet).")
    var standardize = false
    @Option(help: "Iterate until the KKT violation (relative to ‖∇f(0)‖∞) is at most this (fista: until no coefficient moves more than this over 20 iterations).")
    var tolerance: Double = 1e-7
    @Option(name: .customLong("kkt-tolerance"), help: "A solution whose KKT violation exceeds this is not converged (exit status 3).")
    var kktTolerance: Double = 1e-5
    @Option(help: "Iteration limit (cd: sweeps over the working set; fista: iterations).") var maxIterations: Int = 100_000
    @Option(help: "cd (coordinate descent, the default) | fista (on the device)") var solver: SolverKind = .cd
    @Option(help: "Seed for --synthetic.") var seed: UInt64 = 0
    @Option(help: "Write the solution as the state dict of nn.Linear(p, k) (safetensors; k = 1 but for ce).")
    var save: String?

    func validate() throws {
        guard alpha.isFinite, alpha >= 0 else { throw ValidationError("--alpha must be a finite number ≥ 0, got \(alpha)") }
        guard l1Ratio >= 0, l1Ratio <= 1 else { throw ValidationError("--l1-ratio must be in [0, 1], got \(l1Ratio)") }
        guard tolerance > 0, kktTolerance > 0, maxIterations > 0 else {
            throw ValidationError("--tolerance, --kkt-tolerance and --max-iterations must be > 0")
        }
        if dataOptions.data == nil, dataOptions.synthetic == nil { throw ValidationError("give --data or --synthetic") }
        if let save { try checkOutput("--save", save, extensions: ["safetensors"]) }
    }

    func run() throws {
        try reportingErrors {
            let started = DispatchTime.now()
            let device = try deviceOptions.open()
            print("device: \(device.name) [\(device.kind.rawValue)]")
            guard let data = try dataOptions.load(seed: seed) else { return }
            _ = try data.outputCount(for: loss)
            let loaded = seconds(since: started)
            let problem = LinearProblem(loss: loss, alpha: alpha, l1Ratio: l1Ratio, standardize: standardize)
            let solution = switch solver {
            case .cd: try {
                let solver = try CoordinateDescentSolver(loss: loss, data: data, standardize: standardize, device: device)
                let line = ProgressLine()
                solver.progress = { line.update("sweep \($0)") }
                defer { line.finish() }
                return try solver.solve(alpha: alpha, l1Ratio: l1Ratio, tolerance: tolerance, kktTolerance: kktTolerance,
                                        maxIterations: maxIterations)
            }()
            case .fista: try ProximalSolver.solve(problem, data: data, device: device, tolerance: tolerance,
                                                  kktTolerance: kktTolerance, maxIterations: maxIterations)
            }
            let solved = seconds(since: started) - loaded
            print("objective \(solution.objective)  nonzeros \(solution.nonzeros)/\(solution.coefficients.count)  " +
                  "iterations \(solution.iterations)  kkt \(String(format: "%.1e", solution.kktViolation))" +
                  (solution.converged ? "  converged" : "  NOT CONVERGED"))
            print(String(format: "training %@ %.6g", loss == .mse ? "r2" : "accuracy", solution.score))
            func numbers(_ values: some Sequence<Double>) -> String {
                values.map { String(format: "%.6g", $0) }.joined(separator: " ")
            }
            if solution.outputs == 1 {
                print("intercept \(solution.intercept)")
                print("coefficients " + numbers(solution.coefficients))
            } else {
                for c in 0..<solution.outputs {
                    print("class \(c): intercept \(String(format: "%.6g", solution.intercepts[c]))  coefficients " +
                          numbers(solution.coefficients(ofOutput: c)))
                }
            }
            if let save {
                try SafeTensors.write(solution.stateDict, to: URL(fileURLWithPath: save))
                print("saved \(save)")
            }
            print(String(format: "time  load %.4f s  solve %.4f s", loaded, solved))
            if !solution.converged {
                printNotice(String(format: "not converged: KKT violation %.2e > --kkt-tolerance %.1e after %d iterations " +
                                   "(raise --max-iterations)", solution.kktViolation, kktTolerance, solution.iterations))
                throw ExitCode(notConvergedExitCode)
            }
        }
    }
}

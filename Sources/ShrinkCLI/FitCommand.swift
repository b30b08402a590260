import ArgumentParser
import Foundation
import Shrink

/// `shrink fit`: the exact penalized linear solution in scikit-learn's convention.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Solve the penalized linear problem exactly (scikit-learn's Lasso/ElasticNet/Ridge/logistic objective).",
        discussion: """
            mse: (1/2n)‖y − Xw − b‖² + α·ρ‖w‖₁ + α(1−ρ)/2·‖w‖²;  bce: (1/n)Σ logloss + the same penalty. \
            The intercept b is not penalized. Solved by FISTA on the device.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(help: "mse | bce") var loss: LossKind = .mse
    @Option(help: "Penalty strength α ≥ 0.") var alpha: Double
    @Option(name: .customLong("l1-ratio"), help: "ρ in [0, 1]: 1 = lasso, 0 = ridge.") var l1Ratio: Double = 1
    @Flag(help: "Scale each feature to unit variance first, report coefficients in the original units (glmnet).")
    var standardize = false
    @Option(help: "Stop when no coefficient moves more than this (relative) over 20 iterations.") var tolerance: Double = 1e-7
    @Option(help: "Iteration limit.") var maxIterations: Int = 100_000
    @Option(help: "Seed for --synthetic.") var seed: UInt64 = 0
    @Option(help: "Write the solution as the state dict of nn.Linear(p, 1) (safetensors).") var save: String?

    func validate() throws {
        guard alpha.isFinite, alpha >= 0 else { throw ValidationError("--alpha must be a finite number ≥ 0, got \(alpha)") }
        guard l1Ratio >= 0, l1Ratio <= 1 else { throw ValidationError("--l1-ratio must be in [0, 1], got \(l1Ratio)") }
        guard loss != .ce else { throw ValidationError("shrink fit solves --loss mse or bce") }
        guard tolerance > 0, maxIterations > 0 else { throw ValidationError("--tolerance and --max-iterations must be > 0") }
        if dataOptions.data == nil, dataOptions.synthetic == nil { throw ValidationError("give --data or --synthetic") }
        if let save { try checkWritableFolder("--save", save) }
    }

    func run() throws {
        try reportingErrors {
            let device = try deviceOptions.open()
            guard let data = try dataOptions.load(seed: seed) else { return }
            _ = try data.outputCount(for: loss)
            let problem = LinearProblem(loss: loss, alpha: alpha, l1Ratio: l1Ratio, standardize: standardize)
            let solution = try ProximalSolver.solve(problem, data: data, device: device, tolerance: tolerance,
                                                    maxIterations: maxIterations)
            print("device: \(device.name) [\(device.kind.rawValue)]")
            print("objective \(solution.objective)  nonzeros \(solution.nonzeros)/\(data.columns)  iterations \(solution.iterations)" +
                  (solution.converged ? "" : "  (not converged: raise --max-iterations)"))
            print("intercept \(solution.intercept)")
            print("coefficients " + solution.coefficients.map { String(format: "%.6g", $0) }.joined(separator: " "))
            if let save {
                try SafeTensors.write(solution.stateDict, to: URL(fileURLWithPath: save))
                print("saved \(save)")
            }
        }
    }
}

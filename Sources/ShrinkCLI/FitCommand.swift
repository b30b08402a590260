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
    @Option(help: "Write the solution as a model file: the state dict of nn.Sequential(nn.Linear(p, k)) (0.weight, 0.bias; k = 1 but for ce), with what `predict` needs in its metadata.")
    var save: String?

    func validate() throws {
        guard alpha.isFinite, alpha >= 0 else { throw ValidationError("--alpha must be a finite number ≥ 0, got \(alpha)") }
        guard l1Ratio >= 0, l1Ratio <= 1 else { throw ValidationError("--l1-ratio must be in [0, 1], got \(l1Ratio)") }
        guard tolerance > 0, kktTolerance > 0, maxIterations > 0 else {
            throw ValidationError("--tolerance, --kkt-tolerance and --max-iterations must be > 0")
        }
        if dataOptions.data == nil, dataOptions.synthetic == nil { throw ValidationError("give --data or --synthetic") }
        if let save { try checkOutput("--save", save, extensions: ["safetensors"]) }
        if solver == .fista, Communicator.launchedByMPI() {
            throw ValidationError("--solver fista is not distributed: run it without mpirun, or use --solver cd")
        }
    }

    func run() throws {
        try reportingErrors {
            let started = DispatchTime.now()
            // Under mpirun every rank reads its part of the rows and the solver sums over them;
            // rank 0 prints and writes.
            let world = Communicator.launchedByMPI() ? try Communicator.world() : Communicator.single
            world.silencingOtherRanks()
            let device = try deviceOptions.open(localRank: world.localRank)
            print("device: \(device.name) [\(device.kind.rawValue)]" + (world.size > 1 ? " on each of \(world.size) ranks" : ""))
            guard let rows = try dataOptions.trainingRows(seed: seed, loss: loss, standardize: nil, fingerprint: false,
                                                          world: world, testFraction: 0) else { return }
            let (train, test) = (rows.train, rows.test)
            let fraction = dataOptions.testFraction(default: 0)
            print("rows: \(rows.globalTrainRows) train" + (test != nil ? ", \(rows.globalTestRows) test (--test-split \(fraction))"
                                                           : " (all; --test-split 0)")
                  + (world.size > 1 ? " over \(world.size) ranks" : ""))
            let loaded = seconds(since: started)
            let problem = LinearProblem(loss: loss, alpha: alpha, l1Ratio: l1Ratio, standardize: standardize)
            let solution = switch solver {
            case .cd: try {
                let solver = try CoordinateDescentSolver(loss: loss, data: train, standardize: standardize, device: device,
                                                         classes: loss == .ce ? try train.outputCount(for: .ce) : nil,
                                                         communicator: world)
                let line = ProgressLine()
                solver.progress = { line.update("sweep \($0)") }
                defer { line.finish() }
                return try solver.solve(alpha: alpha, l1Ratio: l1Ratio, tolerance: tolerance, kktTolerance: kktTolerance,
                                        maxIterations: maxIterations)
            }()
            case .fista: try ProximalSolver.solve(problem, data: train, device: device, tolerance: tolerance,
                                                  kktTolerance: kktTolerance, maxIterations: maxIterations)
            }
            let solved = seconds(since: started) - loaded
            print("objective \(solution.objective)  nonzeros \(solution.nonzeros)/\(solution.coefficients.count)  " +
                  "iterations \(solution.iterations)  kkt \(String(format: "%.1e", solution.kktViolation))" +
                  (solution.converged ? "  converged" : "  NOT CONVERGED"))
            let score = loss == .mse ? "r2" : "accuracy"
            print(String(format: "training %@ %.6g", score, solution.score))
            if let test {
                let measured = try LinearSolution.evaluate(loss, test, [solution], communicator: world)[0]
                print(String(format: "test %@ %.6g  test loss %.6g", score, measured.score, measured.loss))
            }
            print(coefficientTable(solution, features: train.featureNames, classes: train.classNames, nonzeroOnly: train.isSparse))
            if let save, world.isRoot {
                var info = ["trained_by": "shrink fit", "alpha": "\(alpha)", "l1_ratio": "\(l1Ratio)",
                            "converged": "\(solution.converged)"]
                if standardize { info["standardize"] = "fitted on standardized features; coefficients in original units" }
                try saveModel(solution.stateDict, loss: loss, data: train, info: info.merging(rows.modelInfo) { a, _ in a },
                              to: save)
            }
            print(String(format: "time  load %.4f s  solve %.4f s", loaded, solved) + mpiSums(world))
            if !solution.converged {
                if world.isRoot {
                    printNotice(String(format: "not converged: KKT violation %.2e > --kkt-tolerance %.1e after %d iterations " +
                                       "(raise --max-iterations)", solution.kktViolation, kktTolerance, solution.iterations))
                }
                throw ExitCode(notConvergedExitCode)
            }
        }
    }
}

/// The intercepts and coefficients, one line per feature (named when the data has names) and
/// one column per class for ce. With `nonzeroOnly` (sparse data, often 10⁵ features and more)
/// only the features with a non-zero coefficient are listed, and a last line counts the others.
func coefficientTable(_ solution: LinearSolution, features: [String]?, classes: [String]?,
                      nonzeroOnly: Bool = false) -> String {
    let k = solution.outputs, p = solution.coefficients.count / k
    let names = features?.count == p ? features! : (0..<p).map { "w\($0)" }
    let header = k == 1 ? ["coefficient"] : (classes?.count == k ? classes! : (0..<k).map(String.init)).map { "class \($0)" }
    func number(_ x: Double) -> String { String(format: "%.6g", x) }
    let columns = (0..<k).map { Array(solution.coefficients(ofOutput: $0)) }
    let listed = (0..<p).filter { j in !nonzeroOnly || columns.contains { $0[j] != 0 } }
    let rows = [["feature"] + header, ["(intercept)"] + solution.intercepts.map(number)]
        + listed.map { j in [names[j]] + columns.map { number($0[j]) } }
    let widths = (0...k).map { c in rows.map { $0[c].count }.max() ?? 0 }
    let table = rows.map { row in
        row.enumerated().map { c, cell in
            c == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - cell.count) + cell
        }.joined(separator: "  ")
    }.joined(separator: "\n")
    return listed.count == p ? table : table + "\n(\(p - listed.count) of \(p) features with zero coefficients not listed: sparse data)"
}

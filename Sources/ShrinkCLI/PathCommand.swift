import ArgumentParser
import Foundation
import Shrink

/// `shrink path`: the regularization path from α_max, warm-started, with K-fold CV.
struct PathCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path",
        abstract: "The regularization path from α_max down to ε·α_max, warm-started; --cv K picks α_min and α_1se.",
        discussion: """
            Each α is solved by working-set coordinate descent (proximal Newton for bce and ce) to \
            --tolerance; --batched runs FISTA on the device for many α at once. A solution that \
            misses --kkt-tolerance (main path or a CV fold) is named on standard error, marked \
            "converged": false in the output, and the exit status is 3.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(help: "mse | bce | ce (multinomial: k·p coefficients per α, intercepts centered)") var loss: LossKind = .mse
    @Option(name: .customLong("l1-ratio"), help: "ρ in [0, 1] (1 = lasso).") var l1Ratio: Double = 1
    @Option(help: "The smallest α as a fraction of α_max.") var eps: Double = 1e-3
    @Option(name: .customLong("n-alphas"), help: "Grid size.") var nAlphas: Int = 100
    @Option(help: "An explicit α grid instead of --eps/--n-alphas: comma-separated numbers, or a file of numbers (one per line or comma-separated).")
    var alphas: String?
    @Option(help: "Iterate until the KKT violation (relative to ‖∇f(0)‖∞) is at most this.") var tolerance: Double = 1e-7
    @Option(name: .customLong("kkt-tolerance"), help: "A solution whose KKT violation exceeds this is not converged (exit status 3).")
    var kktTolerance: Double = 1e-5
    @Option(help: "Iteration limit per α (cd: sweeps over the working set; --batched: FISTA iterations).")
    var maxIterations: Int = 100_000
    @Option(help: "Cross-validation folds (0 = none; stratified by class for bce and ce).") var cv: Int = 0
    @Flag(help: "Scale features to unit variance (coefficients reported in original units).") var standardize = false
    @Flag(help: "FISTA on the device, many α at once as one batched problem (one matmul for all), instead of coordinate descent.")
    var batched = false
    @Option(help: "Seed for --synthetic, the test split and the folds.") var seed: UInt64 = 0
    @Option(help: "Output file: .json or .csv (required).") var out: String
    @Option(help: "Write a self-contained HTML report (coefficient path, CV curve).") var report: String?
    @Option(name: .customLong("save-best"), help: "Write the chosen point's model (safetensors with metadata, for `predict`): α_min or α_1se from --cv (see --best), else the least validation loss.")
    var saveBest: String?
    @Option(help: "Which CV choice --save-best writes: min (least mean CV loss, LassoCV's alpha_) | 1se (the largest α within one standard error, glmnet's lambda.1se).")
    var best: BestRule = .min

    enum BestRule: String, ExpressibleByArgument { case min, `1se` }

    /// The point --save-best writes, and why it was chosen.
    func best(_ path: RegularizationPath) throws -> (RegularizationPath.Point, String) {
        if let cv = path.crossValidation {
            let alpha = best == .min ? cv.alphaMin : cv.alpha1SE
            return (path.points.first { $0.alpha == alpha }!, best == .min ? "alpha_min of \(self.cv)-fold CV" : "alpha_1se of \(self.cv)-fold CV")
        }
        let scored = path.points.filter { $0.validationLoss?.isFinite == true }
        guard let point = scored.min(by: { $0.validationLoss! < $1.validationLoss! }) else {
            throw ValidationError("--save-best needs --cv K or a --test-split > 0 to choose α")
        }
        return (point, "least validation loss")
    }

    func validate() throws {
        guard l1Ratio >= 0, l1Ratio <= 1 else { throw ValidationError("--l1-ratio must be in [0, 1], got \(l1Ratio)") }
        guard eps > 0, eps < 1 else { throw ValidationError("--eps must be in (0, 1), got \(eps)") }
        guard nAlphas > 0 else { throw ValidationError("--n-alphas must be > 0") }
        guard tolerance > 0, kktTolerance > 0, maxIterations > 0 else {
            throw ValidationError("--tolerance, --kkt-tolerance and --max-iterations must be > 0")
        }
        if let alphas { _ = try parseGrid(alphas) }
        guard cv == 0 || cv >= 2 else { throw ValidationError("--cv must be 0 or ≥ 2, got \(cv)") }
        try checkOutput("--out", out, extensions: ["json", "csv"])
        if let report { try checkOutput("--report", report, extensions: ["html"]) }
        if let saveBest { try checkOutput("--save-best", saveBest, extensions: ["safetensors"]) }
        if saveBest != nil, cv < 2, dataOptions.testSplit == 0 {
            throw ValidationError("--save-best needs --cv K or a --test-split > 0 to choose α")
        }
        if dataOptions.data == nil, dataOptions.synthetic == nil { throw ValidationError("give --data or --synthetic") }
        if batched, Communicator.launchedByMPI() {
            throw ValidationError("--batched is not distributed: run it without mpirun, or drop --batched")
        }
    }

    func run() throws {
        try reportingErrors {
            let started = DispatchTime.now()
            // Under mpirun every rank reads its part of the rows; each α (and each CV fold) is
            // solved by all the ranks together; rank 0 prints and writes.
            let world = Communicator.launchedByMPI() ? try Communicator.world() : Communicator.single
            world.silencingOtherRanks()
            let device = try deviceOptions.open(localRank: world.localRank)
            print("device: \(device.name) [\(device.kind.rawValue)]" + (world.size > 1 ? " on each of \(world.size) ranks" : ""))
            let grid = try alphas.map(parseGrid)
            guard let rows = try dataOptions.trainingRows(seed: seed, loss: loss, standardize: nil, fingerprint: false,
                                                          world: world) else { return }
            let (train, validation) = (rows.train, rows.test)
            let fraction = dataOptions.testFraction()
            print("rows: \(rows.globalTrainRows) train, \(rows.globalTestRows) validation (--test-split \(fraction)" +
                  (fraction > 0 ? "; 0 uses every row, as LassoCV" : "") + ")" +
                  (cv >= 2 ? ", \(cv)-fold CV on the train rows" : "") + (world.size > 1 ? " over \(world.size) ranks" : ""))
            let parallel = world.usesMPI
                ? try rows.parallel ?? DataParallel(communicator: world, globalRows: train.rows, positions: Array(0..<train.rows),
                                                    globalTestRows: rows.globalTestRows)
                : nil
            let loaded = seconds(since: started)
            let line = ProgressLine()
            var path = try RegularizationPath.compute(
                loss: loss, l1Ratio: l1Ratio, standardize: standardize, train: train, validation: validation, epsilon: eps,
                count: nAlphas, folds: cv, seed: seed, device: device, alphas: grid, tolerance: tolerance,
                kktTolerance: kktTolerance, maxIterations: maxIterations, batched: batched, parallel: parallel,
                progress: { p in
                    line.update((p.fold.map { "fold \($0 + 1) of \(p.folds), " } ?? (p.folds >= 2 ? "full path, " : ""))
                                + "alpha \(p.alphaIndex) of \(p.alphaCount)")
                })
            line.finish()
            path.timing = (loaded, seconds(since: started) - loaded)
            let score = loss == .mse ? "r2" : "acc"
            print("      alpha  nonzeros   objective  train_loss  valid_loss  train_\(score)  valid_\(score)")
            /// A number right-aligned in `width` columns, "-" when absent.
            func cell(_ x: Double?, _ width: Int) -> String {
                let text = x.map { String(format: "%.5g", $0) } ?? "-"
                return String(repeating: " ", count: max(0, width - text.count)) + text
            }
            for p in path.points {
                print(String(format: "%11.4g  %8d  %10.5g  %10.5g", p.alpha, p.solution.nonzeros, p.solution.objective,
                             p.trainLoss) + "  " + cell(p.validationLoss, 10) + "  " + cell(p.trainScore, 9) + "  " +
                      cell(p.validationScore, 9))
            }
            for miss in path.misses {
                printNotice(String(format: "not converged: %@alpha %.6g: KKT violation %.2e > --kkt-tolerance %.1e after %d iterations",
                                   miss.fold.map { "fold \($0 + 1), " } ?? "", miss.alpha, miss.kktViolation, kktTolerance,
                                   miss.iterations))
            }
            if let cv = path.crossValidation {
                print(String(format: "cv (%d folds): alpha_min %.4g, alpha_1se %.4g", self.cv, cv.alphaMin, cv.alpha1SE))
            }
            if world.isRoot { try writeText(hasExtension(out, ["json"]) ? path.json : path.csv, to: out) }
            print("wrote \(out)")
            if let saveBest, world.isRoot {
                let (point, why) = try best(path)
                var info = ["trained_by": "shrink path", "alpha": "\(point.alpha)", "l1_ratio": "\(l1Ratio)",
                            "chosen_by": why, "converged": "\(point.solution.converged)"]
                if standardize { info["standardize"] = "fitted on standardized features; coefficients in original units" }
                try saveModel(point.solution.stateDict, loss: loss, data: train,
                              info: info.merging(rows.modelInfo) { a, _ in a }, to: saveBest)
                print(String(format: "best: alpha %.6g (%@)", point.alpha, why))
            }
            if let report, world.isRoot {
                var page = HTMLReport(title: "shrink path: \(loss), l1-ratio \(l1Ratio)")
                page.addPath(path)
                try writeText(page.html(), to: report)
                print("report \(report)")
            }
            if let timing = path.timing {
                print(String(format: "time  load %.4f s  solve %.4f s", timing.load, timing.solve) + mpiSums(world))
            }
            if !path.misses.isEmpty { throw ExitCode(notConvergedExitCode) }
        }
    }
}

/// An α grid: comma-separated numbers, or a file of numbers separated by commas or new lines.
func parseGrid(_ text: String) throws -> [Double] {
    let source: String
    if text.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" }) || text.contains("/")
        || FileManager.default.fileExists(atPath: text) {
        guard let contents = try? String(contentsOfFile: text, encoding: .utf8) else {
            throw ValidationError("--alphas: cannot read the file \(text)")
        }
        source = contents
    } else {
        source = text
    }
    let fields = source.split(whereSeparator: { $0 == "," || $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
    guard !fields.isEmpty else { throw ValidationError("--alphas: no numbers in \(text)") }
    return try fields.map { field in
        guard let value = Double(field), value.isFinite, value >= 0 else {
            throw ValidationError("--alphas: '\(field)' is not a finite number ≥ 0")
        }
        return value
    }
}

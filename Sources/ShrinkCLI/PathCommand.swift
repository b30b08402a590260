import ArgumentParser
import Foundation
import Shrink

/// `shrink path`: the regularization path from α_max, warm-started, with K-fold CV.
struct PathCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path",
        abstract: "The regularization path from α_max down to ε·α_max, warm-started; --cv K picks α_min and α_1se.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(help: "mse | bce | ce (multinomial: k·p coefficients per α, intercepts centered)") var loss: LossKind = .mse
    @Option(name: .customLong("l1-ratio"), help: "ρ in [0, 1] (1 = lasso).") var l1Ratio: Double = 1
    @Option(help: "The smallest α as a fraction of α_max.") var eps: Double = 1e-3
    @Option(name: .customLong("n-alphas"), help: "Grid size.") var nAlphas: Int = 100
    @Option(help: "Cross-validation folds (0 = none; stratified by class for bce and ce).") var cv: Int = 0
    @Flag(help: "Scale features to unit variance (coefficients reported in original units).") var standardize = false
    @Flag(help: "Solve every α at once as one batched problem (one matmul for all) instead of warm-started in turn.")
    var batched = false
    @Option(help: "Seed for --synthetic, the test split and the folds.") var seed: UInt64 = 0
    @Option(help: "Output file: .json or .csv.") var out: String
    @Option(help: "Write a self-contained HTML report (coefficient path, CV curve).") var report: String?

    func validate() throws {
        guard l1Ratio >= 0, l1Ratio <= 1 else { throw ValidationError("--l1-ratio must be in [0, 1], got \(l1Ratio)") }
        guard eps > 0, eps < 1 else { throw ValidationError("--eps must be in (0, 1), got \(eps)") }
        guard nAlphas > 0 else { throw ValidationError("--n-alphas must be > 0") }
        guard cv == 0 || cv >= 2 else { throw ValidationError("--cv must be 0 or ≥ 2, got \(cv)") }
        guard out.hasSuffix(".json") || out.hasSuffix(".csv") else { throw ValidationError("--out must end in .json or .csv") }
        try checkWritableFolder("--out", out)
        if let report { try checkWritableFolder("--report", report) }
        if dataOptions.data == nil, dataOptions.synthetic == nil { throw ValidationError("give --data or --synthetic") }
    }

    func run() throws {
        try reportingErrors {
            let device = try deviceOptions.open()
            guard let data = try dataOptions.load(seed: seed) else { return }
            _ = try data.outputCount(for: loss)
            let (train, validation) = try data.split(testFraction: dataOptions.testSplit, seed: seed)
            let path = try RegularizationPath.compute(loss: loss, l1Ratio: l1Ratio, standardize: standardize, train: train,
                                                      validation: validation, epsilon: eps, count: nAlphas, folds: cv,
                                                      seed: seed, device: device, batched: batched)
            print("device: \(device.name) [\(device.kind.rawValue)]")
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
            if let cv = path.crossValidation {
                print(String(format: "cv (%d folds): alpha_min %.4g, alpha_1se %.4g", self.cv, cv.alphaMin, cv.alpha1SE))
            }
            try writeText(out.hasSuffix(".json") ? path.json : path.csv, to: out)
            print("wrote \(out)")
            if let report {
                var page = HTMLReport(title: "shrink path: \(loss), l1-ratio \(l1Ratio)")
                page.addPath(path)
                try writeText(page.html(), to: report)
                print("report \(report)")
            }
        }
    }
}

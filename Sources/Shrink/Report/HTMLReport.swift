import Foundation

/// One self-contained HTML page of charts (inline SVG, no scripts, no network): the loss
/// curves, l1/l2/near-zero counts per epoch, the coefficient path over log α and the CV curve with error bars.
public struct HTMLReport: Sendable {
    public struct Section: Sendable {
        public var heading: String
        public var chart: LineChart
        public var caption: String
    }

    public var title: String
    public var sections: [Section] = []

    public init(title: String) { self.title = title }

    /// Loss, norms and sparsity per epoch for each named run.
    public mutating func addTraining(_ runs: [(name: String, epochs: [EpochMetrics])]) {
        func chart(_ title: String, _ y: String, _ value: (EpochMetrics) -> Double) -> LineChart {
            LineChart(title: title, xLabel: "Epochs", yLabel: y, series: runs.map { run in
                .init(name: run.name, x: run.epochs.map { Double($0.epoch) }, y: run.epochs.map(value))
            })
        }
        sections.append(Section(heading: "Training loss", chart: chart("Loss per epoch", "Loss (data + penalty)", \.loss),
                                caption: "Σ over batches of (data loss + penalty) × batch size / n, as the reference PyTorch script's epoch_loss."))
        sections.append(Section(heading: "Weight norms", chart: chart("‖w‖₁ per epoch", "‖w‖₁", \.l1),
                                caption: "L1 norm of the penalized parameters."))
        sections.append(Section(heading: "", chart: chart("‖w‖₂ per epoch", "‖w‖₂", \.l2),
                                caption: "L2 norm of the penalized parameters."))
        let nearZero = chart("Near-zero parameters per epoch", "near_zero (count)") { Double($0.nearZero) }
        sections.append(Section(heading: "Sparsity", chart: nearZero,
                                caption: "near_zero: parameters with |w| < max|w| × the sparse threshold (not a count of nonzeros)."))
    }

    /// The coefficient path over log α and, when present, the cross-validation curve.
    public mutating func addPath(_ path: RegularizationPath) {
        let alphas = path.points.map(\.alpha)
        let p = path.points.first?.solution.coefficients.count ?? 0
        let k = path.points.first?.solution.outputs ?? 1  // ce: k classes' coefficients, class by class
        func name(_ j: Int) -> String { k == 1 ? "w\(j)" : "w\(j / (p / k))_\(j % (p / k))" }
        var coefficients = LineChart(title: "Coefficient path", xLabel: "α (log scale)", yLabel: "Coefficient",
                                     series: (0..<p).map { j in
                                         .init(name: name(j), x: alphas, y: path.points.map { $0.solution.coefficients[j] })
                                     })
        coefficients.logX = true
        sections.append(Section(heading: "Regularization path", chart: coefficients,
                                caption: "Each coefficient as α falls from α_max (all zero) to ε·α_max; \(p) coefficients" +
                                    (p > 12 ? ", the legend lists the first 12." : ".")))
        guard let cv = path.crossValidation else { return }
        var curve = LineChart(title: "Cross-validation", xLabel: "α (log scale)", yLabel: "Mean validation loss",
                              series: [.init(name: "mean ± 1 s.e.", x: alphas, y: cv.meanLoss, errors: cv.standardError)])
        curve.logX = true
        sections.append(Section(heading: "Cross-validation", chart: curve,
                                caption: String(format: "α_min = %.4g (least mean loss); α_1se = %.4g (largest α within one standard error).",
                                                cv.alphaMin, cv.alpha1SE)))
    }

    public func html() -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:sans-serif;max-width:860px;margin:24px auto;color:#222}
            figure{margin:0 0 28px 0}figcaption{color:#555;font-size:14px}h1{font-size:24px}h2{font-size:18px}</style>
            </head><body>
            <h1>\(escape(title))</h1>

            """
        for section in sections {
            if !section.heading.isEmpty { page += "<h2>\(escape(section.heading))</h2>\n" }
            page += "<figure>\n\(section.chart.svg())<figcaption>\(escape(section.caption))</figcaption></figure>\n"
        }
        return page + "</body></html>\n"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

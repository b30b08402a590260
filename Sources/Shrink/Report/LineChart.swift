import Foundation

/// A line chart as a standalone SVG document: frame, "nice" ticks on both axes, grid, axis
/// titles, a legend, circle markers on short series (the reference PyTorch script's `plt.plot(..., marker='o')`).
/// Non-finite points are skipped (the line breaks there); no NaN ever reaches the SVG.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        /// Half-heights of error bars drawn at each point (y ± e), if any.
        public var errors: [Double]?
        public init(name: String, x: [Double], y: [Double], errors: [Double]? = nil) {
            self.name = name; self.x = x; self.y = y; self.errors = errors
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 800.0
    public var height = 450.0
    /// Plot x on a log₁₀ scale (non-positive x are skipped), e.g. a regularization path over α.
    public var logX = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
    }

    /// Loss curves over epochs 1...n (the reference PyTorch script's `plot_training_loss`).
    public static func lossChart(title: String, curves: [(name: String, losses: [Double])]) -> LineChart {
        LineChart(title: title, xLabel: "Epochs", yLabel: "Loss", series: curves.map {
            Series(name: $0.name, x: (1...max($0.losses.count, 1)).prefix($0.losses.count).map(Double.init), y: $0.losses)
        })
    }

    /// Tableau 10, a colour-blind-friendly palette.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public func svg() -> String {
        let plot = (left: 80.0, top: 50.0, right: width - (series.count > 1 ? 170 : 30), bottom: height - 60)
        let series = self.series.map { s -> Series in
            guard logX else { return s }
            var t = s
            t.x = s.x.map { $0 > 0 ? log10($0) : .nan }
            return t
        }
        let points = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite } }
        let spreads = series.flatMap { s in
            zip(zip(s.x, s.y), s.errors ?? []).filter { $0.0.0.isFinite && $0.0.1.isFinite && $0.1.isFinite }
                .flatMap { [$0.0.1 - $0.1, $0.0.1 + $0.1] }
        }
        let xTicks = NiceScale(points.map(\.0))
        let yTicks = NiceScale(points.map(\.1) + spreads)
        func px(_ x: Double) -> Double { plot.left + (x - xTicks.low) / (xTicks.high - xTicks.low) * (plot.right - plot.left) }
        func py(_ y: Double) -> Double { plot.bottom - (y - yTicks.low) / (yTicks.high - yTicks.low) * (plot.bottom - plot.top) }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f((plot.left + plot.right) / 2))" y="28" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

            """
        for t in yTicks.ticks {
            svg += "<line x1=\"\(f(plot.left))\" y1=\"\(f(py(t)))\" x2=\"\(f(plot.right))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(plot.left - 8))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(yTicks.label(t))</text>\n"
        }
        for t in xTicks.ticks {
            svg += "<line x1=\"\(f(px(t)))\" y1=\"\(f(plot.top))\" x2=\"\(f(px(t)))\" y2=\"\(f(plot.bottom))\" stroke=\"#e5e5e5\"/>"
            let text = logX ? String(format: "%.2g", pow(10, t)) : xTicks.label(t)
            svg += "<text x=\"\(f(px(t)))\" y=\"\(f(plot.bottom + 18))\" text-anchor=\"middle\">\(text)</text>\n"
        }
        svg += "<rect x=\"\(f(plot.left))\" y=\"\(f(plot.top))\" width=\"\(f(plot.right - plot.left))\" height=\"\(f(plot.bottom - plot.top))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f((plot.left + plot.right) / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\" font-size=\"14\">\(escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(22 \(f((plot.top + plot.bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">\(escape(yLabel))</text>\n"
        if points.isEmpty {
            svg += "<text x=\"\(f((plot.left + plot.right) / 2))\" y=\"\(f((plot.top + plot.bottom) / 2))\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n"
        }
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            svg += "<g class=\"series\" stroke=\"\(color)\" fill=\"\(color)\"><title>\(escape(s.name))</title>\n"
            var run: [String] = []
            func flush() {
                if run.count > 1 { svg += "<polyline fill=\"none\" stroke-width=\"2\" points=\"\(run.joined(separator: " "))\"/>\n" }
                run = []
            }
            let finite = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }.count
            for (i, (x, y)) in zip(s.x, s.y).enumerated() {
                guard x.isFinite, y.isFinite else { flush(); continue }
                run.append("\(f(px(x))),\(f(py(y)))")
                if finite <= 60 { svg += "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"3\"/>" }
                if let errors = s.errors, i < errors.count, errors[i].isFinite {
                    svg += "<line class=\"error-bar\" x1=\"\(f(px(x)))\" y1=\"\(f(py(y - errors[i])))\" x2=\"\(f(px(x)))\" y2=\"\(f(py(y + errors[i])))\" stroke-width=\"1\"/>"
                }
            }
            flush()
            svg += "</g>\n"
            if series.count > 1, i < 12 {
                let ly = plot.top + 10 + Double(i) * 20
                svg += "<line x1=\"\(f(plot.right + 15))\" y1=\"\(f(ly))\" x2=\"\(f(plot.right + 40))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"3\"/>"
                svg += "<text x=\"\(f(plot.right + 46))\" y=\"\(f(ly + 4))\">\(escape(s.name))</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// An axis range widened to "nice" 1-2-5 ticks around the data (matplotlib's habit).
struct NiceScale {
    let low: Double
    let high: Double
    let step: Double

    init(_ values: [Double], targetTicks: Int = 6) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if lo == hi { (lo, hi) = lo == 0 ? (-1, 1) : (lo - abs(lo) * 0.1, hi + abs(hi) * 0.1) }
        let raw = (hi - lo) / Double(targetTicks - 1)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        self.step = step
        low = floor(lo / step) * step
        high = max(ceil(hi / step) * step, low + step)
    }

    var ticks: [Double] {
        let count = Int(((high - low) / step).rounded())
        return (0...count).map { low + Double($0) * step }
    }

    /// A compact label: enough decimals for the step, scientific for tiny or huge values.
    func label(_ v: Double) -> String {
        let magnitude = max(abs(low), abs(high))
        if magnitude >= 1e6 || (magnitude < 1e-3 && magnitude > 0) { return String(format: "%.2g", v) }
        let decimals = max(0, Int(-floor(log10(step))) + (step / pow(10, floor(log10(step))) == 2.5 ? 1 : 0))
        let text = String(format: "%.\(decimals)f", v)
        return text == "-0" || text.hasPrefix("-0.") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

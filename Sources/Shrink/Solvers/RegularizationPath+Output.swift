import Foundation

/// A path as JSON (one document) and CSV (one row per α).
extension RegularizationPath {
    /// One JSON document: the grid, each point's coefficients and scores, and the CV choice.
    public var json: String {
        func number(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "null" } ?? "null" }
        let rows = points.map { p in
            "{\"alpha\":\(number(p.alpha)),\"nonzeros\":\(p.solution.nonzeros),\"objective\":\(number(p.solution.objective))," +
                "\"train_loss\":\(number(p.trainLoss)),\"validation_loss\":\(number(p.validationLoss))," +
                "\"train_score\":\(number(p.trainScore)),\"validation_score\":\(number(p.validationScore))," +
                "\"intercept\":\(number(p.solution.intercept))," +
                "\"intercepts\":[\(p.solution.intercepts.map { number($0) }.joined(separator: ","))]," +
                "\"iterations\":\(p.solution.iterations),\"kkt_violation\":\(number(p.solution.kktViolation))," +
                "\"converged\":\(p.solution.converged)," +
                "\"coefficients\":[\(p.solution.coefficients.map { number($0) }.joined(separator: ","))]}"
        }
        var text = "{" + (featureNames.map { "\"features\":\(JSONText.strings($0))," } ?? "") +
            (classNames.map { "\"classes\":\(JSONText.strings($0))," } ?? "") + "\"path\":[\n" + rows.joined(separator: ",\n") + "\n]"
        if let cv = crossValidation {
            text += ",\"cv\":{\"mean_loss\":[\(cv.meanLoss.map { number($0) }.joined(separator: ","))]," +
                "\"standard_error\":[\(cv.standardError.map { number($0) }.joined(separator: ","))]," +
                "\"alpha_min\":\(number(cv.alphaMin)),\"alpha_1se\":\(number(cv.alpha1SE))}"
        }
        if let timing {
            text += ",\"timing\":{\"load_seconds\":\(number(timing.load)),\"solve_seconds\":\(number(timing.solve))}"
        }
        return text + "}\n"
    }

    /// CSV: one row per α with its losses, scores, the CV columns (mean loss, standard error,
    /// and `cv_pick` naming α_min and α_1se) when cross-validated, intercepts and coefficients
    /// (named by feature when the data has names, else w{j}; for k classes each name gets
    /// "[class]").
    public var csv: String {
        let first = points.first?.solution
        let k = first?.outputs ?? 1, p = (first?.coefficients.count ?? 0) / max(k, 1)
        let features = featureNames?.count == p ? featureNames! : (0..<p).map { "w\($0)" }
        let classes = classNames?.count == k ? classNames! : (0..<k).map(String.init)
        let names = k == 1 ? ["intercept"] + features
            : classes.map { "intercept[\($0)]" } + classes.flatMap { c in features.map { "\($0)[\(c)]" } }
        let cv = crossValidation
        var lines = [(["alpha", "nonzeros", "objective", "train_loss", "validation_loss", "train_score", "validation_score",
                       "kkt_violation", "converged"] + (cv == nil ? [] : ["cv_mean_loss", "cv_standard_error", "cv_pick"])
                      + names).map(CSVLoader.field).joined(separator: ",")]
        func number(_ x: Double) -> String { x.isNaN ? "" : "\(x)" }
        for (i, point) in points.enumerated() {
            let scores = [point.solution.objective, point.trainLoss, point.validationLoss ?? .nan, point.trainScore,
                          point.validationScore ?? .nan, point.solution.kktViolation]
            var cells = ["\(point.alpha)", "\(point.solution.nonzeros)"] + scores.map(number) + ["\(point.solution.converged)"]
            if let cv {
                let pick = [cv.alphaMin == point.alpha ? "alpha_min" : nil, cv.alpha1SE == point.alpha ? "alpha_1se" : nil]
                cells += [number(cv.meanLoss[i]), number(cv.standardError[i]), pick.compactMap { $0 }.joined(separator: " ")]
            }
            lines.append((cells + (point.solution.intercepts + point.solution.coefficients).map(number)).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

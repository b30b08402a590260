import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

final class PathTests: XCTestCase {
    /// Orthogonal, centered X (Hadamard columns): the Lasso solution soft-thresholds least
    /// squares, so the nonzero count can only grow as α falls, and at α_max it is 0.
    func testLassoPathOnOrthogonalDesign() throws {
        let hadamard: [[Float]] = [[1, 1, 1, 1, 1, 1, 1, 1], [1, -1, 1, -1, 1, -1, 1, -1], [1, 1, -1, -1, 1, 1, -1, -1],
                                   [1, -1, -1, 1, 1, -1, -1, 1], [1, 1, 1, 1, -1, -1, -1, -1], [1, -1, 1, -1, -1, 1, -1, 1]]
        let columns = Array(hadamard[1...])  // mean-zero, mutually orthogonal
        let (n, p) = (8, columns.count)
        let x = (0..<n).flatMap { r in columns.map { $0[r] } }
        let truth: [Float] = [2, -1, 0.5, 0.25, 0]
        let y = (0..<n).map { r in 0.3 + (0..<p).reduce(Float(0)) { $0 + x[r * p + $1] * truth[$1] } }
        let data = try Dataset(features: x, targets: y, rows: n, columns: p)
        for device in TrainingDevices.all {
            let path = try RegularizationPath.compute(loss: .mse, l1Ratio: 1, standardize: false, train: data, validation: nil,
                                                      epsilon: 1e-3, count: 30, folds: 0, seed: 0, device: device)
            let counts = path.points.map(\.solution.nonzeros)
            XCTAssertEqual(counts.first, 0, "\(device.kind): α_max gives all zeros")
            XCTAssertEqual(counts, counts.sorted(), "\(device.kind): nonzeros must be monotone: \(counts)")
            XCTAssertEqual(counts.last, 4, "\(device.kind): the four true coefficients at the small end")
            // R² = 1 − SSE/SST: 0 at α_max (the intercept alone), the exact fit's 1 as α → 0.
            XCTAssertEqual(path.points.first?.trainScore ?? .nan, 0, accuracy: 1e-6)
            XCTAssertEqual(path.points.last?.trainScore ?? .nan, 1, accuracy: 1e-5)
            XCTAssertTrue(path.json.contains("\"train_score\":"))
            // Closed form on an orthogonal design: w_j = sign(z_j)·max(|z_j| − α, 0), z_j = x_jᵀy/n.
            for point in path.points {
                for j in 0..<p {
                    let z = Double(truth[j])
                    let expected = (z > 0 ? 1.0 : -1.0) * max(abs(z) - point.alpha, 0)
                    XCTAssertEqual(point.solution.coefficients[j], expected, accuracy: 1e-4, "\(device.kind) α=\(point.alpha) w\(j)")
                }
            }
        }
    }

    /// glmnet's one-standard-error rule, from fold losses computed here: for each fold (the
    /// library's seeded assignment, `foldOf`) and α, a plain Double coordinate descent on the
    /// other folds, scored by the mean squared error on the fold; the curve is the mean over
    /// folds, the standard error the sample deviation over √K; α_min minimizes the curve and
    /// α_1se is the largest α whose mean is within one standard error of that minimum.
    func testCrossValidationPicksOneStandardErrorAboveTheMinimum() throws {
        let data = try SyntheticData.make("regression:150:12", seed: 4)
        let folds = 5
        let path = try RegularizationPath.compute(loss: .mse, l1Ratio: 1, standardize: false, train: data, validation: nil,
                                                  epsilon: 1e-3, count: 15, folds: folds, seed: 1, device: TrainingDevices.all[0])
        let cv = try XCTUnwrap(path.crossValidation)
        let alphas = path.points.map(\.alpha)
        XCTAssertEqual(cv.meanLoss.count, 15)

        let fold = try RegularizationPath.foldOf(data, loss: .mse, folds: folds, seed: 1)
        var losses = [[Double]](repeating: [], count: alphas.count)  // [α][fold]
        for k in 0..<folds {
            let (held, kept) = ((0..<data.rows).filter { fold[$0] == k }, (0..<data.rows).filter { fold[$0] != k })
            let training = data.subset(kept)
            for (i, alpha) in alphas.enumerated() {
                let (w, b) = SolverTests.coordinateDescent(training, alpha: alpha, l1Ratio: 1)
                let squares = held.map { r -> Double in
                    let f = b + (0..<data.columns).reduce(0.0) { $0 + w[$1] * Double(data.features[r * data.columns + $1]) }
                    return (Double(data.targets[r]) - f) * (Double(data.targets[r]) - f)
                }
                losses[i].append(squares.reduce(0, +) / Double(held.count))
            }
        }
        let means = losses.map { $0.reduce(0, +) / Double(folds) }
        var errors: [Double] = []
        for (values, mean) in zip(losses, means) {
            var sum = 0.0
            for v in values { sum += (v - mean) * (v - mean) }
            errors.append((sum / Double(folds - 1)).squareRoot() / Double(folds).squareRoot())
        }
        var best = 0
        for i in alphas.indices where means[i] < means[best] { best = i }
        let within = alphas.indices.filter { means[$0] <= means[best] + errors[best] }
        let oneSE = within.max { alphas[$0] < alphas[$1] }!

        assertClose(cv.meanLoss.map(Float.init), means, tolerance: 0, relative: 1e-4, "CV mean loss")
        assertClose(cv.standardError.map(Float.init), errors, tolerance: 0, relative: 1e-3, "CV standard error")
        XCTAssertEqual(cv.alphaMin, alphas[best])
        XCTAssertEqual(cv.alpha1SE, alphas[oneSE])
        XCTAssertGreaterThan(cv.alpha1SE, cv.alphaMin, "this data's 1-SE pick is a strictly sparser model")
        XCTAssertTrue(path.json.contains("\"alpha_1se\":\(alphas[oneSE])"))
        XCTAssertEqual(path.csv.split(separator: "\n").count, 16)
    }

    /// K models solved as one batched problem equal K single solves, on every device.
    func testBatchedPathEqualsOneByOne() throws {
        for (loss, spec) in [(LossKind.mse, "regression:200:9"), (.bce, "classification:200:9"),
                             (.ce, "classification:200:9:3")] {
            let data = try SyntheticData.make(spec, seed: 6)
            for device in TrainingDevices.all {
                let single = try RegularizationPath.compute(loss: loss, l1Ratio: 0.7, standardize: false, train: data,
                                                            validation: nil, epsilon: 1e-2, count: 15, folds: 0, seed: 0,
                                                            device: device, tolerance: 1e-7)
                let batched = try RegularizationPath.compute(loss: loss, l1Ratio: 0.7, standardize: false, train: data,
                                                             validation: nil, epsilon: 1e-2, count: 15, folds: 0, seed: 0,
                                                             device: device, tolerance: 1e-7, batched: true)
                for (a, b) in zip(single.points, batched.points) {
                    XCTAssertEqual(a.alpha, b.alpha)
                    XCTAssertEqual(a.solution.intercepts.count, loss == .ce ? 3 : 1)
                    for (x, y) in zip(a.solution.coefficients + a.solution.intercepts,
                                      b.solution.coefficients + b.solution.intercepts) {
                        XCTAssertEqual(x, y, accuracy: 1e-4, "\(device.kind) \(loss) α=\(a.alpha)")
                    }
                    XCTAssertEqual(a.solution.nonzeros, b.solution.nonzeros, "\(device.kind) \(loss) α=\(a.alpha)")
                }
            }
        }
    }

    /// Multinomial (ce): at α_max every coefficient is zero and the centered intercepts are the
    /// centered log class shares (softmax(b) = the shares); just below α_max a coefficient
    /// enters; the path's nonzero count starts at 0 and ends dense; CV runs even when a fold's
    /// training rows lack a class.
    func testMultinomialPathStartsAtZeroWithLogSharesAndCrossValidates() throws {
        // Class 2 is rare (4 of 60 rows), so some 5-fold training sets may miss it entirely.
        var data = try SyntheticData.make("classification:60:6:3", seed: 11)
        var labels = data.targets.map { $0 == 2 ? Float(1) : $0 }
        for r in [3, 17, 29, 44] { labels[r] = 2 }
        data = try Dataset(features: data.features, targets: labels, rows: data.rows, columns: data.columns)
        let shares = (0..<3).map { c in Double(labels.filter { Int($0) == c }.count) / 60 }
        let logs = shares.map(log), mean = logs.reduce(0, +) / 3
        let alphaMax = RegularizationPath.alphaMax(data, l1Ratio: 1, standardize: false, loss: .ce)
        for device in TrainingDevices.all {
            let solver = try ProximalSolver(loss: .ce, data: data, standardize: false, device: device)
            let above = try solver.solve(alpha: alphaMax * 1.01, l1Ratio: 1, tolerance: 1e-7)
            XCTAssertEqual(above.nonzeros, 0, "\(device.kind)")
            for c in 0..<3 { XCTAssertEqual(above.intercepts[c], logs[c] - mean, accuracy: 1e-4, "\(device.kind) class \(c)") }
            XCTAssertGreaterThan(try solver.solve(alpha: alphaMax * 0.9, l1Ratio: 1, tolerance: 1e-7).nonzeros, 0)
            let path = try RegularizationPath.compute(loss: .ce, l1Ratio: 1, standardize: true, train: data, validation: nil,
                                                      epsilon: 1e-2, count: 8, folds: 5, seed: 3, device: device)
            XCTAssertEqual(path.points.first?.solution.nonzeros, 0)
            XCTAssertEqual(path.points.last?.solution.coefficients.count, 18)
            XCTAssertGreaterThan(path.points.last?.solution.nonzeros ?? 0, 6)
            let cv = try XCTUnwrap(path.crossValidation)
            XCTAssertTrue(cv.meanLoss.allSatisfy(\.isFinite), "\(device.kind): \(cv.meanLoss)")
            // Accuracy at α_max is the majority class's share (every row predicted as it).
            let majority = shares.max()!
            XCTAssertEqual(path.points.first?.trainScore ?? .nan, majority, accuracy: 1e-9, "\(device.kind)")
            XCTAssertGreaterThan(path.points.last?.trainScore ?? 0, majority, "\(device.kind)")
            XCTAssertTrue(path.csv.hasPrefix("alpha,nonzeros,objective,train_loss,validation_loss,train_score,validation_score," +
                                             "kkt_violation,converged,cv_mean_loss,cv_standard_error,cv_pick,intercept[0],intercept[1],intercept[2],w0[0],"))
        }
    }
}

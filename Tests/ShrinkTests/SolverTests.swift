import Foundation
@testable import Shrink
import XCTest

/// `ProximalSolver` against scikit-learn's Lasso, ElasticNet (ρ = 0.5), Ridge, L1 logistic
/// regression and multinomial logistic regression (3 classes; L1, elastic net, L2), from
/// fixtures made by scripts/gen_sklearn_fixtures.py (tol 1e-10 to 1e-12): within 1e-4.
final class SolverTests: XCTestCase {
    private typealias Case = SolverFixtureCase

    private let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("sklearn")

    func testMatchesScikitLearnOnEveryDevice() throws {
        let cases = try JSONDecoder().decode([String: Case].self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        XCTAssertEqual(Set(cases.keys), ["lasso", "elasticnet", "ridge", "logistic-l1", "multinomial-l1",
                                         "multinomial-elasticnet", "multinomial-l2"])
        for device in TrainingDevices.all {
            for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
                let loss = try XCTUnwrap(LossKind(rawValue: c.loss))
                let targets = switch loss { case .mse: "y.npy"; case .bce: "ybin.npy"; case .ce: "yclass.npy" }
                let data = try DataLoader.load(data: folder.appendingPathComponent("X.npy"),
                                               targets: folder.appendingPathComponent(targets), targetColumn: nil)
                let solution = try ProximalSolver.solve(LinearProblem(loss: loss, alpha: c.alpha, l1Ratio: c.l1_ratio),
                                                        data: data, device: device, tolerance: 1e-7, maxIterations: 100_000)
                let label = "\(device.kind) \(name)"
                XCTAssertTrue(solution.converged, label)
                for (a, e) in zip(solution.coefficients, c.coef) {
                    XCTAssertEqual(a, e, accuracy: 1e-4, "\(label): \(solution.coefficients) vs \(c.coef)")
                }
                XCTAssertEqual(solution.coefficients.count, c.coef.count, label)
                XCTAssertEqual(solution.intercepts.count, c.allIntercepts.count, label)
                for (a, e) in zip(solution.intercepts, c.allIntercepts) { XCTAssertEqual(a, e, accuracy: 1e-4, label) }
                // Exact zeros where scikit-learn has them (the L1 prox), none where it has none.
                XCTAssertEqual(solution.coefficients.map { $0 == 0 }, c.coef.map { $0 == 0 }, label)
                // Both solutions meet the optimality conditions (KKTCheck is independent of
                // how either was found); a nudged coefficient does not.
                XCTAssertLessThanOrEqual(solution.kktViolation, 1e-5, label)
                let check = KKTCheck(loss: loss, data: data)
                let k = c.allIntercepts.count
                XCTAssertLessThanOrEqual(check.violations(weights: c.coef, intercepts: c.allIntercepts, outputs: k,
                                                          alphas: [c.alpha], l1Ratio: c.l1_ratio)[0], 1e-5, "\(label) scikit-learn")
                var nudged = c.coef
                nudged[0] += 0.01
                XCTAssertGreaterThan(check.violations(weights: nudged, intercepts: c.allIntercepts, outputs: k,
                                                      alphas: [c.alpha], l1Ratio: c.l1_ratio)[0], 1e-3, "\(label) nudged")
                // scikit-learn's solution is no better under scikit-learn's own objective.
                let problem = LinearProblem(loss: loss, alpha: c.alpha, l1Ratio: c.l1_ratio)
                XCTAssertLessThanOrEqual(solution.objective,
                                         problem.objective(data, c.coef, c.allIntercepts) + 1e-6, label)
            }
        }
    }

    /// Above λ_max = ‖Xᵀ(y − ȳ)‖∞/n every Lasso coefficient is exactly zero, the intercept ȳ.
    func testLambdaMaxGivesAllZeros() throws {
        let data = try DataLoader.load(data: folder.appendingPathComponent("X.npy"), targets: folder.appendingPathComponent("y.npy"),
                                       targetColumn: nil)
        let n = Double(data.rows)
        let mean = data.targets.reduce(0.0) { $0 + Double($1) } / n
        let lambdaMax = (0..<data.columns).map { j in
            abs((0..<data.rows).reduce(0.0) { $0 + Double(data.features[$1 * data.columns + j]) * (Double(data.targets[$1]) - mean) }) / n
        }.max()!
        for device in TrainingDevices.all {
            let above = try ProximalSolver.solve(LinearProblem(loss: .mse, alpha: lambdaMax * 1.01, l1Ratio: 1), data: data, device: device)
            XCTAssertEqual(above.nonzeros, 0, "\(device.kind)")
            XCTAssertEqual(above.intercept, mean, accuracy: 1e-5)
            let below = try ProximalSolver.solve(LinearProblem(loss: .mse, alpha: lambdaMax * 0.9, l1Ratio: 1), data: data, device: device)
            XCTAssertGreaterThan(below.nonzeros, 0, "\(device.kind)")
        }
    }

    /// --standardize with α > 0, where the scaling changes the solution: the reference is the
    /// test's own Double coordinate descent on columns standardized here ((x − mean)/σ, σ the
    /// population deviation), its coefficients mapped back to the original units (w_j/σ_j,
    /// intercept b − Σ w_j·mean_j). The unstandardized solve differs from it.
    func testStandardizeReportsOriginalUnits() throws {
        var rng = SeededGenerator(seed: 3)
        let (n, p) = (120, 4)
        let scales: [Float] = [1, 10, 0.1, 3]
        let x = (0..<(n * p)).map { i in Float(rng.normal()) * scales[i % p] + Float(i % p) }
        let y = (0..<n).map { r in x[r * p] + 0.2 * x[r * p + 1] + 5 * x[r * p + 2] + Float(rng.normal()) * 0.1 }
        let data = try Dataset(features: x, targets: y, rows: n, columns: p)
        let (alpha, rho) = (0.1, 0.5)
        let means = (0..<p).map { j in (0..<n).reduce(0.0) { $0 + Double(x[$1 * p + j]) } / Double(n) }
        let deviations = (0..<p).map { j in
            ((0..<n).reduce(0.0) { $0 + (Double(x[$1 * p + j]) - means[j]) * (Double(x[$1 * p + j]) - means[j]) } / Double(n))
                .squareRoot()
        }
        let z = (0..<(n * p)).map { i in Float((Double(x[i]) - means[i % p]) / deviations[i % p]) }
        let (scaled, b) = Self.coordinateDescent(try Dataset(features: z, targets: y, rows: n, columns: p),
                                                 alpha: alpha, l1Ratio: rho)
        let w = (0..<p).map { scaled[$0] / deviations[$0] }
        let intercept = b - (0..<p).reduce(0.0) { $0 + w[$1] * means[$1] }
        for device in TrainingDevices.all {
            let s = try ProximalSolver.solve(LinearProblem(loss: .mse, alpha: alpha, l1Ratio: rho, standardize: true),
                                             data: data, device: device, tolerance: 1e-7)
            for j in 0..<p {
                XCTAssertEqual(s.coefficients[j], w[j], accuracy: 1e-4 * max(1, abs(w[j])), "\(device.kind) w\(j)")
            }
            XCTAssertEqual(s.intercept, intercept, accuracy: 1e-4 * max(1, abs(intercept)), "\(device.kind) intercept")
            let plain = try ProximalSolver.solve(LinearProblem(loss: .mse, alpha: alpha, l1Ratio: rho), data: data, device: device)
            let gap = zip(plain.coefficients, w).map { abs($0 - $1) }.max()!
            XCTAssertGreaterThan(gap, 0.01, "\(device.kind): without --standardize the penalty falls on other units")
        }
    }

    /// Both gradient engines against a plain double-precision coordinate descent (the
    /// elastic net with an intercept, run to 1e-14): mse with n > p takes the Gram engine,
    /// n ≤ p the training loop's; each within 1e-4 on every device.
    func testBothEnginesMatchCoordinateDescent() throws {
        for (n, p) in [(120, 15), (25, 40)] {
            var rng = SeededGenerator(seed: UInt64(n))
            let x = (0..<(n * p)).map { _ in Float(rng.normal()) }
            let y = (0..<n).map { r in Float(1.5 + 2 * Double(x[r * p]) - Double(x[r * p + 1]) + 0.5 * rng.normal()) }
            let data = try Dataset(features: x, targets: y, rows: n, columns: p)
            let (alpha, rho) = (0.05, 0.7)
            let (w, b) = Self.coordinateDescent(data, alpha: alpha, l1Ratio: rho)
            for device in TrainingDevices.all {
                let s = try ProximalSolver.solve(LinearProblem(loss: .mse, alpha: alpha, l1Ratio: rho), data: data, device: device,
                                                 tolerance: 1e-7)
                let label = "\(device.kind) n \(n) p \(p)"
                for (a, e) in zip(s.coefficients, w) { XCTAssertEqual(a, e, accuracy: 1e-4, label) }
                XCTAssertEqual(s.intercept, b, accuracy: 1e-4, label)
                XCTAssertEqual(s.coefficients.map { $0 == 0 }, w.map { $0 == 0 }, label)
            }
        }
    }

    /// (1/2n)‖y − Xw − b‖² + αρ‖w‖₁ + α(1−ρ)/2‖w‖² by cyclic coordinate descent on centered data.
    static func coordinateDescent(_ data: Dataset, alpha: Double, l1Ratio: Double) -> ([Double], Double) {
        let (n, p) = (data.rows, data.columns)
        let x = data.features.map(Double.init), y = data.targets.map(Double.init)
        let means = (0..<p).map { j in (0..<n).reduce(0.0) { $0 + x[$1 * p + j] } / Double(n) }
        let yMean = y.reduce(0, +) / Double(n)
        let xc = (0..<(n * p)).map { x[$0] - means[$0 % p] }
        var residual = y.map { $0 - yMean }
        var w = [Double](repeating: 0, count: p)
        let norms = (0..<p).map { j in (0..<n).reduce(0.0) { $0 + xc[$1 * p + j] * xc[$1 * p + j] } / Double(n) }
        for _ in 0..<100_000 {
            var moved = 0.0
            for j in 0..<p {
                let rho = (0..<n).reduce(0.0) { $0 + xc[$1 * p + j] * residual[$1] } / Double(n) + norms[j] * w[j]
                let soft = (rho > 0 ? 1.0 : -1.0) * max(abs(rho) - alpha * l1Ratio, 0)
                let updated = soft / (norms[j] + alpha * (1 - l1Ratio))
                if updated != w[j] {
                    for r in 0..<n { residual[r] -= xc[r * p + j] * (updated - w[j]) }
                    moved = max(moved, abs(updated - w[j]))
                    w[j] = updated
                }
            }
            if moved < 1e-14 { break }
        }
        return (w, yMean - zip(means, w).reduce(0) { $0 + $1.0 * $1.1 })
    }

    /// Constant features carry nothing: every coefficient 0, the intercept ȳ (mse, Gram engine
    /// with a zero Gram matrix) or the log-odds of the label share (bce), on every device.
    func testConstantFeaturesGiveZeroCoefficients() throws {
        let data = try Dataset(features: [Float](repeating: 2.5, count: 30 * 3), targets: (0..<30).map { Float($0 % 3 == 0 ? 1 : 0) },
                               rows: 30, columns: 3)
        for device in TrainingDevices.all {
            let mse = try ProximalSolver.solve(LinearProblem(loss: .mse, alpha: 0.1, l1Ratio: 0.5), data: data, device: device)
            XCTAssertEqual(mse.coefficients, [0, 0, 0], "\(device.kind)")
            XCTAssertEqual(mse.intercept, 1.0 / 3, accuracy: 1e-6, "\(device.kind)")
            let bce = try ProximalSolver.solve(LinearProblem(loss: .bce, alpha: 0.1, l1Ratio: 1), data: data, device: device)
            XCTAssertEqual(bce.coefficients, [0, 0, 0], "\(device.kind)")
            XCTAssertEqual(bce.intercept, log(0.5), accuracy: 1e-4, "\(device.kind)")
        }
    }
}

import Foundation
@testable import Shrink
import XCTest

/// `CoordinateDescentSolver` (the default of `fit` and `path`) against independent references
/// on every device: scikit-learn's solutions on synthetic data (scripts/gen_sklearn_fixtures.py)
/// and on real, badly scaled data (scripts/gen_realdata_fixtures.py: breast_cancer, diabetes,
/// wine, iris, solved under --standardize at tol ≤ 1e-12 and verified by their own KKT check),
/// and a plain double-precision coordinate descent on wide (p ≫ n) data.
final class CoordinateDescentTests: XCTestCase {
    private typealias Case = SolverFixtureCase

    private let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    private func cases(_ folder: String) throws -> [(String, Case)] {
        let url = fixtures.appendingPathComponent(folder).appendingPathComponent("expected.json")
        return try JSONDecoder().decode([String: Case].self, from: Data(contentsOf: url)).sorted { $0.key < $1.key }
    }

    /// Coefficients and intercepts within 1e-4·(1 + |w|), the same exact zeros, converged, and an
    /// objective no worse than the reference's.
    private func check(_ s: LinearSolution, _ c: Case, data: Dataset, _ label: String) {
        XCTAssertTrue(s.converged, label)
        XCTAssertLessThanOrEqual(s.kktViolation, 1e-5, label)
        XCTAssertEqual(s.coefficients.count, c.coef.count, label)
        for (a, e) in zip(s.coefficients, c.coef) {
            XCTAssertEqual(a, e, accuracy: 1e-4 * (1 + abs(e)), "\(label): \(s.coefficients) vs \(c.coef)")
        }
        for (a, e) in zip(s.intercepts, c.allIntercepts) { XCTAssertEqual(a, e, accuracy: 1e-4 * (1 + abs(e)), label) }
        XCTAssertEqual(s.coefficients.map { $0 == 0 }, c.coef.map { $0 == 0 }, "\(label) zeros")
    }

    func testMatchesScikitLearnSyntheticOnEveryDevice() throws {
        let folder = fixtures.appendingPathComponent("sklearn")
        for device in TrainingDevices.all {
            for (name, c) in try cases("sklearn") {
                let loss = try XCTUnwrap(LossKind(rawValue: c.loss))
                let targets = switch loss { case .mse: "y.npy"; case .bce: "ybin.npy"; case .ce: "yclass.npy" }
                let data = try DataLoader.load(data: folder.appendingPathComponent("X.npy"),
                                               targets: folder.appendingPathComponent(targets), targetColumn: nil)
                let problem = LinearProblem(loss: loss, alpha: c.alpha, l1Ratio: c.l1_ratio)
                let s = try CoordinateDescentSolver.solve(problem, data: data, device: device)
                check(s, c, data: data, "\(device.kind) \(name)")
                XCTAssertLessThanOrEqual(s.objective, problem.objective(data, c.coef, c.allIntercepts) + 1e-9)
            }
        }
    }

    /// Real data, raw features spanning 1e-3…1e3, under --standardize: every loss converges and
    /// matches scikit-learn on the standardized problem, mapped back to the original units.
    func testMatchesScikitLearnOnRealDataOnEveryDevice() throws {
        let all = try cases("realdata")
        XCTAssertGreaterThanOrEqual(all.count, 10)
        XCTAssertEqual(Set(all.compactMap { $0.1.data }), ["breast_cancer", "diabetes", "wine", "iris"])
        for device in TrainingDevices.all {
            for (name, c) in all {
                let folder = fixtures.appendingPathComponent("realdata").appendingPathComponent(try XCTUnwrap(c.data))
                let data = try DataLoader.load(data: folder.appendingPathComponent("X.npy"),
                                               targets: folder.appendingPathComponent("y.npy"), targetColumn: nil)
                let loss = try XCTUnwrap(LossKind(rawValue: c.loss))
                let s = try CoordinateDescentSolver.solve(
                    LinearProblem(loss: loss, alpha: c.alpha, l1Ratio: c.l1_ratio, standardize: c.standardize ?? false),
                    data: data, device: device)
                check(s, c, data: data, "\(device.kind) \(name)")
                // The printed objective is the one minimized (penalty on the standardized coefficients).
                let objective = try XCTUnwrap(c.objective)
                XCTAssertEqual(s.objective, objective, accuracy: 1e-8 * (1 + abs(objective)), "\(device.kind) \(name)")
            }
        }
    }

    /// Wide data (p ≫ n: the working sets matter) and tall data (the Gram route), elastic net
    /// and lasso, against `SolverTests.coordinateDescent` run to 1e-14.
    func testMatchesPlainCoordinateDescentWideAndTall() throws {
        for (n, p, rho) in [(40, 300, 1.0), (40, 300, 0.6), (150, 12, 1.0), (30, 30, 0.9)] {
            var rng = SeededGenerator(seed: UInt64(n * p))
            let x = (0..<(n * p)).map { _ in Float(rng.normal()) }
            let y = (0..<n).map { r in Float(1.5 + 2 * Double(x[r * p]) - Double(x[r * p + 1]) + 0.5 * rng.normal()) }
            let data = try Dataset(features: x, targets: y, rows: n, columns: p)
            let alpha = 0.05
            let (w, b) = SolverTests.coordinateDescent(data, alpha: alpha, l1Ratio: rho)
            for device in TrainingDevices.all {
                let s = try CoordinateDescentSolver.solve(LinearProblem(loss: .mse, alpha: alpha, l1Ratio: rho), data: data,
                                                          device: device)
                let label = "\(device.kind) n \(n) p \(p) ρ \(rho)"
                XCTAssertTrue(s.converged, label)
                for (a, e) in zip(s.coefficients, w) { XCTAssertEqual(a, e, accuracy: 1e-6, label) }
                XCTAssertEqual(s.intercept, b, accuracy: 1e-6, label)
                XCTAssertEqual(s.coefficients.map { $0 == 0 }, w.map { $0 == 0 }, label)
            }
        }
    }

    /// A path (warm starts, strong rule, working sets) equals cold single solves at each α.
    func testPathEqualsColdSolves() throws {
        var rng = SeededGenerator(seed: 11)
        let (n, p) = (60, 200)
        let x = (0..<(n * p)).map { _ in Float(rng.normal()) }
        let y = (0..<n).map { r in Float(Double(x[r * p]) - Double(x[r * p + 5]) + 0.3 * rng.normal() > 0 ? 1 : 0) }
        let data = try Dataset(features: x, targets: y, rows: n, columns: p)
        let device = TrainingDevices.all[0]
        let path = try RegularizationPath.compute(loss: .bce, l1Ratio: 1, standardize: false, train: data, validation: nil,
                                                  epsilon: 0.05, count: 12, folds: 0, seed: 0, device: device)
        XCTAssertTrue(path.misses.isEmpty)
        for point in path.points {
            let cold = try CoordinateDescentSolver.solve(LinearProblem(loss: .bce, alpha: point.alpha, l1Ratio: 1), data: data,
                                                         device: device)
            for (a, e) in zip(point.solution.coefficients, cold.coefficients) {
                XCTAssertEqual(a, e, accuracy: 1e-6 * (1 + abs(e)), "α \(point.alpha)")
            }
        }
        XCTAssertEqual(path.points[0].solution.nonzeros, 0)
        XCTAssertGreaterThan(path.points.last!.solution.nonzeros, 2)
    }

    /// Never silent: a solve stopped early is not converged, with its KKT violation, and the
    /// path lists it in `misses`; one class only is an error.
    func testUnconvergedIsReportedAndSingleClassIsAnError() throws {
        let folder = fixtures.appendingPathComponent("sklearn")
        let data = try DataLoader.load(data: folder.appendingPathComponent("X.npy"),
                                       targets: folder.appendingPathComponent("yclass.npy"), targetColumn: nil)
        let device = TrainingDevices.all[0]
        let early = try CoordinateDescentSolver.solve(LinearProblem(loss: .ce, alpha: 0.002, l1Ratio: 1), data: data,
                                                      device: device, maxIterations: 2)
        XCTAssertFalse(early.converged)
        XCTAssertGreaterThan(early.kktViolation, 1e-5)
        let path = try RegularizationPath.compute(loss: .ce, l1Ratio: 1, standardize: false, train: data, validation: nil,
                                                  epsilon: 0.01, count: 3, folds: 0, seed: 0, device: device,
                                                  maxIterations: 2)
        XCTAssertFalse(path.misses.isEmpty)
        XCTAssertTrue(path.json.contains("\"converged\":false"))
        let one = try Dataset(features: data.features, targets: [Float](repeating: 1, count: data.rows), rows: data.rows,
                              columns: data.columns)
        for loss in [LossKind.bce, .ce] {
            XCTAssertThrowsError(try CoordinateDescentSolver.solve(LinearProblem(loss: loss, alpha: 0.01, l1Ratio: 1), data: one,
                                                                   device: device)) { error in
                XCTAssertTrue("\(error)".contains("one class"), "\(error)")
            }
        }
    }

    /// An explicit grid is used as given, largest α first (as LassoCV sorts it).
    func testExplicitGrid() throws {
        let folder = fixtures.appendingPathComponent("sklearn")
        let data = try DataLoader.load(data: folder.appendingPathComponent("X.npy"),
                                       targets: folder.appendingPathComponent("y.npy"), targetColumn: nil)
        let path = try RegularizationPath.compute(loss: .mse, l1Ratio: 1, standardize: false, train: data, validation: nil,
                                                  epsilon: 0.1, count: 100, folds: 0, seed: 0, device: TrainingDevices.all[0],
                                                  alphas: [0.1, 0.5, 0.02])
        XCTAssertEqual(path.points.map(\.alpha), [0.5, 0.1, 0.02])
        let lasso = try XCTUnwrap(cases("sklearn").first { $0.0 == "lasso" }?.1)
        for (a, e) in zip(path.points[1].solution.coefficients, lasso.coef) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }
}

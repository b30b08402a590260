import Foundation
@testable import Shrink
import XCTest

/// The exact solver (`fit`, `path`, CV) on a sparse Dataset, X̃ = (X − x̄)/s never formed:
/// against scikit-learn on sparse input (scripts/gen_sparse_solver_fixtures.py: real digits,
/// about half zeros, and a seeded text-like matrix with empty rows and columns), against the
/// same problem densified, and within a memory bound that a dense X would break.
final class SparseSolverTests: XCTestCase {
    private let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("sparse_solver")

    private struct Case: Decodable {
        let data: String, loss: String
        let alpha: Double, l1_ratio: Double
        let standardize: Bool
        let coef: [Double]
        let intercept: Double
    }

    /// The fixture `name` as a sparse Dataset, with targets `y` (mse) or `ybin` (bce).
    private func dataset(_ name: String, targets: String = "y") throws -> Dataset {
        let file = { (part: String) in self.folder.appendingPathComponent("\(name).\(part).npy") }
        let starts = try NPY.parseIntegers(NPY.readBytes(file("indptr")), path: name).values
        let indices = try NPY.parseIntegers(NPY.readBytes(file("indices")), path: name).values.map { Int32($0) }
        let y = try NPY.read(file(targets)).values
        let columns = name == "digits" ? 64 : 1500
        let matrix = try SparseMatrix(rows: y.count, columns: columns, rowStarts: starts, columnIndices: indices,
                                      values: try NPY.read(file("data")).values)
        return try Dataset(sparse: matrix, targets: y)
    }

    /// Each coefficient and intercept within `tolerance`·(1 + |e|), the same exact zeros.
    private func assertSame(_ a: LinearSolution, _ e: (coef: [Double], intercepts: [Double]), tolerance: Double,
                            _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.coefficients.count, e.coef.count, label, file: file, line: line)
        var worst = 0.0
        for (x, y) in zip(a.coefficients, e.coef) { worst = max(worst, abs(x - y) / (1 + abs(y))) }
        for (x, y) in zip(a.intercepts, e.intercepts) { worst = max(worst, abs(x - y) / (1 + abs(y))) }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(label): worst relative difference", file: file, line: line)
        let differ = zip(a.coefficients, e.coef).filter { ($0 == 0) != ($1 == 0) }.count
        XCTAssertEqual(differ, 0, "\(label): zero pattern differs at \(differ) coefficients", file: file, line: line)
    }

    func testMatchesScikitLearnOnSparseInputOnEveryDevice() throws {
        let cases = try JSONDecoder().decode([String: Case].self,
                                             from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        XCTAssertEqual(cases.count, 9)
        for device in TrainingDevices.all {
            for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
                let loss = try XCTUnwrap(LossKind(rawValue: c.loss))
                let data = try dataset(c.data, targets: loss == .mse ? "y" : "ybin")
                let problem = LinearProblem(loss: loss, alpha: c.alpha, l1Ratio: c.l1_ratio, standardize: c.standardize)
                let s = try CoordinateDescentSolver.solve(problem, data: data, device: device)
                let label = "\(device.kind) \(name)"
                XCTAssertTrue(s.converged, label)
                XCTAssertLessThanOrEqual(s.kktViolation, 1e-5, label)
                assertSame(s, (c.coef, [c.intercept]), tolerance: 1e-4, label)
            }
        }
    }

    /// The same problem on `data.densified()` (the dense route: X̃ formed) gives the same solution
    /// within 1e-6, for every loss, with and without --standardize.
    func testSparseEqualsDensified() throws {
        let digits = try dataset("digits"), text = try dataset("text")
        var classes = digits
        classes.targets = digits.targets.map { Float(Int($0) % 3) }
        let binary = try dataset("text", targets: "ybin")
        let cases: [(String, Dataset, LossKind, Double, Double)] = [
            ("digits mse", digits, .mse, 0.02, 0.8), ("text mse", text, .mse, 0.01, 0.9),
            ("text bce", binary, .bce, 0.002, 0.8), ("digits ce", classes, .ce, 0.005, 0.9),
        ]
        for device in TrainingDevices.all {
            for (name, data, loss, alpha, rho) in cases {
                for standardize in [false, true] {
                    let problem = LinearProblem(loss: loss, alpha: alpha, l1Ratio: rho, standardize: standardize)
                    let sparse = try CoordinateDescentSolver.solve(problem, data: data, device: device, tolerance: 1e-10)
                    let dense = try CoordinateDescentSolver.solve(problem, data: data.densified(), device: device, tolerance: 1e-10)
                    let label = "\(device.kind) \(name) standardize \(standardize)"
                    XCTAssertTrue(sparse.converged && dense.converged, label)
                    XCTAssertGreaterThan(sparse.nonzeros, 2, label)
                    assertSame(sparse, (dense.coefficients, dense.intercepts), tolerance: 1e-6, label)
                    XCTAssertEqual(sparse.objective, dense.objective, accuracy: 1e-9 * (1 + abs(dense.objective)), label)
                    XCTAssertEqual(sparse.score, dense.score, accuracy: 1e-9, label)
                }
            }
        }
    }

    /// A path with 3-fold CV and a validation set on digits (mse: the dense route takes the Gram
    /// matrix, the sparse one coordinate descent on the columns): the grid (α_max from the sparse gradient), every
    /// solution, the validation losses (sparse scoring) and the CV curve equal the densified run's.
    func testPathWithCrossValidationEqualsDensified() throws {
        for (loss, targets) in [(LossKind.mse, "y"), (.bce, "ybin")] {
            let data = try dataset("digits", targets: targets)
            let (train, validation) = try data.split(testFraction: 0.25, seed: 3)
            func path(_ densify: Bool) throws -> RegularizationPath {
                try RegularizationPath.compute(loss: loss, l1Ratio: 0.9, standardize: true,
                                               train: densify ? train.densified() : train,
                                               validation: densify ? validation?.densified() : validation,
                                               epsilon: 0.02, count: 12, folds: 3, seed: 5, device: TrainingDevices.all[0])
            }
            let (sparse, dense) = (try path(false), try path(true))
            XCTAssertTrue(sparse.misses.isEmpty, "\(loss)")
            XCTAssertEqual(sparse.points.count, dense.points.count)
            for (a, e) in zip(sparse.points, dense.points) {
                let label = "\(loss) α \(e.alpha)"
                XCTAssertEqual(a.alpha, e.alpha, accuracy: 1e-12 * e.alpha, label)
                assertSame(a.solution, (e.solution.coefficients, e.solution.intercepts), tolerance: 1e-6, label)
                XCTAssertEqual(a.validationLoss!, e.validationLoss!, accuracy: 1e-7 * (1 + e.validationLoss!), label)
                XCTAssertEqual(a.trainLoss, e.trainLoss, accuracy: 1e-7 * (1 + e.trainLoss), label)
            }
            XCTAssertEqual(sparse.points.last!.solution.nonzeros > 5, true, "\(loss)")
            let (cvA, cvE) = (try XCTUnwrap(sparse.crossValidation), try XCTUnwrap(dense.crossValidation))
            for (a, e) in zip(cvA.meanLoss, cvE.meanLoss) { XCTAssertEqual(a, e, accuracy: 1e-7 * (1 + e), "\(loss) CV") }
            XCTAssertEqual(cvA.alphaMin, cvE.alphaMin, accuracy: 1e-12 * cvE.alphaMin, "\(loss)")
            XCTAssertEqual(cvA.alpha1SE, cvE.alpha1SE, accuracy: 1e-12 * cvE.alpha1SE, "\(loss)")
        }
    }

    /// The sparse design's products with X̃ (implicit centering) equal the dense design's, where
    /// X̃ is formed: x̃_jᵀv for a v with Σv ≠ 0, the screening pass X̃ᵀR on every device (float32),
    /// X̃_S·u + b, a dense column, and ‖∇f(0)‖∞.
    func testSparseDesignProductsEqualTheFormedX() throws {
        let data = try dataset("digits")
        var rng = SeededGenerator(seed: 8)
        let v = (0..<data.rows).map { _ in 1 + rng.normal() }
        let list = [0, 3, 10, 21, 36, 63]
        for device in TrainingDevices.all {
            for standardize in [false, true] {
                let sparse = try SolverDesign(loss: .ce, data: data, standardize: standardize, device: device, classes: nil)
                let dense = try SolverDesign(loss: .ce, data: data.densified(), standardize: standardize, device: device,
                                             classes: nil)
                let label = "\(device.kind) standardize \(standardize)"
                let close = { (a: [Double], e: [Double], tolerance: Double, what: String) in
                    XCTAssertEqual(a.count, e.count, "\(label) \(what)")
                    for (x, y) in zip(a, e) { XCTAssertEqual(x, y, accuracy: tolerance * (1 + abs(y)), "\(label) \(what)") }
                }
                close(sparse.dots(list, v), dense.dots(list, v), 1e-12, "x̃ᵀv")
                let residuals = (0..<(sparse.outputs * data.rows)).map { _ in rng.normal() + 0.5 }
                close(try sparse.screen(residuals), try dense.screen(residuals), 1e-3, "X̃ᵀR")  // float32; ΣR ≈ 300 cancels here
                let u = list.map { _ in rng.normal() }
                close(sparse.combination(list, u, intercept: 0.7), dense.combination(list, u, intercept: 0.7), 1e-12, "X̃u + b")
                close(sparse.column(5), dense.column(5), 1e-12, "x̃_5")
                XCTAssertEqual(sparse.scale, dense.scale, accuracy: 1e-12 * dense.scale, label)
            }
        }
    }

    /// One polish (the model solved on the support, signs fixed) gives the same step on the
    /// sparse design (A from scattered columns and the centering terms) as on the formed X̃.
    func testSparsePolishEqualsDensePolish() throws {
        let data = try dataset("digits")
        var rng = SeededGenerator(seed: 9)
        let n = data.rows
        let rho = (0..<n).map { _ in 0.01 * rng.normal() }, v = (0..<n).map { _ in (0.1 + rng.nextUnit()) / Double(n) }
        let working = [2, 5, 10, 19, 20, 27, 33, 42, 43, 50, 60]
        var start = [Double](repeating: 0, count: 64)
        for j in working.prefix(7) { start[j] = rng.normal() }
        var results: [(w: [Double], b: Double)] = []
        for x in [data, data.densified()] {
            let design = try SolverDesign(loss: .bce, data: x, standardize: true, device: TrainingDevices.all[0], classes: nil)
            var model = BlockModel(rho: rho, v: v, fitsIntercept: true)
            let solver = BlockSolver(design: design, working: working, model: model, l1: 1e-4, l2: 1e-3)
            var (w, b) = (start, 0.3)
            _ = solver.polish(&model, &w, offset: 0, intercept: &b)
            results.append((w, b))
        }
        XCTAssertNotEqual(results[0].w, start)
        for (a, e) in zip(results[0].w, results[1].w) { XCTAssertEqual(a, e, accuracy: 1e-10 * (1 + abs(e))) }
        XCTAssertEqual(results[0].b, results[1].b, accuracy: 1e-10)
    }

    /// Scoring a solution on sparse rows (fit's test score) equals scoring it on the dense rows.
    func testEvaluateAndObjectiveOnSparseRows() throws {
        let data = try dataset("digits")
        var rng = SeededGenerator(seed: 4)
        let solutions = (0..<3).map { _ in
            LinearSolution(coefficients: (0..<64).map { _ in rng.nextUnit() < 0.5 ? 0 : rng.normal() },
                           intercepts: [rng.normal()], objective: 0, iterations: 0, converged: true)
        }
        for loss in [LossKind.mse, .bce] {
            var rows = data
            if loss == .bce { rows.targets = data.targets.map { $0 >= 5 ? 1 : 0 } }
            let a = LinearSolution.evaluate(loss, rows, solutions), e = LinearSolution.evaluate(loss, rows.densified(), solutions)
            for (x, y) in zip(a, e) {
                XCTAssertEqual(x.loss, y.loss, accuracy: 1e-12 * (1 + y.loss), "\(loss)")
                XCTAssertEqual(x.score, y.score, accuracy: 1e-12, "\(loss)")
            }
            let problem = LinearProblem(loss: loss, alpha: 0.1, l1Ratio: 0.5)
            let (w, b) = (solutions[0].coefficients, solutions[0].intercepts)
            XCTAssertEqual(problem.objective(rows, w, b), problem.objective(rows.densified(), w, b), accuracy: 1e-12)
        }
    }

    /// FISTA (fit --solver fista, path --batched) densifies X: a clear error, never a trap.
    func testFISTARejectsSparseDataClearly() throws {
        let data = try dataset("text")
        let device = TrainingDevices.all[0]
        XCTAssertThrowsError(try ProximalSolver.solve(LinearProblem(loss: .mse, alpha: 0.01, l1Ratio: 1), data: data,
                                                      device: device)) { error in
            XCTAssertTrue("\(error)".contains("does not take sparse data") && "\(error)".contains("--solver cd"), "\(error)")
        }
        XCTAssertThrowsError(try RegularizationPath.compute(loss: .mse, l1Ratio: 1, standardize: false, train: data,
                                                            validation: nil, epsilon: 0.1, count: 3, folds: 0, seed: 0,
                                                            device: device, batched: true)) { error in
            XCTAssertTrue("\(error)".contains("sparse"), "\(error)")
        }
    }

    /// A wide sparse fit: n = 20,000, p = 1,000,000, 2M non-zeros (dense float32 X would be 80 GB,
    /// its Double X̃ 160 GB). It must finish with the process's peak RSS grown by under 1 GiB:
    /// O(nnz + p) — the data (24 MB as CSR), its CSC copy, the device's Xᵀ and a few p-vectors.
    func testWideSparseFitStaysWithinMemoryBound() throws {
        let (n, p, perRow) = (20_000, 1_000_000, 100)
        var rng = SeededGenerator(seed: 21)
        var starts = [0], indices = [Int32](), values = [Float]()
        indices.reserveCapacity(n * perRow)
        values.reserveCapacity(n * perRow)
        var y = [Float]()
        for _ in 0..<n {
            let row = Set((0..<perRow).map { _ in Int32(Double(p) * pow(rng.nextUnit(), 3)) }).sorted()  // power law
            indices += row
            values += row.map { _ in Float(1 + rng.nextUnit()) }
            starts.append(indices.count)
            let signal = row.prefix(while: { $0 < 50 }).reduce(0.0) { $0 + ($1 % 2 == 0 ? 1 : -1) }
            y.append(Float(signal + 0.1 * rng.normal()))
        }
        let data = try Dataset(sparse: try SparseMatrix(rows: n, columns: p, rowStarts: starts, columnIndices: indices,
                                                        values: values), targets: y)
        let before = peakResidentBytes()
        let solver = try CoordinateDescentSolver(loss: .mse, data: data, standardize: false, device: TrainingDevices.all[0])
        let s = try solver.solve(alpha: 0.05 * solver.gradientAtZero, l1Ratio: 1)
        let grown = peakResidentBytes() - before
        XCTAssertTrue(s.converged)
        XCTAssertGreaterThan(s.nonzeros, 0)
        print("wide sparse fit: \(s.nonzeros) non-zeros, peak RSS grew \(grown >> 20) MiB (dense X: \((n * p * 4) >> 30) GiB)")
        XCTAssertLessThan(grown, 1 << 30, "peak RSS grew \(grown >> 20) MiB")
    }

    private func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // Linux: KiB
    }
}

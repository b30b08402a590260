import Foundation

/// A regularization path (glmnet's and scikit-learn's `enet_path`): α from α_max, where every
/// coefficient is zero, down to ε·α_max in log steps, each solve warm-started from the last;
/// with K-fold cross-validation, α_min (least mean validation loss) and α_1se (the largest α
/// whose mean is within one standard error of that minimum, glmnet's rule).
public struct RegularizationPath: Sendable {
    public struct Point: Sendable {
        public var alpha: Double
        public var solution: LinearSolution
        /// Mean loss on the training rows (mse: squared error; bce: log loss).
        public var trainLoss: Double
        /// Mean loss on the validation rows, when given.
        public var validationLoss: Double?
        /// scikit-learn's `score`, R² (mse) or accuracy (bce, ce), on the training rows.
        public var trainScore: Double
        /// The same on the validation rows, when given.
        public var validationScore: Double?
    }

    public struct CrossValidation: Sendable {
        public var meanLoss: [Double]
        public var standardError: [Double]
        public var alphaMin: Double
        public var alpha1SE: Double
    }

    public var points: [Point]
    public var crossValidation: CrossValidation?
    /// The training data's feature names and class labels (from a CSV header and its targets),
    /// used in the JSON and CSV output instead of positions.
    public var featureNames: [String]?
    public var classNames: [String]?

    /// α_max: the smallest α whose solution is all zeros: the largest gradient entry of the
    /// data term at W = 0 with the intercepts fitted, ‖Xᵀ(Y − Ȳ)‖∞ / (n·max(ρ, 10⁻³)), where Y
    /// is y (mse, bce) or the one-hot labels (ce: softmax(b) then equals the class shares),
    /// raised by a relative 10⁻⁴ so that the float32 solver's first point is exactly zero.
    public static func alphaMax(_ data: Dataset, l1Ratio: Double, standardize: Bool, loss: LossKind = .mse) -> Double {
        let scales = standardize ? Standardization(fitting: data).scales : nil
        // + 10⁻⁴: at exactly α_max a float32 gradient's rounding can leave a 10⁻⁸ coefficient.
        return KKTCheck.gradientAtZero(data, loss: loss, scales: scales) / max(l1Ratio, 1e-3) * (1 + 1e-4)
    }

    /// The grid: `count` values from α_max down to ε·α_max, evenly spaced in log α.
    public static func grid(alphaMax: Double, epsilon: Double, count: Int) -> [Double] {
        guard count > 1 else { return [alphaMax] }
        return (0..<count).map { alphaMax * pow(epsilon, Double($0) / Double(count - 1)) }
    }

    /// Where a path computation is: fold f of F (nil: the path on all training rows), α i of K.
    public struct Progress: Sendable {
        public var fold: Int?
        public var folds: Int
        public var alphaIndex: Int
        public var alphaCount: Int
    }

    /// A solution that missed the KKT tolerance: on the main path (fold nil) or in a CV fold.
    public struct Miss: Sendable {
        public var fold: Int?
        public var alpha: Double
        public var kktViolation: Double
        public var iterations: Int
    }

    /// Every solution, main path and CV folds, that missed the KKT tolerance.
    public var misses: [Miss] = []
    /// Seconds spent loading the data and solving, when the caller measured them (JSON "timing").
    public var timing: (load: Double, solve: Double)?

    /// Computes the path on `train` (scored on `validation` when given) and, with `folds` ≥ 2,
    /// the cross-validation curve over seeded folds of `train`, on the grid `alphas` (default:
    /// `count` values from α_max down to ε·α_max; an explicit grid is sorted largest first).
    ///
    /// By default each α is solved by `CoordinateDescentSolver`, warm-started from the last, to
    /// the relative KKT violation `tolerance` (a solution above `kktTolerance` is not converged
    /// and is listed in `misses`). `batched` runs FISTA on the device instead, `modelsPerBatch`
    /// consecutive α at a time (default: all for mse, 4 for bce and ce) as one K-model problem
    /// (one matmul for all), each batch warm-started from the one before.
    public static func compute(loss: LossKind, l1Ratio: Double, standardize: Bool, train: Dataset, validation: Dataset?,
                               epsilon: Double, count: Int, folds: Int, seed: UInt64, device: any Device,
                               alphas explicit: [Double]? = nil, tolerance: Double = 1e-7, kktTolerance: Double = 1e-5,
                               maxIterations: Int = 100_000, batched: Bool = false, modelsPerBatch: Int? = nil,
                               parallel: DataParallel? = nil,
                               progress: (@Sendable (Progress) -> Void)? = nil) throws -> RegularizationPath {
        guard parallel == nil || !batched else {
            throw TrainingError.invalidConfiguration("the batched path is not distributed over MPI ranks")
        }
        try train.requireClasses(for: loss, communicator: parallel?.communicator ?? .single)
        let classes = loss == .ce ? try train.outputCount(for: .ce) : nil
        // Under MPI the main path's solver is made first: its design (summed over the ranks)
        // gives α_max.
        let mainSolver = try parallel.map {
            try CoordinateDescentSolver(loss: loss, data: train, standardize: standardize, device: device, classes: classes,
                                        communicator: $0.communicator)
        }
        let alphas = try explicit.map(validatedGrid) ?? grid(
            alphaMax: mainSolver.map { $0.gradientAtZero / max(l1Ratio, 1e-3) * (1 + 1e-4) }
                ?? alphaMax(train, l1Ratio: l1Ratio, standardize: standardize, loss: loss),
            epsilon: epsilon, count: count)
        let walker = PathWalker(loss: loss, l1Ratio: l1Ratio, standardize: standardize, alphas: alphas,
                                classes: classes, device: device,
                                tolerance: tolerance, kktTolerance: kktTolerance, maxIterations: maxIterations,
                                batched: batched, modelsPerBatch: modelsPerBatch, folds: folds,
                                communicator: parallel?.communicator ?? .single, progress: progress)
        let (points, mainMisses) = try walker.walk(train, scoring: validation, fold: nil, solver: mainSolver)
        var misses = mainMisses
        var crossValidation: CrossValidation?
        if folds >= 2 {
            let (cv, foldMisses) = try walker.crossValidate(train, seed: seed, parallel: parallel)
            crossValidation = cv
            misses += foldMisses
        }
        var path = RegularizationPath(points: points, crossValidation: crossValidation)
        path.misses = misses
        path.featureNames = train.featureNames
        path.classNames = train.classNames
        return path
    }

    /// An explicit grid, sorted largest first as LassoCV sorts it (warm starts and the 1-SE rule
    /// assume it).
    private static func validatedGrid(_ explicit: [Double]) throws -> [Double] {
        guard !explicit.isEmpty, explicit.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw TrainingError.invalidConfiguration("the α grid must be finite numbers ≥ 0")
        }
        return explicit.sorted(by: >)
    }
}

/// One walk down the α grid on some rows, and the cross-validation made of such walks.
private struct PathWalker {
    let loss: LossKind
    let l1Ratio: Double
    let standardize: Bool
    let alphas: [Double]
    let classes: Int?
    let device: any Device
    let tolerance: Double
    let kktTolerance: Double
    let maxIterations: Int
    let batched: Bool
    let modelsPerBatch: Int?
    let folds: Int
    /// Under mpirun, the job whose ranks each hold a part of the rows (`.single`: one process).
    let communicator: Communicator
    let progress: (@Sendable (RegularizationPath.Progress) -> Void)?

    /// The path on `data`, each point scored on `scoring` when given, and the solutions that
    /// missed the KKT tolerance (`solver`: one already made for `data`).
    func walk(_ data: Dataset, scoring: Dataset?, fold: Int?, solver: CoordinateDescentSolver? = nil) throws
        -> (points: [RegularizationPath.Point], misses: [RegularizationPath.Miss]) {
        let report = { (done: Int) -> Void in
            progress?(RegularizationPath.Progress(fold: fold, folds: folds, alphaIndex: done, alphaCount: alphas.count))
        }
        let solutions = batched ? try solveInBatches(data, report: report)
            : try solveOneByOne(data, solver: solver, report: report)
        let misses = zip(alphas, solutions).filter { !$0.1.converged }.map { alpha, s in
            RegularizationPath.Miss(fold: fold, alpha: alpha, kktViolation: s.kktViolation, iterations: s.iterations)
        }
        // Each solve scored its own rows; the held-out rows are scored here.
        let validation = try scoring.map { try LinearSolution.evaluate(loss, $0, solutions, communicator: communicator) }
        let points = alphas.indices.map { i in
            RegularizationPath.Point(alpha: alphas[i], solution: solutions[i], trainLoss: solutions[i].dataLoss,
                                     validationLoss: validation?[i].loss, trainScore: solutions[i].score,
                                     validationScore: validation?[i].score)
        }
        return (points, misses)
    }

    /// Coordinate descent, each α warm-started from the one before.
    private func solveOneByOne(_ data: Dataset, solver made: CoordinateDescentSolver?,
                               report: (Int) -> Void) throws -> [LinearSolution] {
        let solver = try made ?? CoordinateDescentSolver(loss: loss, data: data, standardize: standardize, device: device,
                                                         classes: classes, communicator: communicator)
        var solutions: [LinearSolution] = []
        for alpha in alphas {
            solutions.append(try solver.solve(alpha: alpha, l1Ratio: l1Ratio, tolerance: tolerance,
                                              kktTolerance: kktTolerance, maxIterations: maxIterations,
                                              start: solutions.last))
            report(solutions.count)
        }
        return solutions
    }

    /// FISTA on the device, consecutive α in batches, each batch warm-started from the last
    /// solution of the one before: the whole grid at once for mse (its Gram iterations converge
    /// from zero in tens), batches of 4 for the logistic losses, whose small-α problems take
    /// thousands of iterations from zero but hundreds from a neighbour.
    private func solveInBatches(_ data: Dataset, report: (Int) -> Void) throws -> [LinearSolution] {
        let size = max(1, min(modelsPerBatch ?? (loss == .mse ? alphas.count : 4), alphas.count))
        let solver = try BatchedProximalSolver(loss: loss, data: data, standardize: standardize, models: size,
                                               device: device, classes: classes)
        var solutions: [LinearSolution] = []
        for start in stride(from: 0, to: alphas.count, by: size) {
            let batch = Array(alphas[start..<min(start + size, alphas.count)])
            let padded = batch + Array(repeating: batch[batch.count - 1], count: size - batch.count)
            let warm = solutions.last.map { Array(repeating: $0, count: size) }
            solutions += try solver.solve(alphas: padded, l1Ratio: l1Ratio, tolerance: tolerance,
                                          kktTolerance: kktTolerance, maxIterations: maxIterations, starts: warm)
                .prefix(batch.count)
            report(solutions.count)
        }
        return solutions
    }

    /// K-fold cross-validation over seeded folds of `train`: each fold's path scored on its
    /// held-out rows. Under MPI (`parallel`) the folds are those of all the training rows, as
    /// one process deals them, and each fold's path is solved by all the ranks together, each
    /// on its own rows of the fold.
    func crossValidate(_ train: Dataset, seed: UInt64, parallel: DataParallel?) throws
        -> (RegularizationPath.CrossValidation, [RegularizationPath.Miss]) {
        let total = parallel?.globalRows ?? train.rows
        guard folds <= total else {
            throw TrainingError.invalidConfiguration("--cv \(folds) needs at least \(folds) rows, got \(total)")
        }
        let fold: [Int]
        if let parallel {
            // Every training row's target at its global position (one slot per row: the sum is exact).
            var targets = [Double](repeating: 0, count: total)
            for (r, position) in parallel.positions.enumerated() { targets[position] = Double(train.targets[r]) }
            try parallel.communicator.agreedSum(&targets)
            let global = try RegularizationPath.foldOf(targets: targets.map { Float($0) }, classNames: train.classNames,
                                                       loss: loss, folds: folds, seed: seed)
            fold = parallel.positions.map { global[$0] }
        } else {
            fold = try RegularizationPath.foldOf(train, loss: loss, folds: folds, seed: seed)
        }
        var losses = [[Double]](repeating: [], count: alphas.count)  // [α][fold]
        var misses: [RegularizationPath.Miss] = []
        for k in 0..<folds {
            let held = (0..<train.rows).filter { fold[$0] == k }
            let kept = (0..<train.rows).filter { fold[$0] != k }
            let (points, foldMisses) = try walk(train.subset(kept), scoring: train.subset(held), fold: k)
            for (i, point) in points.enumerated() { losses[i].append(point.validationLoss ?? .nan) }
            misses += foldMisses
        }
        return (RegularizationPath.CrossValidation(alphas: alphas, foldLosses: losses), misses)
    }
}

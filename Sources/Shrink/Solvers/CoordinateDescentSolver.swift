import CBLAS
import Foundation

/// The exact solver of `LinearProblem` (scikit-learn's objective) behind `shrink fit` and
/// `shrink path`: working sets, coordinate descent in Double, and proximal Newton steps for
/// the logistic losses — the design shared by glmnet (Friedman, Hastie & Tibshirani 2010),
/// liblinear's newGLMNET (Yuan, Ho & Lin 2012), celer (Massias et al. 2018) and skglm
/// (Bertrand et al. 2022).
///
/// For each α:
/// 1. The working set W: the current nonzeros, plus (along a path) the sequential strong
///    rule's candidates |∇_j f| ≥ 2λ₁ − λ₁_prev (Tibshirani et al. 2012).
/// 2. The problem restricted to W is solved to the KKT tolerance: mse by coordinate descent
///    on the Gram matrix (n > p) or with residual updates; bce by proximal Newton (weights
///    σ(1 − σ), coordinate descent on the quadratic model, Armijo backtracking on the true
///    objective); ce the same one class block at a time (the Hessian's diagonal blocks, as
///    glmnet), then, once the blocks keep the support, joint steps over all classes (the full
///    multinomial Hessian on the support, `jointNewtonStep`). Once coordinate descent has
///    spent as much as a Cholesky factorization costs and the signs have settled, the model is
///    solved exactly on its support (`polish`), which is what makes ill-conditioned real data
///    converge.
/// 3. The screening pass: the gradient of every column, X̃ᵀR (on the device, float32). Columns
///    outside W whose |∇_j f| comes within a float32 margin of λ₁ join W (the largest
///    first, at most doubling it) and step 2 runs again; when none do, the solution is optimal.
///
/// The reported KKT violation is measured in Double on W and the intercepts (every column
/// outside W meets its condition with the margin to spare), relative to ‖∇f(0)‖∞.
///
/// A sparse `Dataset` is never densified: X is kept by columns with X̃ implicit
/// (`SparseColumns`), so a coordinate update costs its column's non-zeros, the screening pass
/// is Xᵀ·R on the device, and memory is O(nnz + k·p) (no Gram route; ce's joint Newton step
/// only while its dense support columns are no larger than X).
public final class CoordinateDescentSolver {
    let design: SolverDesign
    public var outputs: Int { design.outputs }
    /// ‖∇f(0)‖∞ on the (scaled) training data: α_max·ρ.
    public var gradientAtZero: Double { design.scale }
    /// The last solution's screening gradient (max over outputs of |∇_j f|) and its λ₁.
    private var previous: (gradient: [Double], l1: Double)?
    /// Called after each working-set round of a solve with the sweeps so far (a progress line).
    public var progress: (@Sendable (_ sweeps: Int) -> Void)?
    /// Relative float32 error allowed for in the device's screening gradient.
    static let screeningMargin = 1e-6

    /// `classes` (ce) fixes the class count when `data` may lack the highest label.
    ///
    /// `communicator`: under mpirun, `data` is this rank's share of the rows (every rank calls
    /// this and then `solve` with the same arguments) and the solver works on all of them
    /// together: the Gram route sums X̃ᵀX̃ and X̃ᵀy over the ranks once; the row route sums each
    /// proximal-Newton model (X̃_Wᵀ V X̃_W and X̃_Wᵀρ over the working set W) per step, the
    /// screening gradient per working-set round and the losses of the line search
    /// (`reducedNewtonStep`), and ce's joint step its multinomial Hessian (`jointNewtonStep`).
    /// Every rank ends with the same solution.
    public init(loss: LossKind, data: Dataset, standardize: Bool, device: any Device, classes: Int? = nil,
                communicator: Communicator = .single) throws {
        try data.requireClasses(for: loss, communicator: communicator)
        design = try SolverDesign(loss: loss, data: data, standardize: standardize, device: device, classes: classes,
                                  communicator: communicator)
    }

    /// Solves `problem` on `data` in a fresh session.
    public static func solve(_ problem: LinearProblem, data: Dataset, device: any Device, tolerance: Double = 1e-7,
                             kktTolerance: Double = 1e-5, maxIterations: Int = 100_000) throws -> LinearSolution {
        try problem.validate()
        return try CoordinateDescentSolver(loss: problem.loss, data: data, standardize: problem.standardize, device: device)
            .solve(alpha: problem.alpha, l1Ratio: problem.l1Ratio, tolerance: tolerance, kktTolerance: kktTolerance,
                   maxIterations: maxIterations)
    }

    /// The solution for α and ρ from `start` (a warm start, in the original units) or from
    /// zero. It iterates until the relative KKT violation is at most `tolerance` and the
    /// coordinate moves estimate the distance to the solution (`ErrorEstimate`, relative to
    /// 1 + |w|, standardized units) below `tolerance` too, or `maxIterations` sweeps have run;
    /// it is `converged` when the violation is at most `kktTolerance`.
    public func solve(alpha: Double, l1Ratio: Double, tolerance: Double = 1e-7, kktTolerance: Double = 1e-5,
                      maxIterations: Int = 100_000, start: LinearSolution? = nil) throws -> LinearSolution {
        try LinearProblem(loss: design.loss, alpha: alpha, l1Ratio: l1Ratio).validate()
        let (p, k) = (design.columns, design.outputs)
        let scale = max(design.scale, 1e-12)
        var state = State(design: design, l1: alpha * l1Ratio, l2: alpha * (1 - l1Ratio), target: tolerance * scale,
                          errorTarget: tolerance, maxSweeps: maxIterations)
        if let start {
            guard start.coefficients.count == k * p, start.intercepts.count == k else {
                throw TrainingError.invalidConfiguration("the warm start has \(start.coefficients.count) coefficients, expected \(k * p)")
            }
            (state.w, state.b) = design.scaledUnits(start)
        } else {
            state.b = try design.interceptsAtZero()
        }
        state.prepare()
        var member = [Bool](repeating: false, count: p)
        var working: [Int] = []
        func include(_ j: Int) { if !member[j] { member[j] = true; working.append(j) } }
        for j in 0..<p where (0..<k).contains(where: { state.w[$0 * p + j] != 0 }) { include(j) }
        if start != nil, let previous {
            for j in 0..<p where previous.gradient[j] >= 2 * state.l1 - previous.l1 { include(j) }
        }
        var outside = 0.0
        var gradient = [Double](repeating: 0, count: p)
        while true {
            working.sort()
            try state.solve(working: working)
            gradient = try state.gradientMagnitudes()
            let threshold = state.l1 - Self.screeningMargin * scale
            let candidates = (0..<p).filter { !member[$0] && gradient[$0] > threshold }.sorted { gradient[$0] > gradient[$1] }
            outside = candidates.map { max(gradient[$0] - state.l1, 0) }.max() ?? 0
            progress?(state.sweeps)
            if candidates.isEmpty || state.sweeps >= maxIterations { break }
            for j in candidates.prefix(max(10, working.count)) { include(j) }
        }
        previous = (gradient, state.l1)
        let kkt = max(try state.violation(working: working), outside) / scale
        let (w, b) = design.originalUnits(weights: state.w, intercepts: state.b)
        var solution = LinearSolution(coefficients: w, intercepts: b, objective: .nan, iterations: state.sweeps,
                                      converged: kkt <= kktTolerance)
        solution.kktViolation = kkt
        (solution.dataLoss, solution.score) = try state.lossAndScore()
        // The objective that was minimized: under --standardize the penalty is on the scaled coefficients.
        solution.objective = LinearProblem(loss: design.loss, alpha: alpha, l1Ratio: l1Ratio)
            .objective(meanLoss: solution.dataLoss, coefficients: state.w)
        return solution
    }
}

extension Dataset {
    /// Throws when bce or ce targets hold one class only (no classifier exists to fit).
    public func requireClasses(for loss: LossKind) throws {
        try requireClasses(for: loss, communicator: .single)
    }

    /// The same over the rows of every rank of an MPI job (a rank may hold one class, or none).
    func requireClasses(for loss: LossKind, communicator: Communicator) throws {
        guard loss != .mse else { return }
        // Per rank: has rows, all 0, all 1, the lowest and the highest class (ce labels are 0..<k).
        let flags = [targets.isEmpty ? 0 : 1, targets.allSatisfy { $0 == 0 } ? 1 : 0, targets.allSatisfy { $0 == 1 } ? 1 : 0,
                     Int(targets.min() ?? 0), Int(targets.max() ?? 0)]
        let ranks = try communicator.gather(flags).filter { $0[0] == 1 }
        guard let first = ranks.first else { return }
        let single = loss == .bce ? (ranks.allSatisfy { $0[1] == 1 } || ranks.allSatisfy { $0[2] == 1 })
            : ranks.allSatisfy { $0[3] == first[3] && $0[4] == first[3] }
        if single {
            throw TrainingError.invalidData(
                "the targets hold one class only (every row is \(Float(loss == .bce ? first[2] : first[3]))): a classifier needs at least two classes")
        }
    }
}

extension SolverDesign {
    /// The intercepts that fit the data with w = 0 (scaled space): bce logit(ȳ), ce the log
    /// class shares (centered), mse 0 (ỹ is centered).
    func interceptsAtZero() throws -> [Double] {
        switch loss {
        case .mse: return [0]
        case .bce:
            var sum = [targets.reduce(0, +)]
            try self.sum(&sum)
            let mean = min(max(sum[0] / Double(totalRows), 1e-12), 1 - 1e-12)
            return [log(mean / (1 - mean))]
        case .ce:
            var counts = [Double](repeating: 0, count: outputs)
            for t in targets where Int(t) < outputs { counts[Int(t)] += 1 }
            try sum(&counts)
            let logs = counts.map { log(max($0 / Double(totalRows), 1e-12)) }
            let mean = logs.reduce(0, +) / Double(outputs)
            return logs.map { $0 - mean }
        }
    }
}

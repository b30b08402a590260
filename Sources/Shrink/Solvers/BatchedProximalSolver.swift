import CBLAS
import Foundation

/// K penalized linear problems on the same data solved as one by FISTA (Beck & Teboulle
/// 2009) with adaptive restart (O'Donoghue & Candès 2015): the weights of all K models form
/// one stacked [K·k, p] matrix (k = 1 output for mse and bce, the k classes for ce), each
/// iteration is one gradient for all K and one `fistaStep` launch (gradient step, elastic-net
/// prox whose rows carry each model's own threshold and shrink, momentum update). The step is
/// 1/L with L the data term's Lipschitz bound (the L2 term is in the prox, so it needs no room
/// in the step).
///
/// The gradient comes from one of two engines:
/// - Gram (mse with n > p, as scikit-learn's `precompute='auto'`): the centered Gram matrix
///   G = X̃ᵀX̃/n and c = X̃ᵀỹ/n are formed once on the device (two matmuls), and the data
///   term's gradient is W·G − c: one [K, p]×[p, p] matmul per iteration however many rows;
///   the intercept is ȳ − x̄ᵀw at the end.
/// - Trainer (bce, ce, or mse with n ≤ p): the training loop's own forward, loss and
///   backward over all rows for K stacked linear models; the unpenalized intercepts are part
///   of the iterate (ce's last intercept pinned: softmax is flat along a shift of all k).
public final class BatchedProximalSolver {
    let loss: LossKind
    let data: Dataset
    let scales: [Double]
    let device: any Device
    let models: Int
    /// Outputs per model: 1, or the class count for ce.
    public let outputs: Int
    private let engine: Engine
    /// The iterate x (FISTA's extrapolated point z is the engine's parameters).
    private let previous: Buffer
    private let thresholds: Buffer, shrinks: Buffer
    /// The data term's Lipschitz constant, in the engine's scale.
    private let lipschitz: Double
    /// Relative moves over 20 iterations below this are float32 rounding (≈ 40 ulps of 1).
    static let floatFloor = 5e-6
    /// The optimality conditions, checked on the host whenever the iterates have settled.
    private let kkt: KKTCheck

    private enum Engine {
        case gram(gram: Buffer, target: Buffer, z: Buffer, gradient: Buffer, means: [Double], targetMean: Double)
        case trainer(Trainer, pin: Buffer?)
    }

    /// `classes` (ce) fixes the class count when `data` may lack the highest label.
    public init(loss: LossKind, data: Dataset, standardize: Bool, models: Int, device: any Device,
                classes: Int? = nil) throws {
        try LinearProblem(loss: loss, alpha: 0, l1Ratio: 1).validate()
        try data.requireClasses(for: loss)
        guard !data.isSparse else {
            throw TrainingError.invalidConfiguration(
                "FISTA (fit --solver fista, path --batched) does not take sparse data: it would densify X; " +
                "use --solver cd (the default of fit) and path without --batched")
        }
        guard models > 0 else { throw TrainingError.invalidConfiguration("the batched solver needs at least one model") }
        self.loss = loss
        self.data = data
        self.device = device
        self.models = models
        scales = standardize ? Standardization(fitting: data).scales : [Double](repeating: 1, count: data.columns)
        let scaled = try Self.scaledData(data, scales)
        let (n, p) = (data.rows, data.columns)
        if loss == .mse, n > p {
            let (centered, means) = Self.centered(scaled)
            let targetMean = data.targets.reduce(0.0) { $0 + Double($1) } / Double(n)
            let x = try device.makeBuffer(centered)
            let y = try device.makeBuffer(data.targets.map { Float(Double($0) - targetMean) })
            let gram = try device.makeBuffer(count: p * p), c = try device.makeBuffer(count: p)
            try device.matmul(MatmulShape(m: p, n: p, k: n, transposeA: true), alpha: 1 / Float(n), a: x, at: 0, b: x, at: 0,
                              beta: 0, c: gram, at: 0)
            try device.matmul(MatmulShape(m: p, n: 1, k: n, transposeA: true), alpha: 1 / Float(n), a: x, at: 0, b: y, at: 0,
                              beta: 0, c: c, at: 0)
            let cValues = try device.read(c)
            let gramValues = try device.read(gram).map(Double.init)
            kkt = KKTCheck(gram: gramValues, c: cValues.map(Double.init))
            let target = try device.makeBuffer((0..<models).flatMap { _ in cValues.map { -$0 } })  // −c per model
            lipschitz = Self.largestEigenvalue(gramValues, size: p)
            outputs = 1
            engine = .gram(gram: gram, target: target, z: try device.makeBuffer(count: models * p),
                           gradient: try device.makeBuffer(count: models * p), means: means, targetMean: targetMean)
        } else {
            // The loss's curvature in the logits bounds the Hessian: 2 for (z − y)² (our mse is
            // twice scikit-learn's term), 1/4 for the logistic loss, 1/2 for softmax
            // (diag(s) − ssᵀ ≼ ½I); times λ_max([X 1]ᵀ[X 1])/n.
            kkt = KKTCheck(loss: loss, data: scaled)
            let c = switch loss { case .mse: 2.0; case .bce: 0.25; case .ce: 0.5 }
            lipschitz = c * Self.largestGramEigenvalue(scaled) / Double(n)
            let configuration = TrainingConfiguration(architecture: .linear, loss: loss, optimizer: .sgd(), learningRate: 1,
                                                      epochs: 1, batchSize: 0, shuffle: false)
            let trainer = try Trainer(device: device, configuration: configuration,
                                      variants: Array(repeating: ModelVariant(), count: models), train: scaled,
                                      classes: classes)
            let k = trainer.model.outputs
            outputs = k
            var pin: Buffer?
            if loss == .ce {  // 0 at each model's last intercept: its gradient is masked away
                var mask = [Float](repeating: 1, count: trainer.model.layout.totalCount)
                for m in 0..<models { mask[models * k * p + m * k + k - 1] = 0 }
                pin = try device.makeBuffer(mask)
            }
            engine = .trainer(trainer, pin: pin)
        }
        let isGram = if case .gram = engine { true } else { false }
        let count = models * outputs * (p + (isGram ? 0 : 1))
        previous = try device.makeBuffer(count: count)
        thresholds = try device.makeBuffer(count: models * outputs)
        shrinks = try device.makeBuffer(count: models * outputs)
    }

    /// Weights (K·k·p), then the intercepts the iterate carries (K·k; none for Gram).
    private var weightCount: Int { models * outputs * data.columns }
    private var iterateCount: Int { weightCount + (usesGram ? 0 : models * outputs) }
    private var usesGram: Bool { if case .gram = engine { true } else { false } }

    /// z, where the gradient is taken, and the gradient's buffer.
    private var point: (z: Buffer, gradient: Buffer) {
        switch engine {
        case let .gram(_, _, z, gradient, _, _): return (z, gradient)
        case let .trainer(trainer, _): return (trainer.gradientBuffers.parameters, trainer.gradientBuffers.gradients)
        }
    }

    /// The data term's gradient at z (the engine's scale: scikit-learn's for Gram, ours else).
    private func enqueueGradient() throws {
        switch engine {
        case let .gram(gram, target, z, gradient, _, _):
            let p = data.columns
            try device.copy(target, at: 0, to: gradient, at: 0, count: models * p)
            try device.matmul(MatmulShape(m: models, n: p, k: p), alpha: 1, a: z, at: 0, b: gram, at: 0,
                              beta: 1, c: gradient, at: 0)
        case let .trainer(trainer, pin):
            try trainer.enqueueGradient(0, firstRow: 0, rows: data.rows)
            if let pin { try device.applyMask(trainer.gradientBuffers.gradients, mask: pin, count: iterateCount) }
        }
    }

    /// The solutions for α₁…α_K (one per model) at a shared ρ, from `starts` (warm starts,
    /// one per model) or from zero. It stops when no coefficient has moved by more than
    /// `tolerance` (relative) over 20 iterations — or the moves sit at float32's rounding
    /// floor — and every model's KKT violation (`KKTCheck`) is at most `kktTolerance`.
    public func solve(alphas: [Double], l1Ratio: Double, tolerance: Double = 1e-6, kktTolerance: Double = 1e-5,
                      maxIterations: Int = 100_000, starts: [LinearSolution]? = nil) throws -> [LinearSolution] {
        guard alphas.count == models else {
            throw TrainingError.invalidConfiguration("\(alphas.count) α values for \(models) models")
        }
        for alpha in alphas { try LinearProblem(loss: loss, alpha: alpha, l1Ratio: l1Ratio).validate() }
        let step = try writeProx(alphas: alphas, l1Ratio: l1Ratio)
        let initial = startingPoint(starts)
        try device.write(initial, to: point.z)
        try device.write(initial, to: previous)
        let run = try iterate(from: initial, step: step, alphas: alphas, l1Ratio: l1Ratio, tolerance: tolerance,
                              kktTolerance: kktTolerance, maxIterations: maxIterations)
        return solutions(run.iterate, iterations: run.iterations, converged: run.converged, violations: run.violations,
                         alphas: alphas, l1Ratio: l1Ratio)
    }

    /// The step 1/L and, per model and output row, the prox of step·(a‖w‖₁ + b/2·‖w‖²):
    /// soft-threshold by step·a, then shrink by 1/(1 + step·b), written to the device.
    private func writeProx(alphas: [Double], l1Ratio: Double) throws -> Double {
        let k = outputs
        let factor = loss == .mse && !usesGram ? 2.0 : 1.0   // our mse is twice scikit-learn's data term
        let step = lipschitz > 0 ? 1 / (lipschitz * 1.0001) : 1  // L = 0: constant columns, a zero gradient
        let rowThresholds = (0..<(models * k)).map { Float(step * factor * alphas[$0 / k] * l1Ratio) }
        let rowShrinks = (0..<(models * k)).map { Float(1 / (1 + step * factor * alphas[$0 / k] * (1 - l1Ratio))) }
        try device.write(rowThresholds, to: thresholds)
        try device.write(rowShrinks, to: shrinks)
        return step
    }

    /// The iterate of the warm starts in scaled units (zero without them; ce's intercepts
    /// relative to the pinned last class).
    private func startingPoint(_ starts: [LinearSolution]?) -> [Float] {
        let (p, k) = (data.columns, outputs)
        var initial = [Float](repeating: 0, count: iterateCount)
        for (m, start) in (starts ?? []).enumerated() where m < models {
            for i in 0..<(k * p) { initial[m * k * p + i] = Float(start.coefficients[i] * scales[i % p]) }
            if !usesGram {
                let last = loss == .ce ? start.intercepts[k - 1] : 0  // the pinned one is 0
                for c in 0..<k { initial[weightCount + m * k + c] = Float(start.intercepts[c] - last) }
            }
        }
        return initial
    }

    /// FISTA in rounds of 20 iterations on the device, with adaptive restart, until nothing
    /// moves by more than `tolerance` (or the moves sit at float32's rounding floor) and every
    /// model's KKT violation is within `kktTolerance`.
    private func iterate(from initial: [Float], step: Double, alphas: [Double], l1Ratio: Double, tolerance: Double,
                         kktTolerance: Double, maxIterations: Int) throws
        -> (iterate: [Float], iterations: Int, converged: Bool, violations: [Double]) {
        let (z, gradient) = point
        var t = 1.0
        var checkpoint = initial
        var iterations = 0, converged = false
        var smallest = Double.infinity, stalls = 0, lastChange = Double.infinity
        var violations: [Double] = []
        while iterations < maxIterations, !converged {
            for _ in 0..<20 {
                try enqueueGradient()
                let tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
                try device.fistaStep(z: z, gradient: gradient, x: previous, count: iterateCount, rows: models * outputs,
                                     cols: data.columns, step: Float(step), momentum: Float((t - 1) / tNext),
                                     thresholds: thresholds, scales: shrinks)
                t = tNext
                iterations += 1
            }
            let current = try device.read(previous)
            guard current.allSatisfy(\.isFinite) else {
                throw TrainingError.diverged(epoch: 1, step: iterations, what: "the batched solver's coefficients")
            }
            let change = zip(current, checkpoint).map { Double(abs($0 - $1)) }.max() ?? 0
            let size = max(1, current.map { Double(abs($0)) }.max() ?? 0)
            // Converged when nothing moves by more than the tolerance, or when the moves have sat
            // at float32's rounding floor (softmax's gradient is noisier than the tolerance can
            // ask) without a new low for 10 checks.
            if change < smallest { (smallest, stalls) = (change, 0) } else { stalls += 1 }
            // Adaptive restart, checked every 20 iterations: when the iterates move more than
            // in the last 20, momentum is overshooting (or amplifying rounding): restart it.
            if change > lastChange { t = 1 }
            lastChange = change
            checkpoint = current
            if change <= tolerance * size || (change <= Self.floatFloor * size && stalls >= 10) {
                violations = kktViolations(current, alphas: alphas, l1Ratio: l1Ratio)
                converged = violations.allSatisfy { $0 <= kktTolerance }
            }
        }
        if violations.isEmpty { violations = kktViolations(checkpoint, alphas: alphas, l1Ratio: l1Ratio) }
        return (checkpoint, iterations, converged, violations)
    }

    /// Each model's solution in original units from the final iterate (ce intercepts
    /// centered), with its scores and objective.
    private func solutions(_ iterate: [Float], iterations: Int, converged: Bool, violations: [Double],
                           alphas: [Double], l1Ratio: Double) -> [LinearSolution] {
        let (p, k) = (data.columns, outputs)
        let solutions = (0..<models).map { m in
            let w = (0..<(k * p)).map { Double(iterate[m * k * p + $0]) / scales[$0 % p] + 0 }  // + 0: no −0
            var b: [Double]
            switch engine {
            case let .gram(_, _, _, _, means, targetMean):
                b = [(0..<p).reduce(targetMean) { $0 - means[$1] * Double(iterate[m * p + $1]) }]
            case .trainer:
                b = (0..<k).map { Double(iterate[weightCount + m * k + $0]) }
            }
            if loss == .ce {  // softmax ignores a shift of every intercept: report them centered
                let mean = b.reduce(0, +) / Double(k)
                b = b.map { $0 - mean }
            }
            var solution = LinearSolution(coefficients: w, intercepts: b, objective: .nan, iterations: iterations,
                                          converged: converged)
            solution.kktViolation = violations[m]
            return solution
        }
        let scores = LinearSolution.evaluate(loss, data, solutions)
        return solutions.enumerated().map { m, solution in
            var s = solution
            (s.dataLoss, s.score) = scores[m]
            s.objective = LinearProblem(loss: loss, alpha: alphas[m], l1Ratio: l1Ratio)
                .objective(meanLoss: scores[m].loss, coefficients: solution.coefficients)
            return s
        }
    }

    /// Each model's relative KKT violation at the iterate `x` (scaled-space weights, then the
    /// intercepts the iterate carries; the Gram engine's intercepts are ȳ − x̄ᵀw).
    private func kktViolations(_ x: [Float], alphas: [Double], l1Ratio: Double) -> [Double] {
        let (p, k) = (data.columns, outputs)
        let weights = x[0..<weightCount].map(Double.init)
        let intercepts: [Double]
        switch engine {
        case let .gram(_, _, _, _, means, targetMean):
            intercepts = (0..<models).map { m in (0..<p).reduce(targetMean) { $0 - means[$1] * weights[m * p + $1] } }
        case .trainer:
            intercepts = x[weightCount..<(weightCount + models * k)].map(Double.init)
        }
        return kkt.violations(weights: weights, intercepts: intercepts, outputs: k, alphas: alphas, l1Ratio: l1Ratio)
    }

    /// X with each column's mean subtracted (in float, from Double means), and the means.
    static func centered(_ data: Dataset) -> (values: [Float], means: [Double]) {
        let (n, p) = (data.rows, data.columns)
        var means = [Double](repeating: 0, count: p)
        for r in 0..<n { for j in 0..<p { means[j] += Double(data.features[r * p + j]) } }
        means = means.map { $0 / Double(n) }
        var values = data.features
        for r in 0..<n { for j in 0..<p { values[r * p + j] = Float(Double(values[r * p + j]) - means[j]) } }
        return (values, means)
    }
}

extension BatchedProximalSolver {
    static func scaledData(_ data: Dataset, _ scales: [Double]) throws -> Dataset {
        guard scales.contains(where: { $0 != 1 }) else { return data }
        let x = data.features.enumerated().map { Float(Double($1) / scales[$0 % data.columns]) }
        return try Dataset(features: x, targets: data.targets, rows: data.rows, columns: data.columns)
    }

    /// λ_max of [X 1]ᵀ[X 1] (formed by dsyrk in Double on the host) by power iteration.
    static func largestGramEigenvalue(_ data: Dataset) -> Double {
        let (n, d) = (data.rows, data.columns + 1)
        var a = [Double](repeating: 1, count: n * d)
        for r in 0..<n { for c in 0..<data.columns { a[r * d + c] = Double(data.features[r * data.columns + c]) } }
        var gram = [Double](repeating: 0, count: d * d)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1, a, Int32(d), 0, &gram, Int32(d))
        return largestEigenvalue(gram, size: d)
    }

    /// λ_max of a symmetric positive semi-definite d×d matrix (its upper triangle is read) by
    /// power iteration (dsymv).
    static func largestEigenvalue(_ matrix: [Double], size d: Int) -> Double {
        var v = [Double](repeating: 1 / Double(d).squareRoot(), count: d)
        var u = [Double](repeating: 0, count: d)
        var lambda = 0.0
        for _ in 0..<500 {
            cblas_dsymv(CblasRowMajor, CblasUpper, Int32(d), 1, matrix, Int32(d), v, 1, 0, &u, 1)
            let norm = cblas_dnrm2(Int32(d), u, 1)
            guard norm > 0 else { return 0 }
            v = u.map { $0 / norm }
            if abs(norm - lambda) <= 1e-12 * norm { return norm }
            lambda = norm
        }
        return lambda
    }
}

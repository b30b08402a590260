import Foundation

/// K penalized linear problems on the same data solved as one: the weights of all K models
/// form one stacked [K·k, p] matrix (k = 1 output for mse and bce, the k classes for ce), so
/// each FISTA iteration is one forward matmul X·Wᵀ [n, K·k], one loss kernel and one
/// backward matmul δᵀ·X [K·k, p] for all of them, then a per-model L2 term and
/// soft-threshold. The step is 1/L with L the largest of the K Lipschitz bounds (safe for all).
public final class BatchedProximalSolver {
    let loss: LossKind
    let data: Dataset
    let scales: [Double]
    let device: any Device
    let models: Int
    /// Outputs per model: 1, or the class count for ce.
    public let outputs: Int
    private let trainer: Trainer
    private let previous: Buffer, next: Buffer
    /// ce only: 0 at each model's last intercept, 1 elsewhere. Softmax is flat along a shift of
    /// all k intercepts; rounding noise in that direction, which momentum would accumulate
    /// without end, is removed by pinning the last intercept (its gradient masked to 0).
    private let pin: Buffer?
    private let curvature: Double
    /// Relative moves over 20 iterations below this are float32 rounding (≈ 40 ulps of 1).
    static let floatFloor = 5e-6

    /// `classes` (ce) fixes the class count when `data` may lack the highest label.
    public init(loss: LossKind, data: Dataset, standardize: Bool, models: Int, device: any Device,
                classes: Int? = nil) throws {
        try LinearProblem(loss: loss, alpha: 0, l1Ratio: 1).validate()
        guard models > 0 else { throw TrainingError.invalidConfiguration("the batched solver needs at least one model") }
        self.loss = loss
        self.data = data
        self.device = device
        self.models = models
        scales = standardize ? ProximalSolver.columnScales(data) : [Double](repeating: 1, count: data.columns)
        let scaled = try ProximalSolver.scaledData(data, scales)
        // The loss's curvature in the logits bounds the Hessian: 2 for (z − y)², 1/4 for the
        // logistic loss, 1/2 for softmax (diag(s) − ssᵀ ≼ ½I); times λ_max([X 1]ᵀ[X 1])/n.
        let c = switch loss { case .mse: 2.0; case .bce: 0.25; case .ce: 0.5 }
        curvature = c * ProximalSolver.largestGramEigenvalue(scaled) / Double(data.rows)
        let configuration = TrainingConfiguration(architecture: .linear, loss: loss, optimizer: .sgd(), learningRate: 1,
                                                  epochs: 1, batchSize: 0, shuffle: false)
        trainer = try Trainer(device: device, configuration: configuration,
                              variants: Array(repeating: ModelVariant(), count: models), train: scaled,
                              classes: classes)
        outputs = trainer.model.outputs
        let count = trainer.model.layout.totalCount
        previous = try device.makeBuffer(count: count)
        next = try device.makeBuffer(count: count)
        if loss == .ce {
            var mask = [Float](repeating: 1, count: count)
            let weights = models * outputs * data.columns
            for m in 0..<models { mask[weights + m * outputs + outputs - 1] = 0 }
            pin = try device.makeBuffer(mask)
        } else {
            pin = nil
        }
    }

    /// The solutions for α₁…α_K (one per model) at a shared ρ, from `starts` (warm starts,
    /// one per model) or from zero.
    public func solve(alphas: [Double], l1Ratio: Double, tolerance: Double = 1e-6, maxIterations: Int = 100_000,
                      starts: [LinearSolution]? = nil) throws -> [LinearSolution] {
        guard alphas.count == models else {
            throw TrainingError.invalidConfiguration("\(alphas.count) α values for \(models) models")
        }
        for alpha in alphas { try LinearProblem(loss: loss, alpha: alpha, l1Ratio: l1Ratio).validate() }
        let factor = loss == .mse ? 2.0 : 1.0              // our mse is twice scikit-learn's data term
        let l2 = alphas.map { factor * $0 * (1 - l1Ratio) / 2 }
        let l1 = alphas.map { factor * $0 * l1Ratio }
        let lipschitz = (curvature + 2 * (l2.max() ?? 0)) * 1.0001
        // The stacked layout: [K·k, p] weights (model m's k rows at m·k·p), then K·k biases.
        let (p, k) = (data.columns, outputs)
        let weights = models * k * p, count = weights + models * k
        let z = trainer.model.parameters, gradient = trainer.workspace.gradients
        var initial = [Float](repeating: 0, count: count)
        for (m, start) in (starts ?? []).enumerated() where m < models {
            for i in 0..<(k * p) { initial[m * k * p + i] = Float(start.coefficients[i] * scales[i % p]) }
            let last = start.intercepts[k - 1]  // the pinned one is 0
            for c in 0..<k { initial[weights + m * k + c] = Float(start.intercepts[c] - (loss == .ce ? last : 0)) }
        }
        try device.write(initial, to: z)
        try device.write(initial, to: previous)
        let step = Float(1 / lipschitz)
        var t = 1.0
        var checkpoint = initial
        var iterations = 0, converged = false
        var smallest = Double.infinity, stalls = 0, lastChange = Double.infinity
        while iterations < maxIterations, !converged {
            for _ in 0..<20 {
                try trainer.enqueueGradient(0, firstRow: 0, rows: data.rows)
                if let pin { try device.reluBackward(gradient, activation: pin, count: count) }
                for m in 0..<models where l2[m] > 0 {
                    try device.penaltyGradient(PenaltyCoefficients(l2: Float(l2[m])), weights: z, gradient: gradient,
                                               at: m * k * p, count: k * p, norms: z, normIndex: 0)
                }
                try device.copy(z, at: 0, to: next, at: 0, count: count)
                try device.axpby(-step, gradient, at: 0, 1, next, at: 0, count: count)
                for m in 0..<models where l1[m] > 0 {
                    try device.proximalL1(next, at: m * k * p, count: k * p, threshold: Float(l1[m]) * step)
                }
                let tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
                let momentum = Float((t - 1) / tNext)
                try device.copy(next, at: 0, to: z, at: 0, count: count)
                try device.axpby(-momentum, previous, at: 0, 1 + momentum, z, at: 0, count: count)
                try device.copy(next, at: 0, to: previous, at: 0, count: count)
                t = tNext
                iterations += 1
            }
            let current = try device.read(next)
            guard current.allSatisfy(\.isFinite) else {
                throw TrainingError.diverged(epoch: 1, step: iterations, what: "the batched solver's coefficients")
            }
            let change = zip(current, checkpoint).map { Double(abs($0 - $1)) }.max() ?? 0
            let size = max(1, current.map { Double(abs($0)) }.max() ?? 0)
            // Converged when nothing moves by more than the tolerance, or when the moves have sat
            // at float32's rounding floor (a few ulps: softmax's gradient is noisier than
            // the tolerance can ask) without a new low for 10 checks.
            if change < smallest { (smallest, stalls) = (change, 0) } else { stalls += 1 }
            // Adaptive restart (O'Donoghue & Candès 2015), checked every 20 iterations: when
            // the iterates move more than in the last 20, momentum is overshooting (or
            // amplifying rounding noise): start it again from zero.
            if change > lastChange { t = 1 }
            lastChange = change
            converged = change <= tolerance * size || (change <= Self.floatFloor * size && stalls >= 10)
            checkpoint = current
        }
        return (0..<models).map { m in
            let w = (0..<(k * p)).map { Double(checkpoint[m * k * p + $0]) / scales[$0 % p] + 0 }  // + 0: no −0
            var b = (0..<k).map { Double(checkpoint[weights + m * k + $0]) }
            if loss == .ce {  // softmax ignores a shift of every intercept: report them centered
                let mean = b.reduce(0, +) / Double(k)
                b = b.map { $0 - mean }
            }
            let problem = LinearProblem(loss: loss, alpha: alphas[m], l1Ratio: l1Ratio)
            return LinearSolution(coefficients: w, intercepts: b, objective: ProximalSolver.objective(problem, data, w, b),
                                  iterations: iterations, converged: converged)
        }
    }
}

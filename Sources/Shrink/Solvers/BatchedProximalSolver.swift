import Foundation

/// K penalized linear problems on the same data solved as one: the weights of all K models
/// form one K×p matrix, so each FISTA iteration is one forward matmul X·Wᵀ [n×K], one loss
/// kernel and one backward matmul δᵀ·X [K×p] for all of them, then a per-model L2 term and
/// soft-threshold. The step is 1/L with L the largest of the K Lipschitz bounds (safe for all).
public final class BatchedProximalSolver {
    let loss: LossKind
    let data: Dataset
    let scales: [Double]
    let device: any Device
    let models: Int
    private let trainer: Trainer
    private let previous: Buffer, next: Buffer
    private let curvature: Double

    public init(loss: LossKind, data: Dataset, standardize: Bool, models: Int, device: any Device) throws {
        try LinearProblem(loss: loss, alpha: 0, l1Ratio: 1).validate()
        guard models > 0 else { throw TrainingError.invalidConfiguration("the batched solver needs at least one model") }
        self.loss = loss
        self.data = data
        self.device = device
        self.models = models
        scales = standardize ? ProximalSolver.columnScales(data) : [Double](repeating: 1, count: data.columns)
        let scaled = try ProximalSolver.scaledData(data, scales)
        curvature = (loss == .mse ? 2.0 : 0.25) * ProximalSolver.largestGramEigenvalue(scaled) / Double(data.rows)
        let configuration = TrainingConfiguration(architecture: .linear, loss: loss, optimizer: .sgd(), learningRate: 1,
                                                  epochs: 1, batchSize: 0, shuffle: false)
        trainer = try Trainer(device: device, configuration: configuration, train: scaled, test: nil, initialState: nil,
                              outputs: models)
        previous = try device.makeBuffer(count: models * (data.columns + 1))
        next = try device.makeBuffer(count: models * (data.columns + 1))
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
        let p = data.columns, count = models * (p + 1)     // K×p weights, then K biases
        let z = trainer.model.parameters, gradient = trainer.workspace.gradients
        var initial = [Float](repeating: 0, count: count)
        for (k, start) in (starts ?? []).enumerated() where k < models {
            for j in 0..<p { initial[k * p + j] = Float(start.coefficients[j] * scales[j]) }
            initial[models * p + k] = Float(start.intercept)
        }
        try device.write(initial, to: z)
        try device.write(initial, to: previous)
        let step = Float(1 / lipschitz)
        var t = 1.0
        var checkpoint = initial
        var iterations = 0, converged = false
        while iterations < maxIterations, !converged {
            for _ in 0..<20 {
                try trainer.enqueueGradient(0, firstRow: 0, rows: data.rows)
                for k in 0..<models where l2[k] > 0 {
                    try device.penaltyGradient(PenaltyCoefficients(l2: Float(l2[k])), weights: z, gradient: gradient,
                                               at: k * p, count: p, norms: z, normIndex: 0)
                }
                try device.copy(z, at: 0, to: next, at: 0, count: count)
                try device.axpby(-step, gradient, at: 0, 1, next, at: 0, count: count)
                for k in 0..<models where l1[k] > 0 {
                    try device.proximalL1(next, at: k * p, count: p, threshold: Float(l1[k]) * step)
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
            let size = current.map { Double(abs($0)) }.max() ?? 0
            converged = change <= tolerance * max(1, size)
            checkpoint = current
        }
        return (0..<models).map { k in
            let w = (0..<p).map { Double(checkpoint[k * p + $0]) / scales[$0] }
            let b = Double(checkpoint[models * p + k])
            let problem = LinearProblem(loss: loss, alpha: alphas[k], l1Ratio: l1Ratio)
            return LinearSolution(coefficients: w, intercept: b, objective: ProximalSolver.objective(problem, data, w, b),
                                  iterations: iterations, converged: converged)
        }
    }
}

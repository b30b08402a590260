import Foundation

/// FISTA on the device for one problem: a `BatchedProximalSolver` with one model (see there
/// for the two gradient engines, the step and the elastic-net prox). A session uploads the
/// data, allocates the buffers and finds the Lipschitz bound once; `solve` then runs for many
/// α from warm starts.
public final class ProximalSolver {
    private let batch: BatchedProximalSolver

    public init(loss: LossKind, data: Dataset, standardize: Bool, device: any Device, classes: Int? = nil) throws {
        batch = try BatchedProximalSolver(loss: loss, data: data, standardize: standardize, models: 1, device: device,
                                          classes: classes)
    }

    /// Solves `problem` on `data` in a fresh session.
    public static func solve(_ problem: LinearProblem, data: Dataset, device: any Device, tolerance: Double = 1e-6,
                             kktTolerance: Double = 1e-5, maxIterations: Int = 20_000) throws -> LinearSolution {
        try ProximalSolver(loss: problem.loss, data: data, standardize: problem.standardize, device: device)
            .solve(alpha: problem.alpha, l1Ratio: problem.l1Ratio, tolerance: tolerance, kktTolerance: kktTolerance,
                   maxIterations: maxIterations)
    }

    /// The solution for α and ρ, starting from `start` (a warm start) or from zero (stopping
    /// rule: `BatchedProximalSolver.solve`).
    public func solve(alpha: Double, l1Ratio: Double, tolerance: Double = 1e-6, kktTolerance: Double = 1e-5,
                      maxIterations: Int = 20_000, start: LinearSolution? = nil) throws -> LinearSolution {
        try batch.solve(alphas: [alpha], l1Ratio: l1Ratio, tolerance: tolerance, kktTolerance: kktTolerance,
                        maxIterations: maxIterations, starts: start.map { [$0] })[0]
    }

}

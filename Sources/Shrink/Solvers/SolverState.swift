import CBLAS
import Foundation

extension CoordinateDescentSolver {
    /// One α's iterate and the quantities kept in step with it.
    struct State {
        let design: SolverDesign
        let l1: Double, l2: Double
        /// The KKT violation (absolute, scaled space) the working-set problem is solved to.
        let target: Double
        /// ... and the estimated distance of the coefficients from the solution, relative to 1 + |w|.
        let errorTarget: Double
        let maxSweeps: Int
        /// Coefficients [k, p] and intercepts [k], scaled space.
        var w: [Double] = [], b: [Double] = []
        /// Gram route: q = c − Gw. Else the linear predictor η = X̃w + b, output-major [k, n].
        var q: [Double] = [], eta: [Double] = []
        var sweeps = 0

        init(design: SolverDesign, l1: Double, l2: Double, target: Double, errorTarget: Double, maxSweeps: Int) {
            self.design = design
            self.errorTarget = errorTarget
            self.l1 = l1
            self.l2 = l2
            self.target = target
            self.maxSweeps = maxSweeps
            w = [Double](repeating: 0, count: design.outputs * design.columns)
            b = [Double](repeating: 0, count: design.outputs)
        }

        var usesGram: Bool { design.gram != nil }
        /// Under mpirun: each Newton model is summed over the ranks (`reducedNewtonStep`).
        var distributed: Bool { design.communicator.usesMPI }

        /// Forms q or η from w and b.
        mutating func prepare() {
            let p = design.columns
            if let gram = design.gram {
                q = gram.correlation
                cblas_dsymv(CblasRowMajor, CblasUpper, Int32(p), -1, gram.matrix, Int32(p), w, 1, 1, &q, 1)
                return
            }
            eta = (0..<design.outputs).flatMap { c in
                let support = (0..<p).filter { w[c * p + $0] != 0 }
                return design.combination(support, support.map { w[c * p + $0] }, intercept: b[c])
            }
        }

        // MARK: The negative gradient of the data term with respect to η

        /// −∂f/∂η for output c [n], and (for the Newton model) ∂²f/∂η² [n].
        func negativeGradient(output c: Int, curvature: Bool = false) -> (rho: [Double], v: [Double]) {
            let n = design.rows
            let inverse = 1 / Double(design.totalRows)
            var rho = [Double](repeating: 0, count: n)
            var v = [Double](repeating: curvature ? inverse : 0, count: curvature ? n : 0)
            switch design.loss {
            case .mse:
                for i in 0..<n { rho[i] = (design.targets[i] - eta[i]) * inverse }
            case .bce:
                for i in 0..<n {
                    let f = eta[i]
                    let mu = LossFormula.sigmoid(f)
                    rho[i] = (design.targets[i] - mu) * inverse
                    if curvature { v[i] = mu * (1 - mu) * inverse }
                }
            case .ce:
                for i in 0..<n {
                    let (top, total) = softmaxNormalizer(row: i)
                    let share = exp(eta[c * n + i] - top) / total
                    rho[i] = ((Int(design.targets[i]) == c ? 1 : 0) - share) * inverse
                    if curvature { v[i] = share * (1 - share) * inverse }
                }
            }
            return (rho, v)
        }

        /// −∂f/∂η for every output, output-major [k, n]: as `negativeGradient(output:)` for each
        /// (the same arithmetic, so the same bits), with ce's softmax normalizer formed once per row
        /// rather than once per row and class.
        func negativeGradients() -> [Double] {
            let (n, k) = (design.rows, design.outputs)
            guard design.loss == .ce else { return negativeGradient(output: 0).rho }
            let inverse = 1 / Double(design.totalRows)
            var rho = [Double](repeating: 0, count: k * n)
            for i in 0..<n {
                let (top, total) = softmaxNormalizer(row: i)
                let label = Int(design.targets[i])
                for c in 0..<k { rho[c * n + i] = ((label == c ? 1 : 0) - exp(eta[c * n + i] - top) / total) * inverse }
            }
            return rho
        }

        /// Row i's largest logit and Σ_d exp(η_d − top): its softmax shares are
        /// exp(η_c − top)/total.
        @inline(__always) private func softmaxNormalizer(row i: Int) -> (top: Double, total: Double) {
            let (n, k) = (design.rows, design.outputs)
            var top = -Double.infinity
            for d in 0..<k { top = max(top, eta[d * n + i]) }
            var total = 0.0
            for d in 0..<k { total += exp(eta[d * n + i] - top) }
            return (top, total)
        }

        // MARK: Solving on the working set

        /// Solves the problem restricted to `working` (and the intercepts) to `target`.
        mutating func solve(working: [Int]) throws {
            if usesGram { return solveGram(working: working) }
            var violation = try self.violation(working: working)
            let blocks = design.loss == .ce ? design.outputs : 1
            // For bce and ce a small violation does not yet mean a small error (ill-conditioned
            // data): Newton steps go on until the last one moved the coefficients by less than
            // `errorTarget` too (near the solution they shrink quadratically, so this is cheap).
            var moved = design.loss == .mse ? 0 : Double.infinity
            var joint = false
            while violation > target || moved > errorTarget, sweeps < maxSweeps {
                // Inexact Newton: each model solved to a tenth of the current violation (mse's is exact).
                let inner = design.loss == .mse ? target : max(target, 0.1 * violation)
                let (before, intercepts) = (w, b)
                // ce: once a joint step has worked, it alone goes on while it lowers the objective.
                if joint { joint = try jointNewtonStep(working: working) }
                if !joint {
                    let support = w.indices.filter { w[$0] != 0 }
                    var progressed = !distributed
                    for c in 0..<blocks {
                        if distributed {
                            progressed = try reducedNewtonStep(output: c, working: working, tolerance: inner) || progressed
                        } else {
                            try newtonStep(output: c, working: working, tolerance: inner)
                        }
                    }
                    if blocks > 1, w.indices.filter({ w[$0] != 0 }) == support {
                        joint = try jointNewtonStep(working: working)
                        progressed = progressed || joint
                    }
                    // MPI: no step lowered the objective (differences at rounding level in the
                    // summed losses): the iterate is as good as this arithmetic makes it.
                    if !progressed { break }
                }
                violation = try self.violation(working: working)
                if design.loss != .mse {
                    moved = max(zip(w, before).map { abs($0 - $1) / (1 + abs($0)) }.max() ?? 0,
                                zip(b, intercepts).map { abs($0 - $1) / (1 + abs($0)) }.max() ?? 0)
                }
            }
        }

        private mutating func solveGram(working: [Int]) {
            guard let gram = design.gram, !working.isEmpty else { return }
            let solver = GramSolver(gram: gram.matrix, columns: design.columns, working: working, l1: l1, l2: l2)
            var rental = Rental(), error = ErrorEstimate()
            while sweeps < maxSweeps {
                let (violation, change) = solver.sweep(&q, &w)
                sweeps += 1
                if violation <= target, error.update(change) <= errorTarget { break }
                let support = working.filter { w[$0] != 0 }
                if rental.due(support: support, spent: solver.sweepCost, polishCost: solver.polishCost(support.count)),
                   solver.polish(&q, &w) { break }
            }
            let size = working.filter { w[$0] != 0 }.count
            if solver.polishCost(size) <= max(rental.total, 1e6) { _ = solver.polish(&q, &w) }
        }

        /// One proximal-Newton step for output c: coordinate descent on the quadratic model
        /// over `working` and the intercept, then a backtracking line search (mse: none needed).
        private mutating func newtonStep(output c: Int, working: [Int], tolerance: Double) throws {
            let (n, p) = (design.rows, design.columns)
            let (rho, v) = negativeGradient(output: c, curvature: true)
            var model = BlockModel(rho: rho, v: v, fitsIntercept: design.loss != .mse,
                                   constantV: design.loss == .mse ? 1 / Double(design.totalRows) : nil)
            let solver = BlockSolver(design: design, working: working, model: model, l1: l1, l2: l2)
            let (startW, startB) = (Array(w[(c * p)..<((c + 1) * p)]), b[c])
            var rental = Rental(), error = ErrorEstimate(), anderson = Anderson()
            // glmnet's active-set cycling: after a pass over the whole working set, passes over its
            // nonzeros only until they settle, then a whole pass again; done when a whole pass
            // finds nothing to do.
            var activeOnly = false
            while sweeps < maxSweeps {
                let positions = activeOnly ? working.indices.filter { w[c * p + working[$0]] != 0 } : nil
                let (violation, change) = solver.sweep(&model, &w, offset: c * p, intercept: &b[c], positions: positions)
                sweeps += 1
                if violation <= tolerance, error.update(change) <= errorTarget * tolerance / target {
                    if !activeOnly { break }
                    activeOnly = false
                    continue
                }
                activeOnly = true
                if let point = anderson.record(working.map { w[c * p + $0] } + [b[c]]) {
                    accelerate(to: point, output: c, working: working, model: &model, startW: startW, startB: startB)
                }
                let support = working.filter { w[c * p + $0] != 0 }
                if rental.due(support: support, spent: solver.sweepCost, polishCost: solver.polishCost(support)),
                   solver.polish(&model, &w, offset: c * p, intercept: &b[c]) { break }
            }
            if solver.polishCost(working.filter { w[c * p + $0] != 0 }) <= max(rental.total, Double(n) * 2000) {
                _ = solver.polish(&model, &w, offset: c * p, intercept: &b[c])
            }
            model.settle()
            let step = design.loss == .mse ? 1 : try lineSearch(output: c, working: working, model: model, startW: startW,
                                                            startB: startB)
            let newW = Array(w[(c * p)..<((c + 1) * p)]), newB = b[c]
            for j in working { w[c * p + j] = startW[j] + step * (newW[j] - startW[j]) }
            b[c] = startB + step * (newB - startB)
            eta.withUnsafeMutableBufferPointer { eta in
                for i in 0..<n { eta[c * n + i] += step * model.deltaEta[i] }
            }
            guard w.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else {
                throw TrainingError.diverged(epoch: 1, step: sweeps, what: "the coordinate-descent solver's coefficients")
            }
        }

        /// Moves output c's working coefficients and intercept to `point` (Anderson's
        /// extrapolation: the working values, then the intercept) if that lowers the model's
        /// objective (quadratic model + penalty over the working set).
        private mutating func accelerate(to point: [Double], output c: Int, working: [Int], model: inout BlockModel,
                                         startW: [Double], startB: Double) {
            let p = design.columns
            func penalty(_ values: [Double]) -> Double {
                values.prefix(working.count).reduce(0.0) { $0 + l1 * abs($1) + l2 / 2 * $1 * $1 }
            }
            let delta = design.combination(working, working.enumerated().map { point[$0] - startW[$1] },
                                           intercept: model.fitsIntercept ? point[working.count] - startB : 0)
            model.settle()
            let current = working.map { w[c * p + $0] }
            guard model.value(at: delta) + penalty(point) < model.value(at: model.deltaEta) + penalty(current) else { return }
            model.reset(deltaEta: delta)
            for (a, j) in working.enumerated() { w[c * p + j] = point[a] }
            if model.fitsIntercept { b[c] = point[working.count] }
        }

        /// Armijo backtracking (σ = 10⁻⁴, halving) on the true objective along the model's step.
        private func lineSearch(output c: Int, working: [Int], model: BlockModel, startW: [Double],
                                startB: Double) throws -> Double {
            try lineSearch(output: c, working: working, deltaEta: model.deltaEta, decrease: model.firstOrderDecrease,
                           startW: startW, startB: startB)
        }

        /// The same along Δη (this process's rows) with first-order decrease ρ₀ᵀΔη (over all rows),
        /// the coefficients' end point already in `w`. A step whose predicted change of the
        /// objective (the slope, plus half the model's `curvature` ΔηᵀVΔη) is below
        /// `roundingLevel` relative to the objective is taken whole: the summed losses cannot
        /// resolve it.
        func lineSearch(output c: Int, working: [Int], deltaEta: [Double], decrease: Double, startW: [Double],
                        startB: Double, curvature: Double = 0, roundingLevel: Double = 1e-15) throws -> Double {
            let p = design.columns
            func penalty(_ t: Double) -> Double {
                working.reduce(0.0) { total, j in
                    let value = startW[j] + t * (w[c * p + j] - startW[j])
                    return total + l1 * abs(value) + l2 / 2 * value * value
                }
            }
            let start = try dataLoss(output: c, along: deltaEta, step: 0) + penalty(0)
            let slope = -decrease + penalty(1) - penalty(0)  // an upper bound on F'(0)
            if slope + 0.5 * curvature >= -roundingLevel * max(abs(start), 1) { return 1 }  // a step at rounding level
            var t = 1.0
            while t > 1e-10 {
                if try dataLoss(output: c, along: deltaEta, step: t) + penalty(t) <= start + 1e-4 * t * slope { return t }
                t /= 2
            }
            return 0
        }

        /// The mean data loss (over every rank's rows) with output c's predictor moved to η_c + t·Δη.
        private func dataLoss(output c: Int, along delta: [Double], step t: Double) throws -> Double {
            var total = [(0..<design.rows).reduce(0.0) { $0 + rowLoss($1, output: c, shift: t * delta[$1]) }]
            try design.sum(&total)
            return total[0] / Double(design.totalRows)
        }

        /// Row i's data loss (mse: half the squared error) with output c's predictor moved by `shift`.
        private func rowLoss(_ i: Int, output c: Int = 0, shift: Double = 0) -> Double {
            let n = design.rows
            switch design.loss {
            case .mse:
                let d = design.targets[i] - eta[i] - shift
                return 0.5 * d * d
            case .bce:
                let f = eta[i] + shift
                return LossFormula.binaryCrossEntropy(logit: f, target: design.targets[i])
            case .ce:
                let label = Int(design.targets[i])
                let logits = (0..<design.outputs).lazy.map { d in self.eta[d * n + i] + (d == c ? shift : 0) }
                return LossFormula.logSumExp(logits) - eta[label * n + i] - (label == c ? shift : 0)
            }
        }

        // MARK: Optimality

        /// The largest KKT violation (absolute) over the working set's coefficients and the intercepts.
        func violation(working: [Int]) throws -> Double {
            let p = design.columns
            if usesGram { return working.reduce(0.0) { max($0, coordinateViolation(q[$1], w[$1], l1: l1, l2: l2)) } }
            let (n, m) = (design.rows, working.count)
            let rho = negativeGradients()
            // Per output: X̃_Wᵀρ and the intercept's Σρ; one sum over the ranks for all of them.
            var sums = (0..<design.outputs).flatMap { c in
                let part = Array(rho[(c * n)..<((c + 1) * n)])
                return design.dots(working, part) + [part.reduce(0, +)]
            }
            try design.sum(&sums)
            var worst = 0.0
            for c in 0..<design.outputs {
                let part = sums[(c * (m + 1))..<((c + 1) * (m + 1))]
                if design.loss != .mse { worst = max(worst, abs(part[part.endIndex - 1])) }
                for (j, g) in zip(working, part) {
                    worst = max(worst, coordinateViolation(g, w[c * p + j], l1: l1, l2: l2))
                }
            }
            return worst
        }

        /// max over outputs of |∂f/∂w_j| for every column: exact from q (Gram), else the
        /// device's screening pass X̃ᵀR.
        func gradientMagnitudes() throws -> [Double] {
            let p = design.columns
            if usesGram { return q.map(abs) }
            let residuals = negativeGradients()
            var g = try design.screen(residuals)
            try design.sum(&g)
            return (0..<p).map { j in (0..<design.outputs).reduce(0.0) { max($0, abs(g[$1 * p + j])) } }
        }

        /// The mean data loss (mse: squared error, not halved) and scikit-learn's score (R²,
        /// or accuracy) on the rows solved for.
        func lossAndScore() throws -> (Double, Double) {
            let (n, k) = (design.rows, design.outputs)
            var squares = [design.loss == .mse ? design.targets.reduce(0) { $0 + $1 * $1 } : 0]
            if design.loss == .mse { try design.sum(&squares) }
            let spread = squares[0] / Double(design.totalRows)
            if let gram = design.gram {  // ‖ỹ − X̃w‖²/n = ‖ỹ‖²/n − cᵀw − qᵀw
                let mse = spread - zip(gram.correlation, w).reduce(0) { $0 + $1.0 * $1.1 }
                    - zip(q, w).reduce(0) { $0 + $1.0 * $1.1 }
                let clamped = max(mse, 0)
                return (clamped, spread > 0 ? 1 - clamped / spread : .nan)
            }
            var total = 0.0, right = 0
            for i in 0..<n {
                total += rowLoss(i)
                switch design.loss {
                case .mse: break
                case .bce: if (eta[i] > 0) == (design.targets[i] > 0.5) { right += 1 }
                case .ce:
                    var (top, best) = (-Double.infinity, 0)
                    for d in 0..<k where eta[d * n + i] > top { (top, best) = (eta[d * n + i], d) }
                    if best == Int(design.targets[i]) { right += 1 }
                }
            }
            var sums = [total, Double(right)]
            try design.sum(&sums)
            let loss = sums[0] / Double(design.totalRows) * (design.loss == .mse ? 2 : 1)  // mse: the squared error, not halved
            if design.loss == .mse { return (loss, spread > 0 ? 1 - loss / spread : .nan) }
            return (loss, sums[1] / Double(design.totalRows))
        }
    }

    /// The a-posteriori error of a linearly converging iteration: with moves d_k shrinking by
    /// κ = d_k/d_{k−1} per sweep, the distance to the limit is at most d_k·κ/(1 − κ) (infinite
    /// while the moves do not shrink; unknown — infinite — after the first sweep unless it moved
    /// nothing).
    struct ErrorEstimate {
        private var last = Double.infinity

        mutating func update(_ change: Double) -> Double {
            defer { last = change }
            if change == 0 { return 0 }
            guard last.isFinite, change < last else { return .infinity }
            let ratio = change / last
            return change * ratio / (1 - ratio)
        }
    }

    /// When to solve on the support instead of sweeping on: once the support has held for two
    /// sweeps and the sweeps since the last try have cost as much as a try (ski rental: never
    /// more than twice the cheaper of the two).
    struct Rental {
        private var last: [Int] = []
        private var steady = 0
        private var spent = 0.0
        private(set) var total = 0.0

        mutating func due(support: [Int], spent cost: Double, polishCost: Double) -> Bool {
            steady = support == last ? steady + 1 : 0
            last = support
            spent += cost
            total += cost
            guard steady >= 2, spent >= polishCost else { return false }
            spent = 0
            return true
        }
    }
}

/// The regularization terms added to the data loss at every step.
///
/// | term | added to the loss | gradient | convention |
/// |---|---|---|---|
/// | `l1` λ₁ | λ₁·Σ\|w\| | λ₁·sign(w), sign(0) = 0 | the reference PyTorch script's `p.abs().sum()` / `torch.norm(p, 1)` |
/// | `l2` λ₂ | λ₂·Σw² | 2λ₂·w | the reference PyTorch script's `p.pow(2).sum()`, Keras' `l2` (no ½) |
/// | `l2Norm` λₙ | λₙ·Σ_tensors ‖w‖₂ | λₙ·w/‖w‖₂ (0 where ‖w‖₂ = 0) | the reference PyTorch script's `torch.norm(p, 2)`, not squared |
///
/// Any combination sums; `l1` with `l2` is the elastic net. With `proximal`, the L1 term is
/// applied as the soft-threshold w ← sign(w)·max(|w| − lr·λ₁, 0) after each optimizer step
/// instead of through the gradient (ISTA's proximal step), so weights reach exact zeros;
/// the reported loss still includes λ₁·Σ|w|.
public struct Penalty: Sendable, Hashable {
    /// Which parameters the terms cover.
    public enum Scope: String, Sendable, CaseIterable {
        /// Every parameter, biases included (the reference PyTorch script's `model.parameters()`).
        case all
        /// Weight matrices only, biases excluded.
        case weights
    }

    public var l1: Float
    public var l2: Float
    public var l2Norm: Float
    public var scope: Scope
    public var proximal: Bool

    public init(l1: Float = 0, l2: Float = 0, l2Norm: Float = 0, scope: Scope = .all, proximal: Bool = false) {
        self.l1 = l1; self.l2 = l2; self.l2Norm = l2Norm
        self.scope = scope; self.proximal = proximal
    }

    public static let none = Penalty()

    public var isZero: Bool { l1 == 0 && l2 == 0 && l2Norm == 0 }

    /// The coefficients that enter the gradient (L1 leaves it under `proximal`).
    var gradientCoefficients: PenaltyCoefficients {
        PenaltyCoefficients(l1: proximal ? 0 : l1, l2: l2, l2Norm: l2Norm)
    }

    /// Whether `slot` is covered by the penalty terms.
    public func covers(_ slot: ParameterSlot) -> Bool { scope == .all || slot.isWeight }

    func validate() throws {
        for (name, value) in [("--l1", l1), ("--l2", l2), ("--l2-norm", l2Norm)] where !(value >= 0) || !value.isFinite {
            throw TrainingError.invalidConfiguration("\(name) must be a finite number ≥ 0, got \(value)")
        }
    }
}

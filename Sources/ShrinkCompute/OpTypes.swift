/// The shape of C = op(A)·op(B): C is m×n, op(A) m×k, op(B) k×n, row-major.
public struct MatmulShape: Sendable, Hashable, CustomStringConvertible {
    public var m: Int
    public var n: Int
    public var k: Int
    public var transposeA: Bool
    public var transposeB: Bool

    public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false) {
        self.m = m; self.n = n; self.k = k
        self.transposeA = transposeA; self.transposeB = transposeB
    }

    /// Row stride of A as stored: k, or m when A is stored transposed (k×m).
    public var lda: Int { transposeA ? m : k }
    /// Row stride of B as stored: n, or k when B is stored transposed (n×k).
    public var ldb: Int { transposeB ? k : n }
    public var ldc: Int { n }
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    func validate() throws {
        guard m >= 0, n >= 0, k >= 0 else { throw DeviceError.invalidArgument("matmul: negative dimension in \(self)") }
    }

    public var description: String {
        "\(m)×\(n)×\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "")"
    }
}

/// The reductions `Device.norm` computes.
public enum NormKind: Sendable, Hashable {
    /// Σ x
    case sum
    /// Σ |x|
    case l1
    /// √(Σ x²), square root taken last
    case l2
    /// Σ x²
    case l2Squared
}

/// Penalty strengths: λ₁·Σ|w| + λ₂·Σw² + λ_n·‖w‖₂ per parameter tensor.
public struct PenaltyCoefficients: Sendable, Hashable {
    public var l1: Float
    public var l2: Float
    public var l2Norm: Float

    public init(l1: Float = 0, l2: Float = 0, l2Norm: Float = 0) {
        self.l1 = l1; self.l2 = l2; self.l2Norm = l2Norm
    }

    public var isZero: Bool { l1 == 0 && l2 == 0 && l2Norm == 0 }
}

/// Data losses, each the mean over the batch (PyTorch's default reduction).
public enum LossKind: String, Sendable, CaseIterable {
    /// mean((f(x) − y)²), one output
    case mse
    /// BCEWithLogits: mean(max(z,0) − z·y + log(1 + e^{−|z|})), one output
    case bce
    /// softmax cross-entropy over class indices y ∈ {0..k−1}
    case ce
}

/// torch.optim.SGD: g ← g + wd·w; with momentum μ: b ← g on the first step, else
/// b ← μ·b + (1 − dampening)·g; g ← b (or g + μ·b when nesterov); w ← w − lr·g.
public struct SGDHyperparameters: Sendable, Hashable {
    public var learningRate: Float
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate; self.momentum = momentum; self.dampening = dampening
        self.weightDecay = weightDecay; self.nesterov = nesterov
    }
}

/// torch.optim.Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019).
/// Adam couples weight decay (g ← g + wd·w); AdamW decouples it (w ← w − lr·wd·w first).
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).
public struct AdamHyperparameters: Sendable, Hashable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var decoupled: Bool

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon; self.weightDecay = weightDecay; self.decoupled = decoupled
    }

    /// The per-step scalars torch computes on the host: lr/(1−β₁ᵗ) and √(1−β₂ᵗ), in Double.
    public func biasCorrections(step: Int) -> (stepSize: Float, sqrtCorrection2: Float) {
        let bc1 = 1 - pow(Double(beta1), Double(step))
        let bc2 = 1 - pow(Double(beta2), Double(step))
        return (Float(Double(learningRate) / bc1), Float(bc2.squareRoot()))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

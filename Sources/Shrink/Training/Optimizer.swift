/// The optimizers, with `torch.optim`'s update rules and defaults.
public enum Optimizer: Sendable, Hashable, CustomStringConvertible {
    /// torch.optim.SGD(lr, momentum, weight_decay): d = g + λ·w; b = μ·b + d (b = d on the
    /// first step); w ← w − lr·(μ ≠ 0 ? b : d). Weight decay λ here equals `--l2 λ/2`.
    case sgd(momentum: Float = 0, weightDecay: Float = 0)
    /// torch.optim.Adam (Kingma & Ba, 2015), betas (0.9, 0.999), eps 1e-8; weight decay is
    /// *coupled*: g ← g + λ·w before the moments, which is L2 regularization, not decay.
    case adam(weightDecay: Float = 0)
    /// torch.optim.AdamW (Loshchilov & Hutter, 2019): decoupled decay w ← w − lr·λ·w before
    /// the Adam step; default λ = 0.01.
    case adamw(weightDecay: Float = 0.01)

    /// Parses `sgd | adam | adamw`; `weightDecay` nil takes torch's default.
    public init(name: String, momentum: Float?, weightDecay: Float?) throws {
        guard let kind = OptimizerKind(rawValue: name) else {
            throw TrainingError.invalidConfiguration("unknown optimizer '\(name)': expected sgd, adam or adamw")
        }
        try self.init(kind: kind, momentum: momentum, weightDecay: weightDecay)
    }

    /// The optimizer of `kind` with torch.optim's defaults for what is not given; momentum is
    /// SGD's only.
    public init(kind: OptimizerKind, momentum: Float?, weightDecay: Float?) throws {
        switch kind {
        case .sgd: self = .sgd(momentum: momentum ?? 0, weightDecay: weightDecay ?? 0)
        case .adam: self = .adam(weightDecay: weightDecay ?? 0)
        case .adamw: self = .adamw(weightDecay: weightDecay ?? 0.01)
        }
        if momentum != nil, kind != .sgd {
            throw TrainingError.invalidConfiguration("--momentum applies to sgd only")
        }
    }

    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case .adam: return "adam"
        case .adamw: return "adamw"
        }
    }

    public var weightDecay: Float {
        switch self {
        case .sgd(_, let wd), .adam(let wd), .adamw(let wd): return wd
        }
    }

    /// The same optimizer with another weight decay.
    public func with(weightDecay: Float) -> Optimizer {
        switch self {
        case .sgd(let momentum, _): return .sgd(momentum: momentum, weightDecay: weightDecay)
        case .adam: return .adam(weightDecay: weightDecay)
        case .adamw: return .adamw(weightDecay: weightDecay)
        }
    }

    public var description: String {
        switch self {
        case let .sgd(momentum, wd): return "sgd(momentum: \(momentum), weight_decay: \(wd))"
        case let .adam(wd): return "adam(weight_decay: \(wd))"
        case let .adamw(wd): return "adamw(weight_decay: \(wd))"
        }
    }

    func validate(learningRate: Float) throws {
        guard learningRate.isFinite, learningRate > 0 else {
            throw TrainingError.invalidConfiguration("--lr must be a finite number > 0, got \(learningRate)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw TrainingError.invalidConfiguration("--weight-decay must be a finite number ≥ 0, got \(weightDecay)")
        }
        if case let .sgd(momentum, _) = self, !(momentum >= 0 && momentum < 1) {
            throw TrainingError.invalidConfiguration("--momentum must be in [0, 1), got \(momentum)")
        }
    }
}

/// The optimizers by name (`--optimizer`).
public enum OptimizerKind: String, Sendable, CaseIterable {
    case sgd, adam, adamw
}

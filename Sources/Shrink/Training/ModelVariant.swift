/// What may differ between models trained side by side: the penalty and the weight decay.
public struct ModelVariant: Sendable, Hashable {
    public var penalty: Penalty
    /// The optimizer's weight decay for this model (the configuration's optimizer otherwise).
    public var weightDecay: Float

    public init(penalty: Penalty = .none, weightDecay: Float = 0) {
        self.penalty = penalty
        self.weightDecay = weightDecay
    }
}

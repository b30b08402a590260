extension Dataset {
    /// The model outputs `loss` needs for these targets — 1 for mse and bce, the class count
    /// (largest label + 1, at least 2) for ce — after checking the targets fit the loss:
    /// bce targets in [0, 1], ce targets class indices 0, 1, ..., k−1. Rows are 1-based.
    public func outputCount(for loss: LossKind) throws -> Int {
        switch loss {
        case .mse:
            return 1
        case .bce:
            if let bad = targets.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                throw TrainingError.invalidData("bce targets must lie in [0, 1]: row \(bad + 1) has \(targets[bad])")
            }
            return 1
        case .ce:
            if let bad = targets.firstIndex(where: { !($0 >= 0 && $0 == $0.rounded() && $0 < 16_777_216) }) {
                throw TrainingError.invalidData("ce targets must be class indices 0, 1, ..., k−1: row \(bad + 1) has \(targets[bad])")
            }
            return max(Int(targets.max() ?? 0) + 1, 2)
        }
    }
}

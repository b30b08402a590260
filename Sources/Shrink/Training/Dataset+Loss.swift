import Foundation

extension Dataset {
    /// The dataset with its targets as `loss` needs them, the way scikit-learn's classifiers
    /// take labels (`LabelEncoder`): for bce and ce the distinct target values, sorted, become
    /// classes 0..<k (`classNames` keeps the values as written: "-1" and "1", "setosa", ...).
    /// Labels {1, 2} are two classes, {−1, 1} works for bce. Throws for one class only, for bce
    /// with other than two classes, and for mse on text labels. Idempotent.
    public func encodingClasses(for loss: LossKind) throws -> Dataset {
        if loss == .mse {
            if let classNames {
                throw TrainingError.invalidData("the targets are text labels (\(Self.listed(classNames))); mse needs numbers (use --loss bce or ce)")
            }
            return self
        }
        var encoded = self
        if classNames == nil {
            if let bad = targets.firstIndex(where: { $0 != $0.rounded() }) {
                throw TrainingError.invalidData("\(loss) targets must be class labels (whole numbers or text): row \(bad + 1) has " +
                                                "\(targets[bad]), a continuous value (use --loss mse for regression)")
            }
            let values = Array(Set(targets)).sorted()
            let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, Float($0)) })
            encoded.targets = targets.map { index[$0]! }
            encoded.classNames = values.map(Self.label)
        }
        let classes = encoded.classNames ?? []
        guard classes.count >= 2 else {
            throw TrainingError.invalidData("the targets hold one class only (every row is \(classes.first ?? "?")): " +
                                            "a classifier needs at least two classes")
        }
        if loss == .bce, classes.count != 2 {
            throw TrainingError.invalidData("bce needs exactly two classes; the targets hold \(classes.count) " +
                                            "(\(Self.listed(classes))): use --loss ce")
        }
        return encoded
    }

    /// A numeric label as a user would write it: 1, −1, 2.5 (Float's shortest round-trip form).
    static func label(_ value: Float) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : "\(value)"
    }

    static func listed(_ names: [String]) -> String {
        (names.prefix(5).joined(separator: ", ")) + (names.count > 5 ? ", ..." : "")
    }

    /// The model outputs `loss` needs for these targets — 1 for mse and bce, the class count for
    /// ce (`classNames.count` once encoded, else the largest label + 1, at least 2) — after
    /// checking the targets fit the loss: bce targets in [0, 1], ce targets class indices
    /// 0, 1, ..., k−1. Rows are 1-based.
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
            return max(classNames?.count ?? 0, Int(targets.max() ?? 0) + 1, 2)
        }
    }
}

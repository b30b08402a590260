/// K-fold cross-validation along a path: seeded (and, for classes, stratified) folds, and
/// the choice of α from the per-fold validation losses.
extension RegularizationPath.CrossValidation {
    /// The mean and standard error over folds of each α's validation loss (`foldLosses[α][fold]`,
    /// α largest first), α_min with the least mean, and α_1se, glmnet's rule: the largest α
    /// whose mean is within one standard error of α_min's.
    init(alphas: [Double], foldLosses losses: [[Double]]) {
        let folds = Double(losses.first?.count ?? 0)
        let means = losses.map { $0.reduce(0, +) / folds }
        let errors = zip(losses, means).map { values, mean in
            (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (folds - 1) / folds).squareRoot()
        }
        let best = means.indices.min { means[$0] < means[$1] }!
        let oneSE = means.indices.first { means[$0] <= means[best] + errors[best] }!  // α descends: first = largest
        self.init(meanLoss: means, standardError: errors, alphaMin: alphas[best], alpha1SE: alphas[oneSE])
    }
}

extension RegularizationPath {
    /// Each row's fold, from a seeded shuffle: round robin in shuffled order, stratified by
    /// class for bce and ce (each class dealt round robin in turn, as scikit-learn's
    /// StratifiedKFold) so that every training set sees every class.
    static func foldOf(_ data: Dataset, loss: LossKind, folds: Int, seed: UInt64) throws -> [Int] {
        try foldOf(targets: data.targets, classNames: data.classNames, loss: loss, folds: folds, seed: seed)
    }

    /// The same from the rows' targets alone.
    static func foldOf(targets: [Float], classNames: [String]?, loss: LossKind, folds: Int, seed: UInt64) throws -> [Int] {
        var rng = SeededGenerator(seed: seed ^ 0x4356)
        var order = rng.permutation(targets.count)
        if loss != .mse {
            // The class: the label (ce), or the target rounded to 0 or 1 (bce; soft targets allowed).
            let classes = targets.map { loss == .ce ? Int($0) : ($0 >= 0.5 ? 1 : 0) }
            order = order.enumerated().sorted {  // by class, shuffled within a class
                (classes[$0.element], $0.offset) < (classes[$1.element], $1.offset)
            }.map(\.element)
            let counts = Dictionary(grouping: classes, by: { $0 }).mapValues(\.count)
            if let (label, count) = counts.filter({ $0.value < 2 }).min(by: { $0.key < $1.key }) {
                throw TrainingError.invalidData(
                    "class \(classNames.flatMap { label < $0.count ? $0[label] : nil } ?? "\(label)") has \(count) row: --cv needs at least 2 rows of every class (each training fold must see it)")
            }
        }
        var fold = [Int](repeating: 0, count: targets.count)
        for (position, row) in order.enumerated() { fold[row] = position % folds }
        return fold
    }
}

import ArgumentParser
import Shrink

/// `--standardize` for `train` and `compare`: every feature scaled with the training rows'
/// mean and population standard deviation (scikit-learn's StandardScaler), the test rows
/// with the same numbers. Sparse data is scaled only, never centered (scikit-learn's
/// `StandardScaler(with_mean=False)`; centering would fill every zero). (`fit` and `path`
/// standardize inside the solver instead, centering implicitly.)
struct StandardizeOptions: ParsableArguments {
    @Flag(help: "Scale each feature to mean 0, variance 1 with the training rows' statistics (test rows too; sparse data: variance 1 only, never centered); train --save stores them in the model file.")
    var standardize = false

    /// Both sets standardized with the training rows' statistics, or unchanged without the flag.
    func apply(train: Dataset, test: Dataset?) throws -> (train: Dataset, test: Dataset?, standardization: Standardization?) {
        guard standardize else { return (train, test, nil) }
        let fitted = Standardization(fitting: train)
        let standardization = train.isSparse ? fitted.scalingOnly() : fitted
        return (try standardization.apply(to: train), try test.map { try standardization.apply(to: $0) }, standardization)
    }

    /// The line printed when the features were standardized.
    static func notice(_ standardization: Standardization, sparse: Bool) -> String {
        sparse
            ? "scaled \(standardization.scales.count) sparse features to unit variance, not centered " +
              "(statistics from the training rows)"
            : "standardized \(standardization.means.count) features (statistics from the training rows)"
    }
}

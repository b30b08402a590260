import ArgumentParser
import Shrink

/// `--standardize` for `train` and `compare`: every feature scaled with the training rows'
/// mean and population standard deviation (scikit-learn's StandardScaler), the test rows
/// with the same numbers. (`fit` and `path` standardize inside the solver instead.)
struct StandardizeOptions: ParsableArguments {
    @Flag(help: "Scale each feature to mean 0, variance 1 with the training rows' statistics (test rows too); train --save stores them in the model file.")
    var standardize = false

    /// Both sets standardized with the training rows' statistics, or unchanged without the flag.
    func apply(train: Dataset, test: Dataset?) throws -> (train: Dataset, test: Dataset?, standardization: Standardization?) {
        guard standardize else { return (train, test, nil) }
        let standardization = Standardization(fitting: train)
        return (try standardization.apply(to: train), try test.map { try standardization.apply(to: $0) }, standardization)
    }

    /// The line printed when the features were standardized.
    static func notice(_ standardization: Standardization) -> String {
        "standardized \(standardization.means.count) features (statistics from the training rows)"
    }
}

import Foundation

/// Per-feature centering and scaling, as scikit-learn's `StandardScaler`: (x − mean) / scale,
/// scale the population standard deviation (1 for a constant column). Placeholder, replaced
/// by the train/compare branch.
public struct Standardization: Sendable, Equatable {
    public let means: [Double]
    public let scales: [Double]

    public init(means: [Double], scales: [Double]) throws {
        guard means.count == scales.count, scales.allSatisfy({ $0.isFinite && $0 > 0 }), means.allSatisfy(\.isFinite) else {
            throw DataError.invalid("standardization: \(means.count) means and \(scales.count) scales (all finite, scales > 0) needed")
        }
        self.means = means
        self.scales = scales
    }

    public func apply(to data: Dataset) throws -> Dataset {
        guard data.columns == means.count else {
            throw DataError.invalid("standardization: the data has \(data.columns) features, the statistics \(means.count)")
        }
        var out = data
        for i in 0..<data.features.count {
            let c = i % data.columns
            out.features[i] = Float((Double(data.features[i]) - means[c]) / scales[c])
        }
        return out
    }

    public var metadata: [String: String] {
        func list(_ values: [Double]) -> String { "[" + values.map { "\($0)" }.joined(separator: ",") + "]" }
        return ["standardize_mean": list(means), "standardize_scale": list(scales)]
    }

    public init?(metadata: [String: String]) throws {
        guard let m = metadata["standardize_mean"], let s = metadata["standardize_scale"] else { return nil }
        func numbers(_ text: String) throws -> [Double] {
            guard let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [NSNumber] else {
                throw DataError.invalid("standardization metadata is not a JSON array of numbers")
            }
            return array.map(\.doubleValue)
        }
        try self.init(means: try numbers(m), scales: try numbers(s))
    }
}

/// Generated datasets (`--synthetic KIND:N:P[:K]`), reproducible from a seed.
public enum SyntheticData {
    /// Parses and generates `classification:N:P[:K]` or `regression:N:P`.
    ///  - classification: X ~ randn(N, P); with K = 2 (default) random labels (randn(N) > 0),
    ///    as the PyTorch script compare reproduces; with K > 2 labels argmax(X·W + noise) over K classes.
    ///  - regression: X ~ randn(N, P), y = X·w + 0.1·noise with min(5, P) nonzero true
    ///    coefficients ~ 3·N(0, 1) (the rest exactly 0: a case for L1).
    public static func make(_ spec: String, seed: UInt64) throws -> Dataset {
        let (kind, n, p, k) = try parse(spec)
        return kind == "classification" ? classification(rows: n, columns: p, classes: k, seed: seed)
            : regression(rows: n, columns: p, seed: seed)
    }

    /// Throws the error `make` would throw for `spec`, without generating anything.
    public static func check(_ spec: String) throws {
        _ = try parse(spec)
    }

    private static func parse(_ spec: String) throws -> (kind: String, rows: Int, columns: Int, classes: Int) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let numbers = parts.dropFirst().map { Int($0) }
        guard parts.count >= 3, parts.count <= 4, numbers.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw DataError.invalid("bad --synthetic '\(spec)': expected KIND:N:P[:K] with positive integers")
        }
        let (n, p) = (numbers[0]!, numbers[1]!)
        let k = parts.count == 4 ? numbers[2]! : 2
        guard n.multipliedReportingOverflow(by: p).partialValue <= 1 << 31, !n.multipliedReportingOverflow(by: p).overflow else {
            throw DataError.invalid("bad --synthetic '\(spec)': N×P is too large")
        }
        switch parts[0] {
        case "classification":
            guard k >= 2 else { throw DataError.invalid("bad --synthetic '\(spec)': K must be ≥ 2") }
        case "regression":
            guard parts.count == 3 else { throw DataError.invalid("bad --synthetic '\(spec)': regression takes N:P") }
        default:
            throw DataError.invalid("unknown --synthetic kind '\(parts[0])': expected classification or regression")
        }
        return (parts[0], n, p, k)
    }

    /// The reference PyTorch script's data: `randn(1000, 10)` with random binary labels, seed 0.
    public static func seedDefault() -> Dataset {
        classification(rows: 1000, columns: 10, classes: 2, seed: 0)
    }

    static func classification(rows n: Int, columns p: Int, classes k: Int, seed: UInt64) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let x = (0..<(n * p)).map { _ in Float(rng.normal()) }
        let y: [Float]
        if k == 2 {
            y = (0..<n).map { _ in rng.normal() > 0 ? 1 : 0 }
        } else {
            let w = (0..<(p * k)).map { _ in rng.normal() }
            y = (0..<n).map { r in
                let scores = (0..<k).map { c in
                    (0..<p).reduce(0.0) { $0 + Double(x[r * p + $1]) * w[$1 * k + c] } + rng.normal()
                }
                return Float(scores.indices.max { scores[$0] < scores[$1] }!)
            }
        }
        return try! Dataset(features: x, targets: y, rows: n, columns: p)
    }

    static func regression(rows n: Int, columns p: Int, seed: UInt64) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let x = (0..<(n * p)).map { _ in Float(rng.normal()) }
        var w = [Double](repeating: 0, count: p)
        for j in 0..<min(5, p) { w[j] = 3 * rng.normal() }
        let y = (0..<n).map { r in
            Float((0..<p).reduce(0.0) { $0 + Double(x[r * p + $1]) * w[$1] } + 0.1 * rng.normal())
        }
        return try! Dataset(features: x, targets: y, rows: n, columns: p)
    }
}

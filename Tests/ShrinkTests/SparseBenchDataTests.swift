import Foundation
import Shrink
import XCTest

/// `shrink bench sparse`'s generator and the .npz it hands the peers.
final class SparseBenchDataTests: XCTestCase {
    private func make(seed: UInt64 = 7) throws -> SparseBenchData {
        try SparseBenchData.make(rows: 2000, columns: 3000, nonZerosPerRow: 30, seed: seed)
    }

    /// One seed, one matrix and one set of targets; another seed, others.
    func testDeterministicForASeed() throws {
        let (a, b, c) = (try make(), try make(), try make(seed: 8))
        XCTAssertEqual(a.features, b.features)
        XCTAssertEqual(a.regressionTargets, b.regressionTargets)
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertEqual(a.trueColumns, b.trueColumns)
        XCTAssertNotEqual(a.features, c.features)
        XCTAssertNotEqual(a.regressionTargets, c.regressionTargets)
    }

    /// The stated statistics: the size, the mean row length within 5% of the target with
    /// varying lengths, some empty rows and columns, a power-law head far heavier than the
    /// tail, positive unit-norm tf-idf rows, a sparse true model, both classes.
    func testStatistics() throws {
        let data = try make()
        let x = data.features
        XCTAssertEqual(x.rows, 2000)
        XCTAssertEqual(x.columns, 3000)
        let lengths = (0..<x.rows).map { x.rowStarts[$0 + 1] - x.rowStarts[$0] }
        XCTAssertEqual(Double(x.nonZeroCount) / Double(x.rows), 30, accuracy: 1.5)
        XCTAssertGreaterThan(lengths.max()!, 60)
        XCTAssertGreaterThan(lengths.filter { $0 == 0 }.count, 0)
        XCTAssertLessThan(lengths.filter { $0 == 0 }.count, 60)  // ~1%
        let counts = x.columnCounts()
        XCTAssertGreaterThan(counts.filter { $0 == 0 }.count, 0)
        // Zipf: the first 1% of the columns hold far more non-zeros than the last half.
        let head = counts.prefix(30).reduce(0, +), tail = counts.suffix(1500).reduce(0, +)
        XCTAssertGreaterThan(head, 2 * tail)
        XCTAssertGreaterThan(counts[0], 10 * max(1, counts[2999]))
        XCTAssertTrue(x.values.allSatisfy { $0 > 0 && $0 <= 1 })
        for r in 0..<x.rows where lengths[r] > 0 {
            let norm = x.values[x.rowStarts[r]..<x.rowStarts[r + 1]].reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(norm, 1, accuracy: 1e-5)
        }
        XCTAssertEqual(data.trueColumns.count, SparseBenchData.defaultTrueNonZeros(columns: 3000))
        XCTAssertTrue(data.trueColumns.allSatisfy { $0 < 3000 / 20 })
        let share = data.labels.reduce(0, +) / Float(x.rows)
        XCTAssertTrue(share > 0.2 && share < 0.8, "\(share)")
        XCTAssertTrue(data.labels.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertTrue(data.regressionTargets.allSatisfy(\.isFinite))
    }

    /// The .npz written for the peers reads back as the same matrix (SciPy's load_npz reads
    /// the same file: checked by scripts/bench_sparse_peers.py runs).
    func testNPZRoundTrip() throws {
        let x = try SparseBenchData.make(rows: 200, columns: 300, nonZerosPerRow: 12, seed: 1).features
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparse-bench-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try SciPySparse.write(x, to: url)
        XCTAssertEqual(try SciPySparse.read(url), x)
    }

    /// The objectives the bench reports, against the dense formulas on a tiny matrix.
    func testObjectivesMatchTheDenseFormulas() throws {
        let data = try SparseBenchData.make(rows: 50, columns: 40, nonZerosPerRow: 5, seed: 3)
        let x = data.features, dense = x.dense()
        var rng = SeededGenerator(seed: 1)
        let w = (0..<40).map { _ in rng.normal() }, (alpha, b) = (0.01, 0.3)
        let xw = (0..<50).map { r in (0..<40).reduce(0.0) { $0 + Double(dense[r * 40 + $1]) * w[$1] } }
        let l1 = alpha * w.reduce(0) { $0 + abs($1) }
        let y = data.regressionTargets.map(Double.init)
        let intercept = zip(y, xw).reduce(0) { $0 + $1.0 - $1.1 } / 50
        let lasso = zip(y, xw).reduce(0) { $0 + pow($1.0 - $1.1 - intercept, 2) } / 100 + l1
        XCTAssertEqual(SparseBench.lassoObjective(x, data.regressionTargets, alpha: alpha, w: w), lasso, accuracy: 1e-12)
        let logistic = zip(data.labels, xw).reduce(0) { $0 + log(1 + exp(-(2 * Double($1.0) - 1) * ($1.1 + b))) } / 50 + l1
        XCTAssertEqual(SparseBench.logisticObjective(x, data.labels, alpha: alpha, w: w, b: b), logistic, accuracy: 1e-12)
    }
}

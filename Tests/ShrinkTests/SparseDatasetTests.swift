import Foundation
@testable import Shrink
import XCTest

/// A sparse `Dataset` against its dense twin: the same rows selected, the same statistics,
/// the same errors — and no dense copy behind any of them.
final class SparseDatasetTests: XCTestCase {
    private let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("sparse")

    /// The real digits fixture (about half its entries are zero), sparse.
    private func digits() throws -> Dataset {
        let file = try SVMLight.read(folder.appendingPathComponent("digits.svm"))
        return try Dataset(sparse: file.matrix, targets: file.targets)
    }

    func testSubsetSplitAndHashAgreeWithTheDenseTwin() throws {
        let sparse = try digits()
        let dense = sparse.densified()
        XCTAssertTrue(sparse.isSparse)
        XCTAssertFalse(dense.isSparse)
        let rows = [17, 3, 3, 599, 0]
        let subset = sparse.subset(rows)
        XCTAssertEqual(subset.sparse?.dense(), dense.subset(rows).features)
        XCTAssertEqual(subset.targets, rows.map { sparse.targets[$0] })
        let (train, test) = try sparse.split(testFraction: 0.25, seed: 7)
        let (denseTrain, denseTest) = try dense.split(testFraction: 0.25, seed: 7)
        XCTAssertEqual(train.sparse?.dense(), denseTrain.features)
        XCTAssertEqual(test?.sparse?.dense(), denseTest?.features)
        // The hash sees where the values are, not only which values.
        var moved = sparse.sparse!
        let columns = moved.columnIndices
        let row = (0..<moved.rows).first { r in
            let (a, b) = (moved.rowStarts[r], moved.rowStarts[r + 1])
            return b > a && columns[b - 1] + 1 < Int32(moved.columns)
        }!
        var shifted = columns
        shifted[moved.rowStarts[row + 1] - 1] += 1
        moved = try SparseMatrix(rows: moved.rows, columns: moved.columns, rowStarts: moved.rowStarts,
                                 columnIndices: shifted, values: moved.values)
        XCTAssertNotEqual(try Dataset(sparse: moved, targets: sparse.targets).contentHash, sparse.contentHash)
        XCTAssertEqual(sparse.contentHash, try digits().contentHash)
    }

    func testStandardizationFittedOnStoredEntriesEqualsTheDenseFit() throws {
        let sparse = try digits()
        let fromSparse = Standardization(fitting: sparse)
        let fromDense = Standardization(fitting: sparse.densified())
        for j in 0..<sparse.columns {
            XCTAssertEqual(fromSparse.means[j], fromDense.means[j], accuracy: 1e-12 * max(1, abs(fromDense.means[j])))
            XCTAssertEqual(fromSparse.scales[j], fromDense.scales[j], accuracy: 1e-10 * fromDense.scales[j])
        }
        // digits has constant (all-zero) columns: scale 1, as StandardScaler.
        XCTAssertTrue(fromSparse.scales.contains(1))
    }

    func testNonFiniteEntriesAndShapeErrorsNameTheirPlace() throws {
        let matrix = try SparseMatrix(rows: 3, columns: 4, rowStarts: [0, 1, 1, 3], columnIndices: [2, 0, 3],
                                      values: [1, 2, .nan])
        let data = try Dataset(sparse: matrix, targets: [0, 1, 0])
        XCTAssertThrowsError(try data.validateFinite(featuresPath: "x.npz")) { error in
            XCTAssertEqual("\(error)", "x.npz: row 3, column 4: nan in X (1 of 3 rows hold NaN or Inf)")
        }
        XCTAssertThrowsError(try Dataset(sparse: matrix, targets: [0, 1])) { error in
            XCTAssertEqual("\(error)", "X has 3 rows but y has 2 values")
        }
    }

    func testSVMLightReadOfAFolderOrMissingFileIsOneLine() throws {
        XCTAssertThrowsError(try SVMLight.read(folder)) { error in
            XCTAssertTrue("\(error)".hasSuffix("not a regular file"), "\(error)")
        }
        XCTAssertThrowsError(try SVMLight.read(folder.appendingPathComponent("missing.svm"))) { error in
            XCTAssertTrue("\(error)".contains("missing.svm") && "\(error)".contains("No such file"), "\(error)")
        }
    }
}

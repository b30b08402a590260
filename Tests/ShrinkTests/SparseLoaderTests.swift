import Foundation
@testable import Shrink
import XCTest

/// The svmlight and SciPy .npz loaders against what scikit-learn's `load_svmlight_file` and
/// SciPy's `load_npz` read from the same files (scripts/gen_sparse_fixtures.py → Fixtures/sparse:
/// digits, a text-like power-law matrix with empty rows and qid, a hand-written file with
/// comments/CRLF/tabs, CSR/CSC/int64 .npz), and every malformed input rejected with one line
/// naming the file and the line or array.
final class SparseLoaderTests: XCTestCase {
    private let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("sparse")

    private struct Expected: Decodable {
        var shape: [Int]
        var nnz: Int
        var zero_based: Bool?
    }

    private func expected() throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self,
                                 from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
    }

    /// scikit-learn's CSR of `name`: indptr, indices, data, labels.
    private func reference(_ name: String) throws -> (SparseMatrix, [Float]) {
        let file = { (part: String) in self.folder.appendingPathComponent("\(name).\(part).npy") }
        let indptr = try NPY.parseIntegers(NPY.readBytes(file("indptr")), path: name).values
        let indices = try NPY.parseIntegers(NPY.readBytes(file("indices")), path: name).values.map { Int32($0) }
        let data = try NPY.read(file("data")).values
        let meta = try XCTUnwrap(try expected()[name])
        let matrix = try SparseMatrix(rows: meta.shape[0], columns: meta.shape[1], rowStarts: indptr,
                                      columnIndices: indices, values: data)
        XCTAssertEqual(matrix.nonZeroCount, meta.nnz, name)
        return (matrix, try NPY.read(file("y")).values)
    }

    func testSVMLightFilesReadAsScikitLearnReadsThem() throws {
        for name in ["digits.svm", "text.libsvm", "hand.svmlight"] {
            let file = try SVMLight.read(folder.appendingPathComponent(name))
            let (matrix, labels) = try reference(name)
            XCTAssertEqual(file.matrix, matrix, name)
            XCTAssertEqual(file.targets, labels, name)
            XCTAssertEqual(file.zeroBased, try XCTUnwrap(try expected()[name]?.zero_based), name)
        }
    }

    func testNPZFilesReadAsSciPyReadsThem() throws {
        for name in ["digits_csr.npz", "text_csc.npz", "text_int64.npz"] {
            let matrix = try SciPySparse.read(folder.appendingPathComponent(name))
            XCTAssertEqual(matrix, try reference(name).0, name)
        }
        let small = try SciPySparse.read(folder.appendingPathComponent("good.npz"))
        XCTAssertEqual(small.dense(), [1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 0])
    }

    /// The same data in both formats gives the same matrix; its transpose twice is itself.
    func testFormatsAgreeAndTransposeRoundTrips() throws {
        let svm = try SVMLight.read(folder.appendingPathComponent("digits.svm")).matrix
        let npz = try SciPySparse.read(folder.appendingPathComponent("digits_csr.npz"))
        XCTAssertEqual(svm, npz)
        XCTAssertEqual(npz.transposed().transposed(), npz)
        let t = npz.transposed(), dense = npz.dense()
        for r in [0, 17, npz.rows - 1] {
            for c in 0..<npz.columns { XCTAssertEqual(t.dense()[c * npz.rows + r], dense[r * npz.columns + c]) }
        }
    }

    func testIndexBaseAndWidth() throws {
        let text = Array("1 1:5 3:7\n0 2:1\n".utf8)
        let auto = try SVMLight.parse(text, path: "t.svm")
        XCTAssertFalse(auto.zeroBased)
        XCTAssertEqual(auto.matrix.dense(), [5, 0, 7, 0, 1, 0])
        let zero = try SVMLight.parse(text, path: "t.svm", indexBase: .zero)
        XCTAssertEqual(zero.matrix.columns, 4)
        XCTAssertEqual(zero.matrix.dense(), [0, 5, 0, 7, 0, 0, 1, 0])
        let wide = try SVMLight.parse(text, path: "t.svm", features: 10)
        XCTAssertEqual(wide.matrix.columns, 10)
        XCTAssertTrue(try SVMLight.parse(Array("2 0:1 4:2\n".utf8), path: "t.svm").zeroBased)
        let noFeatures = try SVMLight.parse(Array("1\n-1\n".utf8), path: "t.svm")
        XCTAssertEqual(noFeatures.matrix.nonZeroCount, 0)
        XCTAssertEqual(noFeatures.targets, [1, -1])
    }

    func testMalformedSVMLightIsOneLineNamingTheLine() {
        let cases: [(String, SVMLight.IndexBase, Int?, String)] = [
            ("1 1:2\n1 3:1 2:5\n", .auto, nil, "line 2: feature indices are not sorted (3 before 2)"),
            ("1 1:2 1:3\n", .auto, nil, "line 1: feature index 1 appears twice"),
            ("1 1:2\n1 5:1\n", .auto, 4, "beyond --n-features 4"),
            ("1 1:abc\n", .auto, nil, "line 1: the value of feature 1 'abc' is not a finite number"),
            ("1 1:nan\n", .auto, nil, "line 1: the value of feature 1 'nan' is not a finite number"),
            ("1 1:1e39\n", .auto, nil, "line 1: the value of feature 1 does not fit a 32-bit float"),
            ("x 1:2\n", .auto, nil, "line 1: the label 'x' is not a finite number"),
            ("1:2 3:4\n", .auto, nil, "line 1: the line starts with '1:2', not a label"),
            ("1,2 3:4\n", .auto, nil, "line 1: multi-label rows ('1,2') are not supported"),
            ("1 2\n", .auto, nil, "line 1: '2' is not index:value"),
            ("1 -1:2\n", .auto, nil, "line 1: bad feature index '-1'"),
            ("1 qid:x 1:2\n", .auto, nil, "line 1: bad query id 'qid:x'"),
            ("1 0:1\n", .one, nil, "line 1: index 0 in a one-based file"),
            ("# nothing\n\n", .auto, nil, "no rows"),
        ]
        for (text, base, features, message) in cases {
            XCTAssertThrowsError(try SVMLight.parse(Array(text.utf8), path: "bad.svm", indexBase: base, features: features),
                                 text) { error in
                let line = "\(error)"
                XCTAssertTrue(line.hasPrefix("bad.svm: "), "\(text): \(line)")
                XCTAssertTrue(line.contains(message), "\(text): \(line)")
                XCTAssertFalse(line.contains("\n"), line)
            }
        }
    }

    func testMalformedNPZIsOneLineNamingTheRule() {
        let cases = [
            ("bad_indptr_decreasing.npz", "csr: indptr decreases at row 1 (2 then 1)"),
            ("bad_indptr_end.npz", "csr: indptr ends at 2 but there are 3 non-zeros"),
            ("bad_index_range.npz", "csr: row 0 has column index 4, outside 0..<4"),
            ("bad_unsorted.npz", "csr: row 0's column indices are not sorted (2 before 0; X.sort_indices() first)"),
            ("bad_duplicate.npz", "csr: row 0 has column 1 twice"),
            ("bad_format.npz", "format 'coo' is not supported"),
            ("bad_missing.npz", "no 'indptr' array"),
            ("bad_float_indices.npz", "[indices]: dtype <f8 is not an integer type"),
            ("bad_shape.npz", "shape must be two sizes ≥ 0"),
            ("bad_nan.npz", "data[1] is nan"),
            ("bad_truncated.npz", "not a ZIP archive"),
        ]
        for (name, message) in cases {
            let url = folder.appendingPathComponent(name)
            XCTAssertThrowsError(try SciPySparse.read(url), name) { error in
                let line = "\(error)"
                XCTAssertTrue(line.hasPrefix(url.path), "\(name): \(line)")
                XCTAssertTrue(line.contains(message), "\(name): \(line)")
                XCTAssertFalse(line.contains("\n"), line)
            }
        }
        XCTAssertThrowsError(try SciPySparse.parse(Data("PK not really".utf8), path: "x.npz"))
        XCTAssertThrowsError(try SciPySparse.parse(Data(), path: "x.npz"))
    }

    /// CSC input keeps its structure rules with the roles swapped.
    func testCSCRulesNameColumns() {
        XCTAssertThrowsError(try SparseMatrix.fromColumns(rows: 2, columns: 2, columnStarts: [0, 1, 2], rowIndices: [0, 5],
                                                          values: [1, 2], describe: { DataError.invalid($0) })) { error in
            XCTAssertEqual("\(error)", "column 1 has row index 5, outside 0..<2")
        }
    }
}

import Foundation
@testable import Shrink
import XCTest

/// .npy, CSV, synthetic data and splits: real files in a temporary folder.
final class DataLoadingTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("shrink-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// A version-1 .npy with the given header dict and payload.
    private func npy(_ dict: String, _ payload: [UInt8]) -> [UInt8] {
        var header = dict
        while (10 + header.utf8.count + 1) % 16 != 0 { header += " " }
        header += "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + payload
    }

    private func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    func testReadsTheTorchFixture() throws {
        let fixture = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("torch/seed-linear-mse-l1-l2norm")
        let x = try NPY.read(fixture.appendingPathComponent("X.npy"))
        XCTAssertEqual(x.shape, [1000, 10])
        let data = try DataLoader.load(data: fixture.appendingPathComponent("X.npy"),
                                       targets: fixture.appendingPathComponent("y.npy"), targetColumn: nil)
        XCTAssertEqual(data.rows, 1000)
        XCTAssertEqual(data.columns, 10)
        XCTAssertTrue(data.features.allSatisfy(\.isFinite))
        XCTAssertLessThan(abs(data.features.reduce(0, +) / 10_000), 0.1, "randn features should average near 0")
    }

    func testEveryDtype() throws {
        let cases: [(String, [UInt8])] = [
            ("<f4", bytes([Float(1.5), -2])), ("<f8", bytes([1.5, -2.0])),
            ("<i4", bytes([Int32(3), -4])), ("<i8", bytes([Int64(3), -4])),
        ]
        for (dtype, payload) in cases {
            let url = try file("a.npy", npy("{'descr': '\(dtype)', 'fortran_order': False, 'shape': (2,), }", payload))
            let array = try NPY.read(url)
            XCTAssertEqual(array.shape, [2], dtype)
            XCTAssertEqual(array.values, dtype.hasPrefix("<f") ? [1.5, -2] : [3, -4], dtype)
        }
    }

    func testNPYRoundTripAndErrors() throws {
        let url = folder.appendingPathComponent("rt.npy")
        try NPY.write(NPYArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), to: url)
        XCTAssertEqual(try NPY.read(url), NPYArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        let bad: [(String, [UInt8], String)] = [
            ("magic", Array("NOTNUMPYxxxxxxxx".utf8), "bad magic"),
            ("dtype", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", bytes([Float(0), 0])), "unsupported dtype <c8"),
            ("fortran", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", bytes([Float(0)])), "Fortran"),
            ("truncated", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", bytes([Float(0)])), "truncated data"),
            ("overflow", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", []), "overflows"),
        ]
        for (name, content, message) in bad {
            let url = try file("\(name).npy", content)
            XCTAssertThrowsError(try NPY.read(url), name) {
                XCTAssertTrue("\($0)".contains(message), "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("\(name).npy"), "\(name): the error must name the file: \($0)")
            }
        }
    }

    func testXYLengthMismatch() throws {
        let x = folder.appendingPathComponent("x.npy"), y = folder.appendingPathComponent("y.npy")
        try NPY.write(NPYArray(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]), to: x)
        try NPY.write(NPYArray(shape: [2], values: [0, 1]), to: y)
        XCTAssertThrowsError(try DataLoader.load(data: x, targets: y, targetColumn: nil)) {
            XCTAssertTrue("\($0)".contains("3 rows"), "\($0)")
        }
    }

    func testCSV() throws {
        let url = try file("d.csv", Array("a,\"b,c\",label\r\n1,2,0\r\n3.5,-4e-1,1\r\n\r\n".utf8))
        let data = try CSVLoader.load(url, targetColumn: nil)
        XCTAssertEqual(data.columns, 2)
        XCTAssertEqual(data.features, [1, 2, 3.5, -0.4])
        XCTAssertEqual(data.targets, [0, 1])
        let byName = try CSVLoader.load(url, targetColumn: "a")
        XCTAssertEqual(byName.targets, [1, 3.5])
        XCTAssertEqual(byName.features, [2, 0, -0.4, 1])
    }

    func testCSVErrorsNameRowAndColumn() throws {
        let cases: [(String, String, String)] = [
            ("ragged", "a,b\n1,2\n3\n", "row 3 has 1 fields"),
            ("text", "a,b\n1,2\nx7,3\n", "row 3, column 'a': 'x7' is not a number"),
            ("empty", "", "empty CSV"),
            ("header-only", "a,b\n", "no data rows"),
        ]
        for (name, text, message) in cases {
            let url = try file("\(name).csv", Array(text.utf8))
            XCTAssertThrowsError(try CSVLoader.load(url, targetColumn: nil), name) {
                XCTAssertTrue("\($0)".contains(message), "\(name): \($0)")
            }
        }
        let url = try file("ok.csv", Array("a,b\n1,2\n".utf8))
        XCTAssertThrowsError(try CSVLoader.load(url, targetColumn: "zz")) { XCTAssertTrue("\($0)".contains("no column 'zz'")) }
    }

    func testNonFiniteDataNamesTheRow() throws {
        let data = try Dataset(features: [1, 2, 3, .nan], targets: [0, 1], rows: 2, columns: 2)
        XCTAssertThrowsError(try data.validateFinite()) { XCTAssertTrue("\($0)".contains("row 2, column 2"), "\($0)") }
    }

    func testSeededSplitIsAPartition() throws {
        let data = SyntheticData.seedDefault()
        XCTAssertEqual(data.rows, 1000)
        XCTAssertEqual(data.columns, 10)
        XCTAssertTrue(Set(data.targets).isSubset(of: [0, 1]))
        let (train, test) = try data.split(testFraction: 0.2, seed: 0)
        XCTAssertEqual(train.rows, 800)
        XCTAssertEqual(test?.rows, 200)
        let again = try data.split(testFraction: 0.2, seed: 0)
        XCTAssertEqual(again.train, train, "the split must be reproducible")
        XCTAssertNotEqual(try data.split(testFraction: 0.2, seed: 1).train, train)
        XCTAssertEqual(Set(train.features + test!.features), Set(data.features), "train ∪ test = all rows")
        XCTAssertNil(try data.split(testFraction: 0, seed: 0).test)
    }

    /// `splitIndices` names `split`'s rows (the same rows, in the same shuffled order; with
    /// f = 0 every row trains), and `splitCSV` lists every row in file order.
    func testSplitIndicesAreTheSplitsRows() throws {
        let data = try makeDataset(rows: 57, columns: 3, loss: .mse)
        for (fraction, seed) in [(0.2, UInt64(0)), (0.5, 3), (0.01, 9)] {
            let (trainRows, testRows) = try data.splitIndices(testFraction: fraction, seed: seed)
            let (train, test) = try data.split(testFraction: fraction, seed: seed)
            XCTAssertEqual(testRows.count, Int((fraction * 57).rounded(.up)))
            XCTAssertEqual((trainRows + testRows).sorted(), Array(0..<57), "a partition of the rows")
            XCTAssertEqual(data.subset(trainRows), train)
            XCTAssertEqual(data.subset(testRows), test)
        }
        let none = try data.splitIndices(testFraction: 0, seed: 0)
        XCTAssertEqual(none.train, Array(0..<57))
        XCTAssertEqual(none.test, [])
        XCTAssertThrowsError(try data.splitIndices(testFraction: 1, seed: 0))
        // The rows the split held out before splitIndices existed (seed 0, 20% of 57).
        XCTAssertEqual(Array(try data.splitIndices(testFraction: 0.2, seed: 0).test.prefix(6)), [22, 6, 2, 14, 33, 51])
        XCTAssertEqual(Dataset.splitCSV(rows: 4, test: [2, 0]), "row,set\n0,test\n1,train\n2,test\n3,train\n")
        XCTAssertEqual(Dataset.splitCSV(rows: 2, test: []), "row,set\n0,train\n1,train\n")
    }

    func testSyntheticKinds() throws {
        let c = try SyntheticData.make("classification:50:4:3", seed: 1)
        XCTAssertEqual(c.rows, 50); XCTAssertEqual(c.columns, 4)
        XCTAssertEqual(Set(c.targets), [0, 1, 2])
        let r = try SyntheticData.make("regression:40:8", seed: 1)
        XCTAssertEqual(r.rows, 40)
        for bad in ["classification:0:4", "cubes:10:2", "regression:10", "classification:10:2:1"] {
            XCTAssertThrowsError(try SyntheticData.make(bad, seed: 0), bad)
        }
    }
}

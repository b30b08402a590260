import Foundation
@testable import Shrink
import XCTest
import ZIPFoundation

/// Row shards (what each MPI rank reads of a file) against the whole file: for 1, 2, 3 and
/// more parts than rows, the parts in order are the file, each row exactly once.
final class RowShardTests: XCTestCase {
    private let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("shrink-shards-\(ProcessInfo.processInfo.processIdentifier)")

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func testEvenRangesCoverEveryItemOnce() {
        for count in [0, 1, 5, 7, 100] {
            for parts in 1...9 {
                let ranges = (0..<parts).map { RowShards.evenRange(part: $0, of: parts, count: count) }
                XCTAssertEqual(ranges.flatMap { Array($0) }, Array(0..<count), "\(count) in \(parts)")
                XCTAssertLessThanOrEqual(Set(ranges.map(\.count)).count, 2)
            }
        }
    }

    func testNPYRowsEqualTheWholeArraysRows() throws {
        let (rows, columns) = (11, 3)
        let values = (0..<(rows * columns)).map { Float($0) * 0.5 - 3 }
        let url = folder.appendingPathComponent("x.npy")
        try NPY.write(NPYArray(shape: [rows, columns], values: values), to: url)
        for parts in [1, 2, 3, 4, 12] {
            var joined = [Float]()
            for part in 0..<parts {
                let range = RowShards.evenRange(part: part, of: parts, count: rows)
                let (array, total) = try NPY.readRows(url, range)
                XCTAssertEqual(total, rows)
                XCTAssertEqual(array.shape, [range.count, columns])
                joined += array.values
            }
            XCTAssertEqual(joined, values, "\(parts) parts")
        }
        // A 1-D target array shards the same way; a row range beyond the file is an error.
        let y = folder.appendingPathComponent("y.npy")
        try NPY.write(NPYArray(shape: [rows], values: (0..<rows).map(Float.init)), to: y)
        XCTAssertEqual(try NPY.readRows(y, 4..<7).array.values, [4, 5, 6])
        XCTAssertThrowsError(try NPY.readRows(y, 9..<12))
        // The header and the size are checked as a whole read checks them.
        var truncated = try Data(contentsOf: url)
        truncated.removeLast(4)
        try truncated.write(to: url)
        XCTAssertThrowsError(try NPY.readRows(url, 0..<1)) { error in
            XCTAssertTrue("\(error)".contains("truncated data"), "\(error)")
        }
    }

    func testLineRangesSplitATextFileAtLineStarts() throws {
        // Lines of uneven length, a CRLF, no final line feed.
        let text = "a,b,y\n1,2,0\n10,20,1\r\n3,4,0\n100,200,1\n5,6,0\n7,8"
        let url = folder.appendingPathComponent("data.csv")
        try Data(text.utf8).write(to: url)
        let body = try RowShards.firstLineEnd(url)
        XCTAssertEqual(body, 6)
        let lines = text.dropFirst(6).split(separator: "\n", omittingEmptySubsequences: false)
        for parts in [1, 2, 3, 5, 40] {
            var joined = [UInt8]()
            var previousEnd = body
            for part in 0..<parts {
                let range = try RowShards.lineRange(url, part: part, of: parts, bodyStart: body)
                XCTAssertEqual(range.lowerBound, previousEnd, "parts are contiguous")
                previousEnd = range.upperBound
                let bytes = try RowShards.readBytes(url, range)
                if let first = bytes.first {
                    XCTAssertNotEqual(first, UInt8(ascii: "\n"))
                    XCTAssertTrue(range.lowerBound == body || Array(text.utf8)[range.lowerBound - 1] == UInt8(ascii: "\n"))
                }
                joined += bytes
            }
            XCTAssertEqual(previousEnd, text.utf8.count)
            XCTAssertEqual(String(decoding: joined, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false),
                           lines, "\(parts) parts")
        }
    }

    /// Reads `url` in `parts` parts as the ranks of a job would (each part's three steps, the
    /// collectives done by hand): the rows of each part, in order.
    private func readInParts(_ url: URL, _ parts: Int, indexBase: SVMLight.IndexBase = .auto,
                             features: Int? = nil) throws -> [SVMLight.File] {
        let pieces = try (0..<parts).map { try SVMLight.Part(url, part: $0, of: parts) }
        var firstLine = 1
        var scans = [SVMLight.Scan]()
        for piece in pieces {
            scans.append(try piece.scan(firstLine: firstLine, features: features))
            firstLine += piece.lineFeeds
        }
        let whole = scans.map(\.summary).reduce(SVMLight.Scan.Summary()) { $0.merged($1) }
        return try scans.map { try $0.file(path: url.path, indexBase: indexBase, features: features, whole: whole) }
    }

    func testSVMLightPartsTogetherAreTheWholeFile() throws {
        // Index 0 only on the last line: `auto` must read every part zero-based; the widest
        // row is in the middle; a comment, a blank line, qid, CRLF and no final line feed.
        let text = "# header comment\n1 3:1 7:2\n\n-1 qid:4 2:0.5\r\n1 1:1 40:3 # note\n-1 5:2\n1\n-1 0:9 2:1"
        let url = folder.appendingPathComponent("parts.svm")
        try Data(text.utf8).write(to: url)
        let whole = try SVMLight.read(url)
        XCTAssertTrue(whole.zeroBased)
        for parts in [1, 2, 3, 4, 9, 60] {
            let files = try readInParts(url, parts)
            XCTAssertEqual(files.flatMap(\.targets), whole.targets, "\(parts) parts")
            XCTAssertTrue(files.allSatisfy { $0.zeroBased && $0.matrix.columns == whole.matrix.columns }, "\(parts) parts")
            let rows = files.flatMap { file in (0..<file.matrix.rows).map { r in
                Array(file.matrix.columnIndices[file.matrix.rowStarts[r]..<file.matrix.rowStarts[r + 1]]) } }
            XCTAssertEqual(rows, (0..<whole.matrix.rows).map { r in
                Array(whole.matrix.columnIndices[whole.matrix.rowStarts[r]..<whole.matrix.rowStarts[r + 1]]) })
            XCTAssertEqual(files.flatMap(\.matrix.values), whole.matrix.values)
        }
        // An error names the same line whichever part finds it.
        let bad = folder.appendingPathComponent("bad.svm")
        try Data("1 1:1\n1 2:1\n1 3:1\n1 4:1\n1 6:1 5:1\n1 7:1\n".utf8).write(to: bad)
        for parts in [1, 2, 3, 5] {
            XCTAssertThrowsError(try readInParts(bad, parts)) { error in
                XCTAssertTrue("\(error)".contains("line 5: feature indices are not sorted"), "\(parts): \(error)")
            }
        }
        let beyond = folder.appendingPathComponent("wide.svm")
        try Data("1 1:1\n1 2:1\n1 3:1\n1 9:1\n".utf8).write(to: beyond)
        XCTAssertThrowsError(try readInParts(beyond, 3, features: 4)) { error in
            XCTAssertTrue("\(error)".contains("line 4: index 9"), "\(error)")
        }
    }

    private var sparseFixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("sparse")
    }

    func testNPZPartsTogetherAreTheWholeMatrix() throws {
        for name in ["digits_csr.npz", "text_int64.npz", "text_csc.npz", "good.npz"] {
            let url = sparseFixtures.appendingPathComponent(name)
            let whole = try SciPySparse.read(url)
            for parts in [1, 2, 3, 7, whole.rows + 5] {
                var rows = 0
                var (starts, indices, values) = ([0], [Int32](), [Float]())
                for part in 0..<parts {
                    let (matrix, firstRow, total) = try SciPySparse.read(url, part: part, of: parts)
                    XCTAssertEqual(firstRow, rows, "\(name) part \(part) of \(parts)")
                    XCTAssertEqual(total, whole.rows)
                    XCTAssertEqual(matrix.columns, whole.columns)
                    starts += matrix.rowStarts.dropFirst().map { $0 + indices.count }
                    indices += matrix.columnIndices
                    values += matrix.values
                    rows += matrix.rows
                }
                XCTAssertEqual(rows, whole.rows, "\(name) in \(parts)")
                XCTAssertEqual(starts, whole.rowStarts, "\(name) in \(parts)")
                XCTAssertEqual(indices, whole.columnIndices, "\(name) in \(parts)")
                XCTAssertEqual(values, whole.values, "\(name) in \(parts)")
            }
        }
        // Parts hold about the same number of non-zeros (within the longest row).
        let digits = try SciPySparse.read(sparseFixtures.appendingPathComponent("digits_csr.npz"))
        let longest = (0..<digits.rows).map { digits.rowStarts[$0 + 1] - digits.rowStarts[$0] }.max()!
        for part in 0..<3 {
            let range = SciPySparse.rowRange(part: part, of: 3, indptr: digits.rowStarts)
            let count = digits.rowStarts[range.upperBound] - digits.rowStarts[range.lowerBound]
            XCTAssertLessThanOrEqual(abs(count - digits.nonZeroCount / 3), longest)
        }
    }

    func testNPZPartErrorsNameTheFilesRowsAndArrays() throws {
        // Each bad file fails in some part, with the whole read's message.
        for name in ["bad_unsorted.npz", "bad_index_range.npz", "bad_duplicate.npz", "bad_indptr_decreasing.npz",
                     "bad_indptr_end.npz", "bad_nan.npz", "bad_missing.npz", "bad_truncated.npz"] {
            let url = sparseFixtures.appendingPathComponent(name)
            var wholeMessage = ""
            XCTAssertThrowsError(try SciPySparse.read(url)) { wholeMessage = "\($0)" }
            for parts in [1, 2, 3] {
                var messages = [String]()
                for part in 0..<parts {
                    do { _ = try SciPySparse.read(url, part: part, of: parts) } catch { messages.append("\(error)") }
                }
                XCTAssertFalse(messages.isEmpty, "\(name) in \(parts) parts read without an error")
                XCTAssertTrue(messages.allSatisfy { $0 == wholeMessage }, "\(name) in \(parts): \(messages) vs \(wholeMessage)")
            }
        }
    }

    /// A `.npy` file of `descr` with `shape` around the raw little-endian `payload`.
    private func npy(_ descr: String, _ shape: String, _ payload: [UInt8]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let count = header.utf8.count
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(count & 0xFF), UInt8(count >> 8)] + Array(header.utf8) + payload)
    }

    private func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// A CSR `.npz` as save_npz writes it (stored entries), from its arrays.
    private func writeNPZ(_ url: URL, rows: Int, columns: Int, indptr: [Int32], indices: [Int32], data: [Float]) throws {
        try? FileManager.default.removeItem(at: url)
        let archive = try Archive(url: url, accessMode: .create)
        let utf32 = Array("csr".unicodeScalars).flatMap { bytes([$0.value.littleEndian]) }
        let arrays: [(String, Data)] = [
            ("indices", npy("<i4", "(\(indices.count),)", bytes(indices))),
            ("indptr", npy("<i4", "(\(indptr.count),)", bytes(indptr))),
            ("format", npy("<U3", "()", utf32)),
            ("shape", npy("<i8", "(2,)", bytes([Int64(rows), Int64(columns)]))),
            ("data", npy("<f4", "(\(data.count),)", bytes(data))),
        ]
        for (name, payload) in arrays {
            try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(payload.count),
                                 compressionMethod: .none) { position, size in
                payload.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
    }

    func testNPZPartsOfAStoredFileNameBadRowsAsTheFileDoes() throws {
        // Six rows of two entries; row 4's indices unsorted. Stored (uncompressed) entries.
        let url = folder.appendingPathComponent("late.npz")
        var indices: [Int32] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
        try writeNPZ(url, rows: 6, columns: 8, indptr: [0, 2, 4, 6, 8, 10, 12], indices: indices,
                     data: (0..<12).map { Float($0) + 0.5 })
        let whole = try SciPySparse.read(url)
        for parts in [2, 3, 4] {
            let joined = try (0..<parts).flatMap { try SciPySparse.read(url, part: $0, of: parts).matrix.columnIndices }
            XCTAssertEqual(joined, whole.columnIndices)
        }
        indices[9] = 3
        try writeNPZ(url, rows: 6, columns: 8, indptr: [0, 2, 4, 6, 8, 10, 12], indices: indices,
                     data: (0..<12).map { Float($0) + 0.5 })
        XCTAssertThrowsError(try SciPySparse.read(url)) { error in
            XCTAssertTrue("\(error)".contains("row 4's column indices are not sorted"), "\(error)")
        }
        XCTAssertThrowsError(try SciPySparse.read(url, part: 2, of: 3)) { error in
            XCTAssertTrue("\(error)".contains("row 4's column indices are not sorted"), "\(error)")
        }
        XCTAssertNoThrow(try SciPySparse.read(url, part: 0, of: 3))
    }

    /// Reads a CSV in `parts` parts as ranks would, the line counts passed along by hand.
    private func csvInParts(_ url: URL, _ parts: Int, targetColumn: String? = nil) throws -> [Dataset] {
        var before = 0
        return try (0..<parts).map { part in
            try CSVLoader.readPart(url, part: part, of: parts, targetColumn: targetColumn) { lineFeeds in
                defer { before += lineFeeds }
                return before
            }
        }
    }

    func testCSVPartsTogetherAreTheWholeFile() throws {
        let text = "\u{FEFF}x1,\"x,2\",species\n1,2,setosa\n3.5,-1,virginica\r\n0,0,setosa\n2,\"7\",versicolor\n" +
            "9,9,virginica\n1,1,setosa\n\n"
        let url = folder.appendingPathComponent("iris.csv")
        try Data(text.utf8).write(to: url)
        let whole = try CSVLoader.load(url, targetColumn: nil)
        let names = { (d: Dataset) in d.targets.map { d.classNames![Int($0)] } }
        for parts in [1, 2, 3, 4, 8, 50] {
            let pieces = try csvInParts(url, parts)
            XCTAssertEqual(pieces.flatMap(\.features), whole.features, "\(parts) parts")
            XCTAssertEqual(pieces.flatMap(names), names(whole), "\(parts) parts")
            XCTAssertTrue(pieces.allSatisfy { $0.featureNames == whole.featureNames })
        }
        // A bad row, a blank line inside the file: the same row named in every split.
        let bad = folder.appendingPathComponent("bad.csv")
        for (body, expected) in [("1,2\n3,4\nx,5\n7,8\n", "row 4, column 'a': 'x' is not a number"),
                                 ("1,2\n3,4\n\n7,8\n", "row 4 has 1 fields, the header has 2")] {
            try Data(("a,y\n" + body).utf8).write(to: bad)
            XCTAssertThrowsError(try CSVLoader.load(bad, targetColumn: nil)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
            for parts in [1, 2, 3, 4] {
                XCTAssertThrowsError(try csvInParts(bad, parts)) { error in
                    XCTAssertTrue("\(error)".contains(expected), "\(parts): \(error)")
                }
            }
        }
    }
}

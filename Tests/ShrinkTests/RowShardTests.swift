import Foundation
@testable import Shrink
import XCTest

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
}

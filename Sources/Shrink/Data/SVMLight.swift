import Foundation

/// The svmlight / libsvm text format as scikit-learn's `load_svmlight_file` reads it: one row
/// per line, `label [qid:n] index:value index:value … [# comment]`. Blank and comment-only
/// lines are skipped; `qid:` is read and ignored (scikit-learn's default, query_id=False);
/// indices must be sorted and unique within a line. Every broken rule is one
/// `DataError.malformed` naming the file and the line.
public enum SVMLight {
    /// Whether indices count from 0 or from 1; `auto` decides as scikit-learn does: one-based
    /// unless some index is 0.
    public enum IndexBase: String, Sendable, CaseIterable {
        case auto
        case zero = "true"
        case one = "false"
    }

    public struct File: Sendable, Equatable {
        public var matrix: SparseMatrix
        /// The label of each row as written (numbers; class labels are mapped later, as
        /// `LabelEncoder` maps them).
        public var targets: [Float]
        /// Whether the file's indices were read as zero-based.
        public var zeroBased: Bool
    }

    public static func read(_ url: URL, indexBase: IndexBase = .auto, features: Int? = nil) throws -> File {
        try parse(terminated: try readTerminated(url), path: url.path, indexBase: indexBase, features: features)
    }

    /// Parses a whole file held in memory. `features` fixes the width (an index at or beyond it
    /// is an error); by default it is the largest index + 1.
    public static func parse(_ bytes: [UInt8], path: String, indexBase: IndexBase = .auto,
                             features: Int? = nil) throws -> File {
        var terminated = bytes
        terminated.append(0)
        return try parse(terminated: terminated, path: path, indexBase: indexBase, features: features)
    }

    /// The file's bytes followed by one 0 (strtod stops at it at the latest), read into one
    /// array: a large file is held once, not copied to add the terminator.
    private static func readTerminated(_ url: URL) throws -> [UInt8] {
        func unreadable(_ reason: String) -> DataError { .unreadable(path: url.path, reason: reason) }
        guard let file = fopen(url.path, "rb") else { throw unreadable(String(cString: strerror(errno))) }
        defer { fclose(file) }
        var info = stat()
        guard fstat(fileno(file), &info) == 0 else { throw unreadable(String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw unreadable("not a regular file") }
        let size = Int(info.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, initialized in
            let read = fread(buffer.baseAddress!, 1, size, file)
            if read != size { failure = ferror(file) != 0 ? String(cString: strerror(errno)) : "the file changed while read" }
            buffer[read] = 0
            initialized = read + 1
        }
        if let failure { throw unreadable(failure) }
        return bytes
    }

    /// `parse` over bytes whose last is the 0 terminator (not part of the text).
    private static func parse(terminated: [UInt8], path: String, indexBase: IndexBase,
                              features: Int?) throws -> File {
        let scan = try Scan(terminated: terminated, path: path, features: features, firstLine: 1)
        return try scan.file(path: path, indexBase: indexBase, features: features, whole: scan.summary)
    }

    /// One pass over lines (a whole file, or one part of it): the rows with their indices as
    /// written, and what the whole file's decisions need — the index base (`auto`: any index 0
    /// anywhere) and the width (the largest index anywhere) — before they are taken.
    struct Scan {
        var rowStarts = [0]
        var indices = [Int32]()  // as written (checked ≤ Int32.max); shifted by `file`
        var values = [Float]()
        var targets = [Float]()
        var firstZeroLine: Int?
        /// The first line with an index beyond `features`, counted from 0 and from 1 (the base
        /// may be decided only at the end): (line, index as written).
        var beyondZeroBased: (line: Int, index: Int)?, beyondOneBased: (line: Int, index: Int)?
        var summary = Summary()

        /// What the decisions need of each part, combined over parts with `merged`.
        struct Summary: Equatable {
            var rows = 0
            var smallest = Int.max
            var largest = -1

            func merged(_ other: Summary) -> Summary {
                Summary(rows: rows + other.rows, smallest: min(smallest, other.smallest), largest: max(largest, other.largest))
            }
        }

        /// Scans text ending in the 0 terminator; its first line is line `firstLine` of the file.
        init(terminated: [UInt8], path: String, features: Int?, firstLine: Int) throws {
            if let features, features < 1 {
                throw DataError.invalid("--n-features must be at least 1, got \(features)")
            }
            let count = terminated.count - 1
            try terminated.withUnsafeBufferPointer { text in
                var start = 0
                var line = firstLine - 1
                while start < count {
                    line += 1
                    var end = start
                    while end < count, text[end] != UInt8(ascii: "\n") { end += 1 }
                    var reader = LineReader(text: text, position: start, end: end, path: path, line: line)
                    if let label = try reader.label() {
                        targets.append(label)
                        try reader.features { index, value in
                            indices.append(Int32(index))
                            values.append(value)
                            summary.smallest = min(summary.smallest, index)
                            summary.largest = max(summary.largest, index)
                            if index == 0, firstZeroLine == nil { firstZeroLine = line }
                            if let features, index >= features {
                                if beyondZeroBased == nil { beyondZeroBased = (line, index) }
                                if index > features, beyondOneBased == nil { beyondOneBased = (line, index) }
                            }
                        }
                        rowStarts.append(indices.count)
                    }
                    start = end + 1
                }
            }
            summary.rows = targets.count
        }

        /// The rows as a `File`, with the decisions taken on `whole` (this scan's summary for a
        /// whole file, every part's merged for a part).
        func file(path: String, indexBase: IndexBase, features: Int?, whole: Summary) throws -> File {
            let zeroBased: Bool
            switch indexBase {
            case .zero: zeroBased = true
            case .one: zeroBased = false
            case .auto: zeroBased = whole.smallest == 0 || whole.largest < 0
            }
            if !zeroBased, let firstZeroLine {
                throw DataError.malformed(path: path, reason: "line \(firstZeroLine): index 0 in a one-based file " +
                                          "(--zero-based false); use --zero-based true or auto")
            }
            let shift = zeroBased ? 0 : 1
            if let features, let beyond = zeroBased ? beyondZeroBased : beyondOneBased {
                throw DataError.malformed(path: path, reason: "line \(beyond.line): index \(beyond.index) is feature " +
                                          "\(beyond.index - shift) (counting from 0), beyond --n-features \(features)")
            }
            let columns = features ?? max(whole.largest + 1 - shift, 1)
            guard columns <= Int(Int32.max) else {
                throw DataError.malformed(path: path, reason: "\(columns) features do not fit 32-bit indices")
            }
            guard whole.rows > 0 else { throw DataError.malformed(path: path, reason: "no rows (every line is blank or a comment)") }
            let matrix = try SparseMatrix(rows: targets.count, columns: columns, rowStarts: rowStarts,
                                          columnIndices: shift == 0 ? indices : indices.map { $0 - 1 }, values: values,
                                          describe: { DataError.malformed(path: path, reason: $0) })
            return File(matrix: matrix, targets: targets, zeroBased: zeroBased)
        }
    }

    /// One line's tokens, read in place.
    private struct LineReader {
        let text: UnsafeBufferPointer<UInt8>
        var position: Int
        var end: Int
        let path: String
        let line: Int

        init(text: UnsafeBufferPointer<UInt8>, position: Int, end: Int, path: String, line: Int) {
            self.text = text
            self.position = position
            // A comment runs to the end of the line; a CR before the line feed is a line end too.
            var stop = position
            while stop < end, text[stop] != UInt8(ascii: "#") { stop += 1 }
            self.end = stop
            self.path = path
            self.line = line
        }

        func fail(_ reason: String) -> DataError { .malformed(path: path, reason: "line \(line): \(reason)") }

        private func isSpace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
        }

        /// The next whitespace-separated token's range, or nil at the end of the line.
        private mutating func token() -> Range<Int>? {
            while position < end, isSpace(text[position]) { position += 1 }
            guard position < end else { return nil }
            let start = position
            while position < end, !isSpace(text[position]) { position += 1 }
            return start..<position
        }

        private func string(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: text[range]), as: UTF8.self)
        }

        /// A finite number filling exactly `range`.
        private func number(_ range: Range<Int>, _ what: String) throws -> Double {
            var stop: UnsafeMutablePointer<CChar>?
            let first = UnsafeMutableRawPointer(mutating: text.baseAddress! + range.lowerBound)
                .assumingMemoryBound(to: CChar.self)
            let value = strtod(first, &stop)
            guard let stop, stop == first + range.count, !range.isEmpty, value.isFinite,
                  !isSpace(text[range.lowerBound]) else {
                throw fail("\(what) '\(string(range))' is not a finite number")
            }
            return value
        }

        /// The row's label, or nil for a blank or comment-only line.
        mutating func label() throws -> Float? {
            guard let range = token() else { return nil }
            if text[range].contains(UInt8(ascii: ":")) { throw fail("the line starts with '\(string(range))', not a label") }
            if text[range].contains(UInt8(ascii: ",")) {
                throw fail("multi-label rows ('\(string(range))') are not supported: one label per row")
            }
            let label = Float(try number(range, "the label"))
            guard label.isFinite else {
                throw fail("the label '\(string(range))' does not fit a 32-bit float")
            }
            return label
        }

        /// Each `index:value` pair in order (a leading `qid:n` is skipped), indices as written.
        mutating func features(_ body: (Int, Float) -> Void) throws {
            var previous = -1
            var first = true
            while let range = token() {
                guard let colon = text[range].firstIndex(of: UInt8(ascii: ":")) else {
                    throw fail("'\(string(range))' is not index:value")
                }
                let key = range.lowerBound..<colon
                if first, string(key) == "qid" {
                    first = false
                    guard (colon + 1..<range.upperBound).allSatisfy({ (48...57).contains(text[$0]) }), colon + 1 < range.upperBound else {
                        throw fail("bad query id '\(string(range))'")
                    }
                    continue
                }
                first = false
                guard !key.isEmpty, key.count <= 10, key.allSatisfy({ (48...57).contains(text[$0]) }),
                      let index = Int(string(key)), index <= Int(Int32.max) else {
                    throw fail("bad feature index '\(string(key))' in '\(string(range))' (a whole number ≥ 0)")
                }
                guard index > previous else {
                    throw fail(index == previous ? "feature index \(index) appears twice"
                               : "feature indices are not sorted (\(previous) before \(index))")
                }
                previous = index
                let value = try number(colon + 1..<range.upperBound, "the value of feature \(index)")
                let single = Float(value)
                guard single.isFinite else { throw fail("the value of feature \(index) does not fit a 32-bit float") }
                body(index, single)
            }
        }
    }
}

extension SVMLight {
    /// One part of an svmlight file — one MPI rank's rows: the lines that start in its
    /// line-aligned byte range (`RowShards.lineRange`); only those bytes are read. The file's
    /// decisions span the parts (the lines before a part number its errors; `auto` looks for an
    /// index 0 anywhere; the width is the largest index anywhere), so a part is read in three
    /// steps, each taking what the others found: `init` (the bytes and their line count),
    /// `scan(firstLine:)`, `file(whole:)`. `SVMLight.read(_:communicator:…)` runs the steps with
    /// the job's collectives (one part per rank); the parts in order equal `read(_:)`'s rows, errors included.
    public struct Part {
        let path: String
        let terminated: [UInt8]
        /// Line feeds in this part's bytes: the lines the next parts start after.
        public let lineFeeds: Int

        public init(_ url: URL, part: Int, of parts: Int) throws {
            path = url.path
            let range = try RowShards.lineRange(url, part: part, of: parts)
            var bytes = try RowShards.readBytes(url, range)
            lineFeeds = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            bytes.append(0)
            terminated = bytes
        }

        /// Scans the part; `firstLine` is its first line's number in the file (1 + the line
        /// feeds of the parts before).
        func scan(firstLine: Int, features: Int?) throws -> Scan {
            try Scan(terminated: terminated, path: path, features: features, firstLine: firstLine)
        }
    }
}

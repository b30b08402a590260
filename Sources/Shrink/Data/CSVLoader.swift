import Foundation

/// CSV with a header row. The target is `targetColumn` (default: the last column); every other
/// column is a numeric feature, named by its header (`Dataset.featureNames`). The target column
/// holds numbers, or text labels (`setosa`, `yes`, ...): then the targets are class indices into
/// the sorted distinct labels (`Dataset.classNames`, scikit-learn's `LabelEncoder` order).
/// Every column needs a distinct, non-empty name (an unnamed first column is usually a pandas
/// index: write the CSV with `index=False`). Quoted fields, `\r\n` and a trailing newline are
/// accepted.
public enum CSVLoader {
    public static func load(_ url: URL, targetColumn: String?) throws -> Dataset {
        let bytes = try NPY.readBytes(url)
        return try parse(String(decoding: bytes, as: UTF8.self), path: url.path, targetColumn: targetColumn)
    }

    /// Loads the columns a model needs: `features` by name (in that order; other columns are
    /// ignored), or every column but the target when nil. The target is `targetColumn`; with
    /// `targetRequired` false and no such column the targets are 0 and `hasTargets` false.
    public static func load(_ url: URL, features: [String]?, targetColumn: String?,
                            targetRequired: Bool) throws -> (data: Dataset, hasTargets: Bool) {
        let bytes = try NPY.readBytes(url)
        return try parse(String(decoding: bytes, as: UTF8.self), path: url.path, features: features,
                         targetColumn: targetColumn, targetRequired: targetRequired)
    }

    public static func parse(_ text: String, path: String, targetColumn: String?) throws -> Dataset {
        try parse(text, path: path, features: nil, targetColumn: targetColumn, targetRequired: true).data
    }

    /// `firstRow` numbers the first data line in errors (2: the line after the header; a part
    /// of a file starts later); a `part` may hold no data rows, and an `innerPart` (not the
    /// file's last) keeps its trailing blank lines (`textLines`).
    static func parse(_ text: String, path: String, features wanted: [String]?, targetColumn: String?,
                      targetRequired: Bool, firstRow: Int = 2, part: Bool = false,
                      innerPart: Bool = false, labelsAsText: Bool = false) throws -> (data: Dataset, hasTargets: Bool) {
        let fail = { (reason: String) in DataError.malformed(path: path, reason: reason) }
        let lines = textLines(text, innerPart: innerPart)
        guard let headerLine = lines.first else { throw fail("empty CSV file") }
        let header = try checkedHeader(headerLine, fail: fail)
        let (featureIndices, target) = try columns(of: header, features: wanted, targetColumn: targetColumn,
                                                   targetRequired: targetRequired, fail: fail)
        guard lines.count > 1 || part else { throw fail("no data rows after the header") }
        let (features, labels) = try readRows(lines.dropFirst(), header: header, features: featureIndices,
                                              target: target, firstRow: firstRow, fail: fail)
        var dataset = try dataset(features: features, labels: target == nil ? nil : labels, asText: labelsAsText,
                                  rows: lines.count - 1,
                                  columns: featureIndices.count)
        dataset.featureNames = featureIndices.map { header[$0] }
        if let target { dataset.targetName = header[target] }
        return (dataset, target != nil)
    }

    /// The text's lines without line ends, a leading byte-order mark (Excel's UTF-8) or trailing
    /// blank lines (`innerPart`: a part that the file continues after keeps its blank lines but
    /// the empty one after its last line feed, as the whole file's read would).
    private static func textLines(_ text: String, innerPart: Bool = false) -> [Substring] {
        let text = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : Substring(text)
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        if innerPart {
            if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
            return lines
        }
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        return lines
    }

    /// The header's names: each present and once.
    private static func checkedHeader(_ line: Substring, fail: (String) -> DataError) throws -> [String] {
        let header = fields(line).map { $0.trimmingCharacters(in: .whitespaces) }
        if let empty = header.firstIndex(of: "") {
            throw fail("column \(empty + 1) has no name in the header" +
                       (empty == 0 ? " (a pandas index? write the CSV with index=False)" : "") +
                       "; every column needs a name")
        }
        var seen = Set<String>()
        if let duplicate = header.first(where: { !seen.insert($0).inserted }) {
            throw fail("the header names the column '\(duplicate)' twice")
        }
        return header
    }

    /// Which columns are features (`wanted` by name, else all but the target) and which is the
    /// target (`targetColumn`, else the last when targets are required and no features named).
    private static func columns(of header: [String], features wanted: [String]?, targetColumn: String?,
                                targetRequired: Bool, fail: (String) -> DataError) throws -> ([Int], Int?) {
        var target: Int?
        if let targetColumn {
            if let index = header.firstIndex(of: targetColumn) {
                target = index
            } else if targetRequired || wanted == nil {
                throw fail("no column '\(targetColumn)' (columns: \(header.joined(separator: ", ")))")
            }
        } else if wanted == nil, targetRequired {
            target = header.count - 1
        }
        let featureIndices: [Int]
        if let wanted {
            let missing = wanted.filter { !header.contains($0) }
            guard missing.isEmpty else {
                throw fail("no column\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0)'" }.joined(separator: ", ")) " +
                           "(the model's features; the file has: \(header.joined(separator: ", ")))")
            }
            featureIndices = wanted.map { header.firstIndex(of: $0)! }
            if let target, featureIndices.contains(target) {
                throw fail("the target column '\(header[target])' is also one of the model's features")
            }
        } else {
            featureIndices = header.indices.filter { $0 != target }
        }
        guard !featureIndices.isEmpty else { throw fail("the header has \(header.count) column; need features and a target") }
        return (featureIndices, target)
    }

    /// The feature values (row-major) and the target cells as written.
    private static func readRows(_ lines: ArraySlice<Substring>, header: [String], features featureIndices: [Int],
                                 target: Int?, firstRow: Int, fail: (String) -> DataError) throws -> ([Float], [String]) {
        var features = [Float]()
        var labels = [String]()
        features.reserveCapacity(lines.count * featureIndices.count)
        labels.reserveCapacity(lines.count)
        for (offset, line) in lines.enumerated() {
            let row = offset + firstRow  // 1-based, counting the header
            let cells = fields(line)
            guard cells.count == header.count else {
                throw fail("row \(row) has \(cells.count) fields, the header has \(header.count)")
            }
            for c in featureIndices {
                let trimmed = cells[c].trimmingCharacters(in: .whitespaces)
                guard let value = Float(trimmed) else {
                    throw fail("row \(row), column '\(header[c])': '\(trimmed)' is not a number")
                }
                features.append(value)
            }
            if let target {
                let trimmed = cells[target].trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else { throw fail("row \(row), column '\(header[target])': the target is empty") }
                labels.append(trimmed)
            }
        }
        return (features, labels)
    }

    /// The data set: numeric targets as numbers, text labels as LabelEncoder's sorted classes
    /// (their names kept), no targets as zeros.
    private static func dataset(features: [Float], labels: [String]?, asText: Bool = false, rows: Int,
                                columns: Int) throws -> Dataset {
        guard let labels else {
            return try Dataset(features: features, targets: [Float](repeating: 0, count: rows), rows: rows, columns: columns)
        }
        let numbers = labels.compactMap { Float($0) }
        if numbers.count == labels.count, !asText {
            return try Dataset(features: features, targets: numbers, rows: rows, columns: columns)
        }
        let classes = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Float($0)) })
        var dataset = try Dataset(features: features, targets: labels.map { index[$0]! }, rows: rows, columns: columns)
        dataset.classNames = classes
        return dataset
    }

    /// A field as CSV writes it: quoted when it holds a comma, a quote or a line break.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Splits one line on commas outside double quotes; "" inside quotes is a quote.
    static func fields<S: StringProtocol>(_ line: S) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        var previous: Character?
        for ch in line {
            if ch == "\"" {
                if quoted, previous == "\"" { current.append("\"") }
                quoted.toggle()
            } else if ch == ",", !quoted {
                result.append(current)
                current = ""
            } else {
                current.append(ch)
            }
            previous = ch
        }
        result.append(current)
        return result
    }

    /// Part `part` of `parts` of a CSV file's rows — one MPI rank's: the header and the data
    /// lines that start in the part's line-aligned byte range (`RowShards.lineRange` after the
    /// header), only those bytes read. `linesBefore(lineFeeds)` gives the data lines of the parts
    /// before (a collective under MPI), so that errors name the file's rows. The labels are
    /// kept as text, numbers too (`classNames`, this part's, sorted): whether the file's labels
    /// are numbers is decided over every part, and a job maps them to the union of every part's.
    public static func readPart(_ url: URL, part: Int, of parts: Int, targetColumn: String?,
                                linesBefore: (_ lineFeeds: Int) throws -> Int) throws -> Dataset {
        let bodyStart = try RowShards.firstLineEnd(url)
        let header = try RowShards.readBytes(url, 0..<bodyStart)
        let body = try RowShards.readBytes(url, try RowShards.lineRange(url, part: part, of: parts, bodyStart: bodyStart))
        let before = try linesBefore(body.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) })
        var text = String(decoding: header, as: UTF8.self)
        if !text.hasSuffix("\n") { text += "\n" }
        text += String(decoding: body, as: UTF8.self)
        return try parse(text, path: url.path, features: nil, targetColumn: targetColumn, targetRequired: true,
                         firstRow: 2 + before, part: true, innerPart: part < parts - 1, labelsAsText: true).data
    }
}

import Foundation

/// Numeric CSV with a header row. The target is `targetColumn` (default: the last column);
/// every other column is a feature. Quoted fields, `\r\n` and a trailing newline are accepted.
public enum CSVLoader {
    public static func load(_ url: URL, targetColumn: String?) throws -> Dataset {
        let bytes = try NPY.readBytes(url)
        return try parse(String(decoding: bytes, as: UTF8.self), path: url.path, targetColumn: targetColumn)
    }

    public static func parse(_ text: String, path: String, targetColumn: String?) throws -> Dataset {
        func fail(_ reason: String) -> DataError { .malformed(path: path, reason: reason) }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let headerLine = lines.first else { throw fail("empty CSV file") }
        let header = fields(headerLine).map { $0.trimmingCharacters(in: .whitespaces) }
        guard header.count >= 2 else { throw fail("the header has \(header.count) column; need features and a target") }
        let target: Int
        if let targetColumn {
            guard let index = header.firstIndex(of: targetColumn) else {
                throw fail("no column '\(targetColumn)' (columns: \(header.joined(separator: ", ")))")
            }
            target = index
        } else {
            target = header.count - 1
        }
        guard lines.count > 1 else { throw fail("no data rows after the header") }
        var features = [Float]()
        var targets = [Float]()
        features.reserveCapacity((lines.count - 1) * (header.count - 1))
        for (offset, line) in lines.dropFirst().enumerated() {
            let row = offset + 2  // 1-based, counting the header
            let cells = fields(line)
            guard cells.count == header.count else {
                throw fail("row \(row) has \(cells.count) fields, the header has \(header.count)")
            }
            for (c, cell) in cells.enumerated() {
                let trimmed = cell.trimmingCharacters(in: .whitespaces)
                guard let value = Float(trimmed) else {
                    throw fail("row \(row), column '\(header[c])': '\(trimmed)' is not a number")
                }
                if c == target { targets.append(value) } else { features.append(value) }
            }
        }
        return try Dataset(features: features, targets: targets, rows: targets.count, columns: header.count - 1)
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
}

import Foundation

/// How the rows of one data file are split among the parts (MPI ranks) of a job, each part
/// reading only its own: `.npy` by row range (`NPY.readRows`), text formats (CSV, svmlight) by
/// byte range aligned to line starts. Every row lands in exactly one part, parts in file
/// order, so concatenating parts 0..<n gives the file.
public enum RowShards {
    /// Part k of `count` items split as evenly as can be: [count·k/parts, count·(k+1)/parts).
    /// Sizes differ by at most one; with more parts than items some parts are empty.
    public static func evenRange(part: Int, of parts: Int, count: Int) -> Range<Int> {
        precondition(parts > 0 && part >= 0 && part < parts && count >= 0)
        return (count * part / parts)..<(count * (part + 1) / parts)
    }

    /// Part k's byte range of a text file: the lines that start in [b_k, b_{k+1}), where b_k =
    /// s + (size − s)·k/parts and s is `bodyStart` (after a CSV header). A range boundary
    /// inside a line moves to the next line start.
    public static func lineRange(_ url: URL, part: Int, of parts: Int, bodyStart: Int = 0) throws -> Range<Int> {
        let file = try openFile(url)
        defer { try? file.close() }
        let size = try reading(url) { Int(try file.seekToEnd()) }
        precondition(bodyStart >= 0 && bodyStart <= size)
        let raw = evenRange(part: part, of: parts, count: size - bodyStart)
        let start = try lineStart(file, url, atOrAfter: bodyStart + raw.lowerBound, bodyStart: bodyStart, size: size)
        let end = try lineStart(file, url, atOrAfter: bodyStart + raw.upperBound, bodyStart: bodyStart, size: size)
        return start..<max(start, end)
    }

    /// The end of a text file's first line (just after its line feed; the file's size when it
    /// has none): where a CSV's rows start.
    public static func firstLineEnd(_ url: URL) throws -> Int {
        let file = try openFile(url)
        defer { try? file.close() }
        let size = try reading(url) { Int(try file.seekToEnd()) }
        return try lineStart(file, url, atOrAfter: 1, bodyStart: 0, size: size)
    }

    /// `range` of a file's bytes.
    public static func readBytes(_ url: URL, _ range: Range<Int>) throws -> [UInt8] {
        let file = try openFile(url)
        defer { try? file.close() }
        return try reading(url) {
            try file.seek(toOffset: UInt64(range.lowerBound))
            let bytes = [UInt8](try file.read(upToCount: range.count) ?? Data())
            guard bytes.count == range.count else {
                throw DataError.unreadable(path: url.path, reason: "the file changed while read")
            }
            return bytes
        }
    }

    /// The first line start at or after `offset`: `offset` itself when it is the body's start,
    /// the file's end, or just after a line feed; else just after the next line feed.
    private static func lineStart(_ file: FileHandle, _ url: URL, atOrAfter offset: Int, bodyStart: Int,
                                  size: Int) throws -> Int {
        if offset <= bodyStart { return bodyStart }
        if offset >= size { return size }
        return try reading(url) {
            var position = offset - 1
            try file.seek(toOffset: UInt64(position))
            while position < size {
                let chunk = [UInt8](try file.read(upToCount: 1 << 16) ?? Data())
                guard !chunk.isEmpty else { break }
                if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) { return position + newline + 1 }
                position += chunk.count
            }
            return size
        }
    }

    private static func openFile(_ url: URL) throws -> FileHandle {
        guard let file = FileHandle(forReadingAtPath: url.path) else {
            _ = try NPY.readBytes(url)  // the one-line "cannot read" error with its reason
            throw DataError.unreadable(path: url.path, reason: "not readable")
        }
        return file
    }

    /// `body`'s I/O errors as one `DataError.unreadable` line naming the file.
    private static func reading<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DataError { throw error } catch {
            throw DataError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }
}

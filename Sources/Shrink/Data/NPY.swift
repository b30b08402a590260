import Foundation

/// An array read from a `.npy` file, converted to Float.
public struct NPYArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// NumPy's `.npy` format, versions 1–3: little-endian float32/float64/int32/int64, uint8 and
/// bool, C order. Every rule violation is a one-line `DataError.malformed` naming the file.
public enum NPY {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func read(_ url: URL) throws -> NPYArray {
        let bytes = try readBytes(url)
        return try parse(bytes, path: url.path)
    }

    static func readBytes(_ url: URL) throws -> [UInt8] {
        do { return [UInt8](try Data(contentsOf: url)) } catch {
            throw DataError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Parses a whole `.npy` file held in memory.
    public static func parse(_ bytes: [UInt8], path: String) throws -> NPYArray {
        let layout = try layout(bytes, path: path)
        let values = try bytes.withUnsafeBytes {
            try decode(UnsafeRawBufferPointer(rebasing: $0[layout.dataStart...]), count: layout.count, layout.descr, path: path)
        }
        return NPYArray(shape: layout.shape, values: values)
    }

    /// Rows `rows` of a `.npy` array (along its first axis), read by seeking: the rest of the
    /// file is never loaded. The shape's first entry is the count of rows read; the header and
    /// the file's size are checked as `read` checks them. `total` is the file's row count.
    public static func readRows(_ url: URL, _ rows: Range<Int>) throws -> (array: NPYArray, total: Int) {
        func unreadable(_ reason: String) -> DataError { .unreadable(path: url.path, reason: reason) }
        guard let file = FileHandle(forReadingAtPath: url.path) else { _ = try readBytes(url); throw unreadable("not readable") }
        defer { try? file.close() }
        do {
            let size = Int(try file.seekToEnd())
            try file.seek(toOffset: 0)
            let prefix = [UInt8](try file.read(upToCount: min(size, 1 << 16)) ?? Data())
            let layout = try layout(prefix, fileSize: size, path: url.path)
            guard let total = layout.shape.first else {
                throw DataError.malformed(path: url.path, reason: "a 0-d array has no rows")
            }
            guard rows.lowerBound >= 0, rows.upperBound <= total else {
                throw DataError.invalid("\(url.path): rows \(rows) outside the file's \(total)")
            }
            let rowCount = total > 0 ? layout.count / total : 0
            try file.seek(toOffset: UInt64(layout.dataStart + rows.lowerBound * rowCount * layout.width))
            let byteCount = rows.count * rowCount * layout.width
            let bytes = [UInt8](try file.read(upToCount: byteCount) ?? Data())
            guard bytes.count == byteCount else { throw unreadable("the file changed while read") }
            let values = try bytes.withUnsafeBytes {
                try decode($0, count: rows.count * rowCount, layout.descr, path: url.path)
            }
            return (NPYArray(shape: [rows.count] + layout.shape.dropFirst(), values: values), total)
        } catch let error as DataError {
            throw error
        } catch {
            throw unreadable((error as NSError).localizedDescription)
        }
    }

    /// `count` elements of type `descr` from `raw`, as Float.
    static func decode(_ raw: UnsafeRawBufferPointer, count: Int, _ descr: String, path: String) throws -> [Float] {
        if descr == "<f4" {  // the common case, copied as it is (this loader only runs on little-endian hosts)
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 4)]))
                initialized = count
            }
        }
        let convert = try decoder(for: descr, path: path)
        let width = try itemWidth(descr, path: path)
        return (0..<count).map { convert(UnsafeRawBufferPointer(rebasing: raw[($0 * width)...])) }
    }

    /// An integer array exactly (int32, int64, or unsigned 8/32/64-bit that fit an Int): index
    /// arrays, which a Float would round above 2²⁴.
    static func parseIntegers(_ bytes: [UInt8], path: String) throws -> (shape: [Int], values: [Int]) {
        let layout = try layout(bytes, path: path)
        let values = try bytes.withUnsafeBytes {
            try decodeIntegers(UnsafeRawBufferPointer(rebasing: $0[layout.dataStart...]), count: layout.count,
                               layout.descr, path: path)
        }
        return (layout.shape, values)
    }

    /// `count` integers of type `descr` from `raw`, exactly; element i's error names i + `first`.
    static func decodeIntegers(_ raw: UnsafeRawBufferPointer, count: Int, _ descr: String, path: String,
                               first: Int = 0) throws -> [Int] {
        let read: (UnsafeRawBufferPointer) -> Int?
        switch descr {
        case "<i4": read = { Int(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) }
        case "<i8": read = { Int(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }
        case "<u4": read = { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        case "<u8": read = { Int(exactly: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        case "|u1", "<u1": read = { Int($0[0]) }
        default:
            throw DataError.malformed(path: path, reason: "dtype \(descr) is not an integer type (expected <i4 or <i8)")
        }
        let width = try itemWidth(descr, path: path)
        var values = [Int]()
        values.reserveCapacity(count)
        for i in 0..<count {
            guard let value = read(UnsafeRawBufferPointer(rebasing: raw[(i * width)...])) else {
                throw DataError.malformed(path: path, reason: "element \(i + first) does not fit a 64-bit integer")
            }
            values.append(value)
        }
        return values
    }

    /// A 0-d (or 1-element) byte-string or Unicode array (`|S3`, `<U3`) as text, NULs dropped.
    static func parseText(_ bytes: [UInt8], path: String) throws -> String {
        let layout = try layout(bytes, path: path)
        guard layout.count == 1 else {
            throw DataError.malformed(path: path, reason: "expected one string, got shape \(layout.shape)")
        }
        let item = bytes[layout.dataStart..<(layout.dataStart + layout.width)]
        if layout.descr.hasPrefix("|S") {
            return String(decoding: item.prefix { $0 != 0 }, as: UTF8.self)
        }
        guard layout.descr.hasPrefix("<U") else {
            throw DataError.malformed(path: path, reason: "dtype \(layout.descr) is not a string type (expected |S or <U)")
        }
        var text = ""
        for start in stride(from: item.startIndex, to: item.endIndex, by: 4) {
            let code = (0..<4).reduce(UInt32(0)) { $0 | UInt32(item[start + $1]) << (8 * UInt32($1)) }
            guard code != 0 else { break }
            guard let scalar = Unicode.Scalar(code) else {
                throw DataError.malformed(path: path, reason: "bad UTF-32 code point \(code)")
            }
            text.unicodeScalars.append(scalar)
        }
        return text
    }

    /// Where a `.npy` file's elements are: every header rule and the data's size checked.
    struct Layout {
        var descr: String
        var shape: [Int]
        var count: Int
        var width: Int
        var dataStart: Int
    }

    /// Where the header ends (the data's first byte) from a file's first 12 bytes, or nil when
    /// they are not a `.npy` preamble (the full check is `layout`'s).
    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { return nil }
        switch bytes[6] {
        case 1: return 10 + (Int(bytes[8]) | Int(bytes[9]) << 8)
        case 2, 3: return bytes.count >= 12 ? 12 + (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) } : nil
        default: return nil
        }
    }

    /// `bytes` holds the whole file, or (with `fileSize`) at least its header.
    static func layout(_ bytes: [UInt8], fileSize: Int? = nil, path: String) throws -> Layout {
        func fail(_ reason: String) -> DataError { .malformed(path: path, reason: reason) }
        let fileSize = fileSize ?? bytes.count
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (bad magic)") }
        let major = bytes[6]
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            headerStart = 12
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        default:
            throw fail("unsupported .npy version \(major)")
        }
        guard headerLength <= bytes.count - headerStart else { throw fail("truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let descr = try field("descr", in: header, path: path)
        let fortran = try field("fortran_order", in: header, path: path)
        let shapeText = try field("shape", in: header, path: path)
        guard fortran == "False" else {
            throw fail(fortran == "True" ? "Fortran-order arrays are not supported (save with C order)" : "bad fortran_order \(fortran)")
        }
        let shape = try parseShape(shapeText, path: path)
        let count = try shape.reduce(1) { product, d in
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("shape \(shapeText) overflows") }
            return p
        }
        let dataStart = headerStart + headerLength
        let width = try itemWidth(descr, path: path)
        let (needed, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, needed <= fileSize - dataStart else {
            throw fail("truncated data: shape \(shape) of \(descr) needs \(count) × \(width) bytes, the file has \(fileSize - dataStart)")
        }
        guard needed == fileSize - dataStart else {
            throw fail("\(fileSize - dataStart - needed) trailing bytes after the data")
        }
        return Layout(descr: descr, shape: shape, count: count, width: width, dataStart: dataStart)
    }

    /// Bytes per element of a supported dtype.
    static func itemWidth(_ descr: String, path: String) throws -> Int {
        switch descr {
        case "<f4", "<i4", "<u4": return 4
        case "<f8", "<i8", "<u8": return 8
        case "|u1", "<u1", "|b1": return 1
        default:
            if descr.hasPrefix("|S"), let n = Int(descr.dropFirst(2)), n > 0, n <= 1 << 20 { return n }
            if descr.hasPrefix("<U"), let n = Int(descr.dropFirst(2)), n > 0, n <= 1 << 20 { return 4 * n }
            throw DataError.malformed(path: path, reason: "unsupported dtype \(descr) (expected <f4, <f8, <i4, <i8, |u1 or |b1)")
        }
    }

    /// The text of `'key': value` in the header dict (value up to the next top-level comma).
    private static func field(_ key: String, in header: String, path: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
              let colon = header[keyRange.upperBound...].firstIndex(of: ":") else {
            throw DataError.malformed(path: path, reason: "the .npy header has no '\(key)'")
        }
        var depth = 0
        var value = ""
        for ch in header[header.index(after: colon)...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if (ch == "," && depth == 0) || ch == "}" { break }
            value.append(ch)
            if depth < 0 { break }
        }
        return value.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }

    private static func parseShape(_ text: String, path: String) throws -> [Int] {
        let inner = text.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        let parts = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = parts.compactMap { Int($0) }
        guard shape.count == parts.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw DataError.malformed(path: path, reason: "bad shape \(text)")
        }
        return shape
    }

    private static func decoder(for descr: String, path: String) throws -> (UnsafeRawBufferPointer) -> Float {
        switch descr {
        case "<f4": return { Float(bitPattern: $0.loadUnaligned(as: UInt32.self).littleEndian) }
        case "<f8": return { Float(Double(bitPattern: $0.loadUnaligned(as: UInt64.self).littleEndian)) }
        case "<i4": return { Float(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) }
        case "<i8": return { Float(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }
        case "|u1", "<u1": return { Float($0[0]) }
        case "|b1": return { $0[0] != 0 ? 1 : 0 }
        default:
            throw DataError.malformed(path: path, reason: "unsupported dtype \(descr) (expected <f4, <f8, <i4, <i8, |u1 or |b1)")
        }
    }

    /// Writes a float32 C-order `.npy` (version 1).
    public static func write(_ array: NPYArray, to url: URL) throws {
        let shape = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes = magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        for v in array.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        try Data(bytes).write(to: url, options: .atomic)
    }
}

import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes
/// of UTF-8 JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__"?}`,
/// then the tensor bytes. Shrink reads and writes F32 only.
///
/// The reader checks every rule and gives each its own one-line error: it never traps and
/// never allocates more than the file's size. The writer is atomic: a temporary file in the
/// same folder, fsync, rename over the target, fsync of the folder.
public enum SafeTensors {
    /// Headers above this size are rejected (safetensors' own limit is 100 MB).
    public static let maximumHeaderLength = 100_000_000

    public static func read(_ url: URL) throws -> [String: Tensor] {
        try parse(try NPY.readBytes(url), path: url.path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> [String: Tensor] {
        try parseFile(bytes, path: path).tensors
    }

    /// The `__metadata__` map of a file (empty when absent); the file is validated first.
    public static func metadata(_ bytes: [UInt8], path: String) throws -> [String: String] {
        try parseFile(bytes, path: path).metadata
    }

    /// The tensors and the `__metadata__` map (empty when absent) of a whole file, every rule checked.
    public static func parseFile(_ bytes: [UInt8], path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ reason: String) -> DataError { .malformed(path: path, reason: "invalid safetensors: " + reason) }
        let (object, dataStart) = try header(bytes, path: path, fail)
        let dataLength = bytes.count - dataStart
        var entries = try object.filter { $0.key != "__metadata__" }.map { try entry($0.key, $0.value, dataLength: dataLength, fail) }
        let metadata = object["__metadata__"]
        if let metadata, !(metadata is [String: String]) { throw fail("__metadata__ must map strings to strings") }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for e in entries {
            if e.begin < position { throw fail("'\(e.name)' overlaps the tensor before it") }
            if e.begin > position { throw fail("a hole of \(e.begin - position) bytes before '\(e.name)'") }
            position = e.end
        }
        guard position == dataLength else { throw fail("\(dataLength - position) trailing bytes after the last tensor") }
        var tensors: [String: Tensor] = [:]
        for e in entries {
            let values = bytes.withUnsafeBytes { raw in
                stride(from: dataStart + e.begin, to: dataStart + e.end, by: 4).map {
                    Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0, as: UInt32.self).littleEndian)
                }
            }
            tensors[e.name] = Tensor(shape: e.shape, values: values)
        }
        return (tensors, metadata as? [String: String] ?? [:])
    }

    /// The header's JSON object (top-level keys unique) and where the tensor bytes start.
    private static func header(_ bytes: [UInt8], path: String,
                               _ fail: (String) -> DataError) throws -> (object: [String: Any], dataStart: Int) {
        guard bytes.count >= 8 else { throw fail("the file has \(bytes.count) bytes, under the 8-byte header length") }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        // torch.save writes a ZIP of pickles (PK\3\4), or before PyTorch 1.6 a bare pickle (0x80, protocol).
        if length > UInt64(bytes.count - 8),
           bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || (bytes[0] == 0x80 && (2...5).contains(bytes[1])) {
            throw DataError.malformed(path: path, reason: "this is a PyTorch torch.save file (pickle), not safetensors: " +
                                      "save it with safetensors.torch.save_file(model.state_dict(), \"model.safetensors\")")
        }
        guard length <= UInt64(maximumHeaderLength) else { throw fail("header length \(length) exceeds \(maximumHeaderLength)") }
        guard length <= UInt64(bytes.count - 8) else { throw fail("header length \(length) runs past the end of the file") }
        let headerBytes = Array(bytes[8..<(8 + Int(length))])
        guard let headerText = String(validating: headerBytes, as: UTF8.self) else { throw fail("the header is not UTF-8") }
        if let duplicate = firstDuplicate(try topLevelKeys(headerText, fail)) { throw fail("duplicate key '\(duplicate)'") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(headerBytes)) } catch { throw fail("the header is not JSON") }
        guard let object = json as? [String: Any] else { throw fail("the header is not a JSON object") }
        return (object, 8 + Int(length))
    }

    /// One tensor's header entry: F32, a non-negative shape whose size fits its byte range,
    /// the range inside the data.
    private static func entry(_ name: String, _ value: Any, dataLength: Int,
                              _ fail: (String) -> DataError) throws -> (name: String, shape: [Int], begin: Int, end: Int) {
        guard let entry = value as? [String: Any] else { throw fail("'\(name)' is not an object") }
        guard let dtype = entry["dtype"] as? String else { throw fail("'\(name)' has no dtype") }
        guard dtype == "F32" else { throw fail("'\(name)' has dtype \(dtype); only F32 is supported") }
        guard let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
              shape.count == (entry["shape"] as? [Any])?.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw fail("'\(name)' has a bad shape")
        }
        guard let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
              offsets.count == 2 else { throw fail("'\(name)' has bad data_offsets") }
        guard offsets[0] >= 0, offsets[0] <= offsets[1] else { throw fail("'\(name)' has data_offsets \(offsets) out of order") }
        guard offsets[1] <= dataLength else { throw fail("'\(name)' ends at \(offsets[1]), past the \(dataLength) data bytes") }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("'\(name)' has a shape \(shape) whose size overflows") }
            count = product
        }
        let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow, bytesNeeded == offsets[1] - offsets[0] else {
            throw fail("'\(name)' has \(offsets[1] - offsets[0]) bytes, shape \(shape) of F32 needs \(count * 4)")
        }
        return (name, shape, offsets[0], offsets[1])
    }

    /// The serialized file: tensors laid out in name order, header padded with spaces to 8 bytes.
    public static func serialize(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil) throws -> [UInt8] {
        let sorted = tensors.sorted { $0.name < $1.name }
        if let duplicate = firstDuplicate(sorted.map(\.name)) { throw DataError.invalid("duplicate tensor name '\(duplicate)'") }
        var header: [String] = []
        if let metadata {
            let pairs = metadata.keys.sorted().map { "\(JSONText.string($0)):\(JSONText.string(metadata[$0]!))" }
            header.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in sorted {
            guard tensor.shape.reduce(1, *) == tensor.values.count else {
                throw DataError.invalid("tensor \(name): shape \(tensor.shape) does not hold \(tensor.values.count) values")
            }
            let end = offset + 4 * tensor.values.count
            header.append("\(JSONText.string(name)):{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var text = Array(("{" + header.joined(separator: ",") + "}").utf8)
        while text.count % 8 != 0 { text.append(0x20) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + text.count + offset)
        withUnsafeBytes(of: UInt64(text.count).littleEndian) { bytes += $0 }
        bytes += text
        for (_, tensor) in sorted {
            for v in tensor.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        }
        return bytes
    }

    /// Writes atomically: the target is either its old contents or the complete new file.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], to url: URL, metadata: [String: String]? = nil) throws {
        try AtomicFile.write(try serialize(tensors, metadata: metadata), to: url)
    }

    /// The top-level keys of a JSON object, in order (JSONSerialization merges duplicates).
    private static func topLevelKeys(_ text: String, _ fail: (String) -> DataError) throws -> [String] {
        var keys: [String] = []
        var depth = 0
        var inString = false, escaped = false, expectKey = false
        var current = ""
        for ch in text {
            if inString {
                if escaped { escaped = false; current.append(ch); continue }
                if ch == "\\" { escaped = true; current.append(ch); continue }
                if ch == "\"" {
                    inString = false
                    if depth == 1 && expectKey { keys.append(current); expectKey = false }
                    continue
                }
                current.append(ch)
                continue
            }
            switch ch {
            case "\"": inString = true; current = ""
            case "{", "[":
                depth += 1
                if depth == 1 { expectKey = true }
            case "}", "]": depth -= 1
            case ",": if depth == 1 { expectKey = true }
            default: break
            }
        }
        guard depth == 0, !inString else { throw fail("the header is not JSON") }
        return keys
    }

    private static func firstDuplicate(_ names: [String]) -> String? {
        var seen = Set<String>()
        return names.first { !seen.insert($0).inserted }
    }
}

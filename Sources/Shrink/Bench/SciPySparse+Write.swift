import Foundation
#if canImport(ZIPFoundation)
import ZIPFoundation
#endif

extension SciPySparse {
    /// Writes `matrix` as `scipy.sparse.save_npz(path, X, compressed=False)` does: a ZIP archive
    /// (stored, not deflated) of `format.npy` (b'csr'), `shape.npy` (int64 [2]), `data.npy`
    /// (float32), `indices.npy` (int32) and `indptr.npy` (int32, int64 past 2³¹ − 1 non-zeros).
    /// `scipy.sparse.load_npz` and `read` give the same matrix back.
    public static func write(_ matrix: SparseMatrix, to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            let archive = try Archive(url: temporary, accessMode: .create)
            let wide = matrix.nonZeroCount > Int(Int32.max)
            let arrays: [(String, Data)] = [
                ("format", NPYEncoder.encode(descr: "|S3", shape: [], payload: Data("csr".utf8))),
                ("shape", NPYEncoder.encode([Int64(matrix.rows), Int64(matrix.columns)], shape: [2])),
                ("data", NPYEncoder.encode(matrix.values, shape: [matrix.nonZeroCount])),
                ("indices", NPYEncoder.encode(matrix.columnIndices, shape: [matrix.nonZeroCount])),
                ("indptr", wide ? NPYEncoder.encode(matrix.rowStarts.map { Int64($0) }, shape: [matrix.rows + 1])
                    : NPYEncoder.encode(matrix.rowStarts.map { Int32($0) }, shape: [matrix.rows + 1])),
            ]
            for (name, bytes) in arrays {
                try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(bytes.count),
                                     modificationDate: Date(timeIntervalSince1970: 315_532_800),  // 1980-01-01, as numpy
                                     compressionMethod: .none) { position, size in
                    bytes.subdata(in: Int(position)..<(Int(position) + size))
                }
            }
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            throw DataError.unwritable(path: url.path, reason: "\(error)")
        }
    }
}

extension NPY {
    /// Writes a float64 C-order `.npy` (version 1): solutions and α grids, exactly.
    public static func write(doubles values: [Double], shape: [Int], to url: URL) throws {
        do { try NPYEncoder.encode(values, shape: shape).write(to: url, options: .atomic) } catch {
            throw DataError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Reads a `.npy` of any dtype `parse` takes, as Double (float64 arrays keep their precision).
    public static func readDoubles(_ url: URL) throws -> (shape: [Int], values: [Double]) {
        let bytes = try readBytes(url)
        let magicLength = 10
        if bytes.count > magicLength, let header = String(bytes: bytes[magicLength..<min(bytes.count, 256)], encoding: .ascii),
           header.contains("'<f8'") {
            let parsed = try parse(bytes, path: url.path)  // checks the header and the length
            let start = bytes.count - parsed.values.count * 8
            let values = bytes.withUnsafeBytes { raw in
                (0..<parsed.values.count).map {
                    Double(bitPattern: raw.loadUnaligned(fromByteOffset: start + 8 * $0, as: UInt64.self).littleEndian)
                }
            }
            return (parsed.shape, values)
        }
        let parsed = try parse(bytes, path: url.path)
        return (parsed.shape, parsed.values.map(Double.init))
    }
}

/// `.npy` version 1 bytes (little-endian, C order).
enum NPYEncoder {
    static func encode(descr: String, shape: [Int], payload: Data) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(payload)
        return data
    }

    static func encode(_ values: [Float], shape: [Int]) -> Data {
        encode(descr: "<f4", shape: shape, payload: values.withUnsafeBytes { Data($0) })  // little-endian hosts only, as NPY
    }

    static func encode(_ values: [Double], shape: [Int]) -> Data {
        encode(descr: "<f8", shape: shape, payload: values.withUnsafeBytes { Data($0) })
    }

    static func encode(_ values: [Int32], shape: [Int]) -> Data {
        encode(descr: "<i4", shape: shape, payload: values.withUnsafeBytes { Data($0) })
    }

    static func encode(_ values: [Int64], shape: [Int]) -> Data {
        encode(descr: "<i8", shape: shape, payload: values.withUnsafeBytes { Data($0) })
    }
}

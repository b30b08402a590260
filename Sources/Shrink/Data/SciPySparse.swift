import Foundation
#if canImport(ZIPFoundation)  // scripts/fuzz.sh compiles ZIPFoundation into the same module
import ZIPFoundation
#endif

/// SciPy's sparse `.npz` files (`scipy.sparse.save_npz`, compressed or not): a ZIP archive of
/// `.npy` arrays `format` ('csr' or 'csc'), `shape`, `data`, `indices` and `indptr`, each read
/// with the `.npy` reader and every structural rule checked. A malformed file is one
/// `DataError.malformed` naming the file and the array.
public enum SciPySparse {
    /// The archive is read from the file (ZIPFoundation's in-memory archives leak when the
    /// bytes are not a ZIP archive: found by scripts/fuzz.sh).
    public static func read(_ url: URL) throws -> SparseMatrix {
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            _ = try NPY.readBytes(url)  // the one-line "cannot read" error with its reason
            throw DataError.unreadable(path: url.path, reason: "not readable")
        }
        return try parse(archiveAt: url, path: url.path)
    }

    /// Bytes held in memory, through a temporary file.
    public static func parse(_ archiveBytes: Data, path: String) throws -> SparseMatrix {
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("shrink-npz-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).npz")
        do { try archiveBytes.write(to: temporary) } catch {
            throw DataError.unwritable(path: temporary.path, reason: error.localizedDescription)
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        return try parse(archiveAt: temporary, path: path)
    }

    private static func parse(archiveAt url: URL, path: String) throws -> SparseMatrix {
        func fail(_ reason: String) -> DataError { .malformed(path: path, reason: reason) }
        let archive = try NPZArchive(url, path: path)
        func array(_ name: String) throws -> [UInt8] { try archive.bytes(of: name) }
        let arrayPath = { (name: String) in "\(path) [\(name)]" }
        let format = try NPY.parseText(try array("format"), path: arrayPath("format"))
        guard format == "csr" || format == "csc" else {
            throw fail("format '\(format)' is not supported (save a CSR or CSC matrix: X.tocsr())")
        }
        let shape = try NPY.parseIntegers(try array("shape"), path: arrayPath("shape"))
        guard shape.values.count == 2, shape.values.allSatisfy({ $0 >= 0 }) else {
            throw fail("shape must be two sizes ≥ 0, got \(shape.values)")
        }
        let (rows, columns) = (shape.values[0], shape.values[1])
        let indptr = try NPY.parseIntegers(try array("indptr"), path: arrayPath("indptr"))
        let indices = try NPY.parseIntegers(try array("indices"), path: arrayPath("indices"))
        let data = try NPY.parse(try array("data"), path: arrayPath("data"))
        guard indptr.shape.count == 1, indices.shape.count == 1, data.shape.count == 1 else {
            throw fail("indptr, indices and data must be 1-D arrays")
        }
        guard let narrow = narrowed(indices.values) else {
            throw fail("an index in 'indices' does not fit 32 bits")
        }
        if let bad = data.values.firstIndex(where: { !$0.isFinite }) {
            throw fail("data[\(bad)] is \(data.values[bad]) (every stored value must be finite)")
        }
        let describe = { (reason: String) in DataError.malformed(path: path, reason: "\(format): \(reason)") }
        if format == "csr" {
            return try SparseMatrix(rows: rows, columns: columns, rowStarts: indptr.values, columnIndices: narrow,
                                    values: data.values, describe: describe)
        }
        return try SparseMatrix.fromColumns(rows: rows, columns: columns, columnStarts: indptr.values,
                                            rowIndices: narrow, values: data.values, describe: describe)
    }

    private static func narrowed(_ values: [Int]) -> [Int32]? {
        var out = [Int32]()
        out.reserveCapacity(values.count)
        for v in values {
            guard let n = Int32(exactly: v) else { return nil }
            out.append(n)
        }
        return out
    }
}

/// The `.npy` arrays of a `.npz` (ZIP) archive, each extracted as a stream: whole, or only an
/// element range of it (one rank's rows), the rest decompressed and dropped.
struct NPZArchive {
    let archive: Archive
    let path: String

    init(_ url: URL, path: String) throws {
        self.path = path
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw DataError.malformed(path: path, reason: "not a ZIP archive, so not a .npz file (\(error))")
        }
    }

    private func fail(_ reason: String) -> DataError { .malformed(path: path, reason: reason) }

    /// Array `name`'s whole `.npy` file.
    func bytes(of name: String) throws -> [UInt8] {
        try extract(name) { _ in nil }.bytes
    }

    /// Array `name`'s header, and the bytes of the elements `window` picks from it (its
    /// argument is the header; nil keeps the whole file).
    func extract(_ name: String, window: (NPY.Layout) throws -> Range<Int>?) throws -> (layout: NPY.Layout?, bytes: [UInt8]) {
        guard let entry = archive[name + ".npy"] else {
            let names = archive.map(\.path).sorted().joined(separator: ", ")
            throw fail("no '\(name)' array (the archive holds: \(names.isEmpty ? "nothing" : names)); " +
                       "expected a file written by scipy.sparse.save_npz")
        }
        // A size from the archive is only a claim: cap what we accept before reading.
        guard entry.uncompressedSize <= UInt64(Int32.max) * 8 else { throw fail("array '\(name)' is too large") }
        let size = Int(entry.uncompressedSize)
        var bytes = [UInt8]()
        var received = 0
        var layout: NPY.Layout?
        var kept: Range<Int>?  // the window in bytes of the file, once the header is known
        let arrayPath = "\(path) [\(name)]"
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard received + chunk.count <= size else {
                    throw DataError.malformed(path: path, reason: "array '\(name)' is longer than the archive says")
                }
                let start = received
                received += chunk.count
                if let kept {
                    let lower = max(kept.lowerBound, start), upper = min(kept.upperBound, received)
                    if lower < upper { bytes += chunk[(chunk.startIndex + lower - start)..<(chunk.startIndex + upper - start)] }
                    return
                }
                bytes += chunk
                // The header is read once it has arrived (a v1–v3 header is at most 12 + its length bytes).
                guard bytes.count >= 12 || received == size else { return }
                let headerEnd = bytes.count >= 10 ? NPY.headerEnd(bytes) : nil
                guard let headerEnd, bytes.count >= headerEnd || received == size else { return }
                let found = try NPY.layout(bytes, fileSize: size, path: arrayPath)
                layout = found
                guard let elements = try window(found) else {
                    kept = 0..<size
                    return
                }
                let range = (found.dataStart + elements.lowerBound * found.width)..<(found.dataStart + elements.upperBound * found.width)
                kept = range
                let have = bytes
                bytes = Array(have[min(range.lowerBound, have.count)..<min(range.upperBound, have.count)])
            }
        } catch let error as DataError {
            throw error
        } catch {
            throw fail("array '\(name)' cannot be extracted (\(error))")
        }
        return (layout, bytes)
    }
}

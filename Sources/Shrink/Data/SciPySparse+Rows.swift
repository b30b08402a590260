import Foundation

extension SciPySparse {
    /// Part `part` of `parts` of a `.npz` matrix's rows — one MPI rank's: the rows
    /// `rowRange(part:of:indptr:)` picks (contiguous, about the same number of non-zeros in each
    /// part), their column indices and values, and where they start in the file's rows.
    ///
    /// A CSR file is read in part: `indptr` whole (n + 1 offsets), `indices` and `data` only in
    /// the part's range, the rest of each array decompressed as a stream and dropped — memory
    /// O(n + the part's non-zeros). The structure is checked as `read` checks it, the offsets
    /// whole and the indices of this part's rows (each part checks its own). A CSC file has no
    /// row ranges: it is read whole and the part's rows selected (convert large files with
    /// `X.tocsr()`).
    public static func read(_ url: URL, part: Int, of parts: Int) throws -> (matrix: SparseMatrix, firstRow: Int, totalRows: Int) {
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            _ = try NPY.readBytes(url)  // the one-line "cannot read" error with its reason
            throw DataError.unreadable(path: url.path, reason: "not readable")
        }
        let path = url.path
        func fail(_ reason: String) -> DataError { .malformed(path: path, reason: reason) }
        let archive = try NPZArchive(url, path: path)
        let format = try NPY.parseText(try archive.bytes(of: "format"), path: "\(path) [format]")
        guard format == "csr" else {
            let whole = try read(url)
            let rows = rowRange(part: part, of: parts, indptr: whole.rowStarts)
            return (whole.selectingRows(Array(rows)), rows.lowerBound, whole.rows)
        }
        let shape = try NPY.parseIntegers(try archive.bytes(of: "shape"), path: "\(path) [shape]")
        guard shape.values.count == 2, shape.values.allSatisfy({ $0 >= 0 }) else {
            throw fail("shape must be two sizes ≥ 0, got \(shape.values)")
        }
        let (rows, columns) = (shape.values[0], shape.values[1])
        let indptr = try NPY.parseIntegers(try archive.bytes(of: "indptr"), path: "\(path) [indptr]")
        guard indptr.shape.count == 1 else { throw fail("indptr, indices and data must be 1-D arrays") }
        let starts = indptr.values
        let describe = { (reason: String) in DataError.malformed(path: path, reason: "csr: \(reason)") }
        guard starts.count == rows + 1 else {
            throw describe("indptr holds \(starts.count) offsets, \(rows) rows need \(rows + 1)")
        }
        guard starts[0] == 0 else { throw describe("indptr starts at \(starts[0]), not 0") }
        if let r = (0..<rows).first(where: { starts[$0] > starts[$0 + 1] }) {
            throw describe("indptr decreases at row \(r) (\(starts[r]) then \(starts[r + 1]))")
        }
        let range = rowRange(part: part, of: parts, indptr: starts)
        let entries = starts[range.lowerBound]..<starts[range.upperBound]
        let nonZeros = starts[rows]
        /// The part's entries of array `name` (none when the array's length is wrong: checked
        /// below, once both lengths are known, in `read`'s order).
        func window(_ name: String) throws -> (layout: NPY.Layout, bytes: [UInt8]) {
            let (layout, bytes) = try archive.extract(name) { layout in
                guard layout.shape.count == 1 else { throw fail("indptr, indices and data must be 1-D arrays") }
                return layout.count == nonZeros ? entries : 0..<0
            }
            guard let layout else { throw fail("array '\(name)' is not a .npy file") }
            return (layout, bytes)
        }
        let (indexLayout, indexBytes) = try window("indices")
        let (dataLayout, dataBytes) = try window("data")
        guard indexLayout.count == dataLayout.count else {
            throw describe("indices hold \(indexLayout.count) entries but data holds \(dataLayout.count)")
        }
        guard dataLayout.count == nonZeros else {
            throw describe("indptr ends at \(nonZeros) but there are \(dataLayout.count) non-zeros")
        }
        guard indexBytes.count == entries.count * indexLayout.width, dataBytes.count == entries.count * dataLayout.width else {
            throw fail("array 'indices' or 'data' is shorter than its header says")
        }
        let indices = try indexBytes.withUnsafeBytes {
            try NPY.decodeIntegers($0, count: entries.count, indexLayout.descr, path: "\(path) [indices]",
                                   first: entries.lowerBound)
        }
        let values = try dataBytes.withUnsafeBytes {
            try NPY.decode($0, count: entries.count, dataLayout.descr, path: "\(path) [data]")
        }
        var narrow = [Int32]()
        narrow.reserveCapacity(indices.count)
        for (i, v) in indices.enumerated() {
            guard let n = Int32(exactly: v) else { throw fail("indices[\(entries.lowerBound + i)] does not fit 32 bits") }
            narrow.append(n)
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw fail("data[\(entries.lowerBound + bad)] is \(values[bad]) (every stored value must be finite)")
        }
        let partStarts = starts[range.lowerBound...range.upperBound].map { $0 - entries.lowerBound }
        let matrix = try SparseMatrix(rows: range.count, columns: columns, rowStarts: partStarts, columnIndices: narrow,
                                      values: values, describe: { reason in
                                          // Rows are named as in the file.
                                          describe(Self.renumberingRows(reason, by: range.lowerBound))
                                      })
        return (matrix, range.lowerBound, rows)
    }

    /// Part k's rows: from the first row whose offset reaches nnz·k/parts to the first reaching
    /// nnz·(k+1)/parts (the last part ends at the last row), so parts hold about the same number
    /// of non-zeros; with no non-zeros, rows are split evenly.
    public static func rowRange(part: Int, of parts: Int, indptr starts: [Int]) -> Range<Int> {
        let rows = starts.count - 1
        let nonZeros = starts[rows]
        guard nonZeros > 0 else { return RowShards.evenRange(part: part, of: parts, count: rows) }
        func boundary(_ k: Int) -> Int {
            if k == 0 { return 0 }
            if k == parts { return rows }
            let target = nonZeros * k / parts
            var (low, high) = (0, rows)  // the first row r with starts[r] ≥ target
            while low < high {
                let mid = (low + high) / 2
                if starts[mid] >= target { high = mid } else { low = mid + 1 }
            }
            return low
        }
        return boundary(part)..<boundary(part + 1)
    }

    /// "row 3 has …" of a part's own numbering as the file's ("row 3 + first").
    private static func renumberingRows(_ reason: String, by first: Int) -> String {
        guard first > 0, reason.hasPrefix("row "), let number = Int(reason.dropFirst(4).prefix { $0.isNumber }) else {
            return reason
        }
        return "row \(number + first)" + reason.dropFirst(4).drop { $0.isNumber }
    }
}

/// A sparse matrix in compressed sparse row (CSR) form, as SciPy's `csr_matrix` holds it:
/// row r's non-zeros are values[rowStarts[r]..<rowStarts[r + 1]] in the columns
/// columnIndices[same range], strictly increasing within a row (sorted, no duplicates).
public struct SparseMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// rows + 1 offsets into `columnIndices` and `values`, from 0 up to the non-zero count.
    public let rowStarts: [Int]
    public let columnIndices: [Int32]
    public let values: [Float]

    public var nonZeroCount: Int { values.count }

    /// Checks every structural rule; `describe` turns a broken rule into the caller's error
    /// (naming the file and the array or line).
    public init(rows: Int, columns: Int, rowStarts: [Int], columnIndices: [Int32], values: [Float]) throws {
        try self.init(rows: rows, columns: columns, rowStarts: rowStarts, columnIndices: columnIndices, values: values,
                      describe: { DataError.invalid("sparse matrix: \($0)") })
    }

    init(rows: Int, columns: Int, rowStarts: [Int], columnIndices: [Int32], values: [Float],
         describe: (String) -> DataError) throws {
        try Self.checkStructure(lines: rows, width: columns, starts: rowStarts, indices: columnIndices,
                                entries: values.count, line: "row", index: "column", describe: describe)
        self.rows = rows
        self.columns = columns
        self.rowStarts = rowStarts
        self.columnIndices = columnIndices
        self.values = values
    }

    /// The CSR form of a matrix given column by column (CSC, as SciPy's `csc_matrix`: column
    /// c's entries are values[columnStarts[c]..<columnStarts[c + 1]] in the rows
    /// rowIndices[same range]), its structure checked with the roles swapped.
    static func fromColumns(rows: Int, columns: Int, columnStarts: [Int], rowIndices: [Int32], values: [Float],
                            describe: (String) -> DataError) throws -> SparseMatrix {
        try checkStructure(lines: columns, width: rows, starts: columnStarts, indices: rowIndices,
                           entries: values.count, line: "column", index: "row", describe: describe)
        let byColumns = SparseMatrix(unchecked: columns, columns: rows, rowStarts: columnStarts,
                                     columnIndices: rowIndices, values: values)
        return byColumns.transposed()
    }

    private init(unchecked rows: Int, columns: Int, rowStarts: [Int], columnIndices: [Int32], values: [Float]) {
        self.rows = rows
        self.columns = columns
        self.rowStarts = rowStarts
        self.columnIndices = columnIndices
        self.values = values
    }

    /// The compressed-format rules (SciPy's `check_format(full_check=True)` plus sorted indices):
    /// `lines` + 1 monotone offsets from 0 to `entries`, and within each line indices in
    /// 0..<width, strictly increasing.
    private static func checkStructure(lines: Int, width: Int, starts: [Int], indices: [Int32], entries: Int,
                                       line: String, index: String, describe: (String) -> DataError) throws {
        guard lines >= 0, width >= 0, width <= Int(Int32.max) + 1 else {
            throw describe("\(lines) \(line)s of width \(width) is not a valid matrix shape")
        }
        guard starts.count == lines + 1 else {
            throw describe("indptr holds \(starts.count) offsets, \(lines) \(line)s need \(lines + 1)")
        }
        guard indices.count == entries else {
            throw describe("indices hold \(indices.count) entries but data holds \(entries)")
        }
        guard starts[0] == 0 else { throw describe("indptr starts at \(starts[0]), not 0") }
        guard starts[lines] == entries else {
            throw describe("indptr ends at \(starts[lines]) but there are \(entries) non-zeros")
        }
        for l in 0..<lines {
            let (start, end) = (starts[l], starts[l + 1])
            guard start <= end else { throw describe("indptr decreases at \(line) \(l) (\(start) then \(end))") }
            var previous: Int32 = -1
            for i in start..<end {
                let c = indices[i]
                guard c >= 0, Int(c) < width else {
                    throw describe("\(line) \(l) has \(index) index \(c), outside 0..<\(width)")
                }
                guard c > previous else {
                    throw describe(c == previous
                        ? "\(line) \(l) has \(index) \(c) twice (sum the duplicates first: X.sum_duplicates())"
                        : "\(line) \(l)'s \(index) indices are not sorted (\(previous) before \(c); X.sort_indices() first)")
                }
                previous = c
            }
        }
    }

    /// Aᵀ in CSR form (a counting sort by column: rows stay in order within each column).
    public func transposed() -> SparseMatrix {
        var starts = [Int](repeating: 0, count: columns + 1)
        for c in columnIndices { starts[Int(c) + 1] += 1 }
        for c in 0..<columns { starts[c + 1] += starts[c] }
        var next = starts
        var indices = [Int32](repeating: 0, count: values.count)
        var moved = [Float](repeating: 0, count: values.count)
        for r in 0..<rows {
            for i in rowStarts[r]..<rowStarts[r + 1] {
                let c = Int(columnIndices[i])
                indices[next[c]] = Int32(r)
                moved[next[c]] = values[i]
                next[c] += 1
            }
        }
        // Sorted and duplicate-free by construction.
        return SparseMatrix(unchecked: columns, columns: rows, rowStarts: starts, columnIndices: indices, values: moved)
    }

    /// The dense row-major [rows, columns] matrix (for tests and small data only).
    public func dense() -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for i in rowStarts[r]..<rowStarts[r + 1] { out[r * columns + Int(columnIndices[i])] = values[i] }
        }
        return out
    }

    /// The rows at `indices`, in that order (CSR; no dense copy).
    public func selectingRows(_ indices: [Int]) -> SparseMatrix {
        var starts = [Int](repeating: 0, count: indices.count + 1)
        for (i, r) in indices.enumerated() { starts[i + 1] = starts[i] + rowStarts[r + 1] - rowStarts[r] }
        var columns = [Int32](), values = [Float]()
        columns.reserveCapacity(starts[indices.count])
        values.reserveCapacity(starts[indices.count])
        for r in indices {
            columns += columnIndices[rowStarts[r]..<rowStarts[r + 1]]
            values += self.values[rowStarts[r]..<rowStarts[r + 1]]
        }
        return SparseMatrix(unchecked: indices.count, columns: self.columns, rowStarts: starts, columnIndices: columns,
                            values: values)
    }
}

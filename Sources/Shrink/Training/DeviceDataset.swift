import ShrinkCompute

/// A dataset uploaded to a device: features [rows, columns], dense or sparse, and targets [rows].
struct DeviceDataset {
    let features: Features
    let targets: Buffer
    let rows: Int
    let columns: Int

    /// Dense row-major features, or a CSR matrix (never densified) with, for a training set,
    /// its transpose Xᵀ in CSR (X's CSC, built once on the host: a counting sort, O(nnz + p))
    /// for the backward product ∂W = δᵀ·X_b. Memory: dense rows·columns floats; sparse
    /// 8·nnz + 4·(rows + 1) bytes, twice that and 4·(columns + 1) with the transpose.
    enum Features {
        case dense(Buffer)
        case sparse(SparseOperand, transposed: SparseOperand?)
    }

    /// `transposing`: upload Xᵀ too (a training set; the test set only runs forward).
    init(_ data: Dataset, on device: any Device, transposing: Bool = false) throws {
        if let x = data.sparse {
            features = .sparse(try Self.upload(x, on: device),
                               transposed: transposing ? try Self.upload(x.transposed(), on: device) : nil)
        } else {
            features = .dense(try device.makeBuffer(data.features))
        }
        targets = try device.makeBuffer(data.targets)
        rows = data.rows
        columns = data.columns
    }

    /// A CSR matrix as int32 row starts, int32 column indices and float values (a 1-entry
    /// placeholder for an empty matrix: a device buffer is never empty).
    static func upload(_ x: SparseMatrix, on device: any Device) throws -> SparseOperand {
        guard x.nonZeroCount <= Int(Int32.max), x.rows < Int(Int32.max), x.columns <= Int(Int32.max) else {
            throw TrainingError.invalidData("a sparse matrix of \(x.rows)×\(x.columns) with \(x.nonZeroCount) " +
                                            "non-zeros exceeds the devices' 32-bit indices")
        }
        let empty = x.nonZeroCount == 0
        return SparseOperand(rows: x.rows, columns: x.columns, nonZeros: x.nonZeroCount,
                             rowStarts: try device.makeBuffer(x.rowStarts.map { Int32($0) }),
                             columnIndices: try device.makeBuffer(empty ? [0] : x.columnIndices),
                             values: try device.makeBuffer(empty ? [0] : x.values))
    }
}

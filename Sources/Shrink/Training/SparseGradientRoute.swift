import Foundation

/// How a training step computes the first layer's weight gradient ∂W = δᵀ·X_b [out, p] from a
/// sparse X (the forward X_b·Wᵀ is always the batch's CSR rows, picked on the device):
///
/// - `transposed`: from Xᵀ in CSR (X's CSC, uploaded once beside X), every column of X meeting
///   its rows' batch positions — a window for rows in order, a position map for shuffled
///   batches (`LinearAlgebraOp.sparseMatmulSelected`). Reads all of Xᵀ: O(nnz(X)·out) per step,
///   the least work for a full batch; X is stored twice.
/// - `batchRows`: from the batch's own CSR rows (`LinearAlgebraOp.sparseMatmulTransposed`), C's
///   columns cut into slices with one writer each: O(out·(p + B·S·log(row length) + nnz(X_b)))
///   per step for S slices; no Xᵀ is stored.
///
/// `choose` compares the two estimates with a nominal S = 256 (the devices use 16 to 1024).
/// The O(out·p) both pay per step is the dense gradient itself, which the optimizer then reads
/// in full anyway.
public enum SparseGradientRoute: String, Sendable, CaseIterable {
    case transposed
    case batchRows

    static let nominalSlices = 256

    /// batchRows when B·S·log₂(2 + nnz/n) + nnz·B/n < nnz (rows n, batch B), else transposed.
    public static func choose(batchRows: Int, rows: Int, nonZeros: Int) -> SparseGradientRoute {
        guard rows > 0, batchRows < rows else { return .transposed }
        let (b, n, nnz) = (Double(batchRows), Double(rows), Double(nonZeros))
        let batchCost = b * Double(nominalSlices) * log2(2 + nnz / n) + nnz * b / n
        return batchCost < nnz ? .batchRows : .transposed
    }
}

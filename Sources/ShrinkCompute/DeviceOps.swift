// The five op families a `Device` runs, as typed descriptors. Each case names its math; the
// argument conventions are the same everywhere:
//   - every buffer operand is followed by its element offset where the op reads or writes a
//     part of it (`at:`), and a count or shape says how far;
//   - m, n, k: C is m×n, op(A) m×k, op(B) k×n; rows × cols: a batch of activations or logits;
//     count: elements of a flat vector. All matrices are row-major.
// A new feature composes these ops, or adds one case to the family it belongs to (and its
// implementation on each device, which the compiler then asks for) — never a new protocol
// requirement.

/// Products of matrices.
public enum LinearAlgebraOp: Sendable {
    /// C = alpha·op(A)·op(B) + beta·C (BLAS sgemm, row-major, contiguous rows). Leading
    /// dimensions follow from the shape: A is m×k (k×m when transposed), B is k×n (n×k when
    /// transposed), C is m×n. beta = 0 ignores C's old contents.
    case matmul(MatmulShape, alpha: Float, a: Buffer, aOffset: Int, b: Buffer, bOffset: Int,
                beta: Float, c: Buffer, cOffset: Int)
    /// C = alpha·A·op(B) + beta·C with A sparse (`SparseOperand`, m×k), B dense k×n (n×k when
    /// `transposeB`), C m×n; beta = 0 ignores C's old contents. Each entry sums its row's
    /// non-zeros in stored order. X·Wᵀ takes A = X; Xᵀ·G takes A = Xᵀ, stored as its own CSR.
    /// A column index outside 0..<k or a bad row range throws `DeviceError.outOfBounds` on every
    /// device (OpenCL: at the next `read` or `synchronize`); that entry is NaN, nothing is read
    /// outside the arrays.
    case sparseMatmul(SparseOperand, n: Int, transposeB: Bool, alpha: Float, b: Buffer, bOffset: Int,
                      beta: Float, c: Buffer, cOffset: Int)
    /// sparseMatmul over a selection (`SparseSelection`): C = alpha·A_S·op(B_S) + beta·C with
    /// row i of A_S the stored row `selection.rows` picks, B_S's row for A's column c the row
    /// `selection.bRows` maps it to (a column mapped to no row adds nothing), and C [m, n], or
    /// [n, m] when `selection.transposeC`. The sparse first layer of a training step:
    ///   forward  X_b·Wᵀ:  A = X, rows = the batch (an offset, or the shuffled order on the device),
    ///                     B = W [out, p] transposed, C = logits [B, out];
    ///   backward δᵀ·X_b:  A = Xᵀ in CSR (X's CSC, built once), rows = all p, B = δ [B, out] with
    ///                     X's row r mapped to its batch position (a window, or a position map
    ///                     `scatterPositions` sets per step), C = ∂W [out, p] (transposed).
    /// Cost: O(nnz of the selected rows·n) — the backward reads all of Xᵀ, O(nnz(X)·out) per
    /// step whatever the batch (optimal for a full batch; an epoch of S minibatches reads Xᵀ S
    /// times), and writes every ∂W entry, as the dense gradient does. Sums run in stored order
    /// (CPU-type devices, the CPU) or as fixed strided partials and a fixed tree (GPU-type
    /// devices, `SparseVariant`): the same bits every run, no atomics. A selected row outside A,
    /// a bad row range or column index, or a mapped row outside B throws
    /// `DeviceError.outOfBounds` as sparseMatmul does; that entry is NaN.
    case sparseMatmulSelected(SparseOperand, SparseSelection, n: Int, transposeB: Bool, alpha: Float, b: Buffer,
                              bOffset: Int, beta: Float, c: Buffer, cOffset: Int)
    /// C = beta·C + alpha·Bᵀ·A_S, C [n, k]: for B [m, n] and A_S the m rows of the sparse A that
    /// `rows` selects (as in `SparseSelection`) — the weight gradient ∂W = δᵀ·X_b [out, p] straight
    /// from the batch's CSR rows, shuffled or not, with no transpose of X and no atomics: C's
    /// columns are cut into slices (a tuning value, at most k), each (slice, j) written by one
    /// work-item that adds fma(a, alpha·B[i, j], C) over the selected rows in order, finding each
    /// row's first column in its slice by binary search. Cost per step: O(n·k) to scale C (the
    /// dense gradient's size) + O(n·(m·slices·log(row length) + nnz of the selected rows)) — for
    /// small batches far below the O(nnz(X)·n) of the route through Xᵀ. Rows must hold strictly
    /// increasing columns (SparseMatrix's rule; an unsorted row is never followed outside C, but
    /// its sum is unspecified). A bad selected row or row range, or a row's first column < 0 or
    /// last ≥ k, throws `DeviceError.outOfBounds` as sparseMatmul does; C is then NaN.
    case sparseMatmulTransposed(SparseOperand, rows: SparseSelection.Rows, m: Int, n: Int, alpha: Float, b: Buffer,
                                bOffset: Int, beta: Float, c: Buffer, cOffset: Int)
}

/// Which rows of a sparse A enter a product, which row of B each of A's columns meets, and C's
/// layout (see `LinearAlgebraOp.sparseMatmulSelected`).
public struct SparseSelection: Sendable {
    /// A's rows: row i of the product is stored row `first + i`, or `indices[offset + i]` (int32).
    public enum Rows: Sendable {
        case range(first: Int)
        case indices(Buffer, offset: Int)
    }

    /// B's row for A's column c: c itself (B has A's column count of rows); c − first when
    /// first ≤ c < first + count, else none; or map[c] (int32, A's column count of entries)
    /// when ≥ 0, none when negative, B having `rows` rows.
    public enum BRows: Sendable {
        case identity
        case window(first: Int, count: Int)
        case map(Buffer, rows: Int)
    }

    /// The product's rows (m).
    public var rows: Int
    public var aRows: Rows
    public var bRows: BRows
    /// C stored [n, m] (row j holds column j of the product), e.g. a weight gradient [out, p].
    public var transposeC: Bool

    public init(rows: Int, aRows: Rows = .range(first: 0), bRows: BRows = .identity, transposeC: Bool = false) {
        self.rows = rows; self.aRows = aRows; self.bRows = bRows; self.transposeC = transposeC
    }

    /// B's row count given A's column count k.
    func bRowCount(k: Int) -> Int {
        switch bRows {
        case .identity: k
        case let .window(_, count): count
        case let .map(_, rows): rows
        }
    }

    /// Sizes and buffer ranges (the indices and map values are checked as the kernel runs).
    func validate(_ a: SparseOperand, _ what: String) throws {
        try Self.validate(aRows, count: rows, of: a, what)
        switch bRows {
        case .identity: break
        case let .window(first, count):
            guard first >= 0, count >= 0 else {
                throw DeviceError.invalidArgument("\(what): B window \(first)..<\(first + count)")
            }
        case let .map(buffer, count):
            guard count >= 0 else { throw DeviceError.invalidArgument("\(what): negative B row count \(count)") }
            try buffer.checkType(.int32, "\(what) B row map")
            try buffer.checkRange(0, a.columns, "\(what) B row map")
        }
    }

    /// `count` rows picked by `aRows` from A: a range inside A, or an int32 index range in its buffer.
    static func validate(_ aRows: Rows, count: Int, of a: SparseOperand, _ what: String) throws {
        guard count >= 0 else { throw DeviceError.invalidArgument("\(what): negative row count \(count)") }
        switch aRows {
        case let .range(first):
            guard first >= 0, first + count <= a.rows else {
                throw DeviceError.outOfBounds(what: "\(what) rows", offset: first, count: count, bufferCount: a.rows)
            }
        case let .indices(buffer, offset):
            try buffer.checkType(.int32, "\(what) row indices")
            try buffer.checkRange(offset, count, "\(what) row indices")
        }
    }
}

/// A sparse matrix on a device in CSR form: `rowStarts` int32 [rows + 1] (0 up to nnz),
/// `columnIndices` int32 [nnz] and `values` float32 [nnz], each row's entries in stored order.
public struct SparseOperand: Sendable {
    public var rows: Int
    public var columns: Int
    public var nonZeros: Int
    public var rowStarts: Buffer
    public var columnIndices: Buffer
    public var values: Buffer

    public init(rows: Int, columns: Int, nonZeros: Int, rowStarts: Buffer, columnIndices: Buffer, values: Buffer) {
        self.rows = rows; self.columns = columns; self.nonZeros = nonZeros
        self.rowStarts = rowStarts; self.columnIndices = columnIndices; self.values = values
    }

    /// Types and sizes (the structure itself is checked as the kernel runs).
    func validate(_ what: String) throws {
        guard rows >= 0, columns >= 0, nonZeros >= 0 else {
            throw DeviceError.invalidArgument("\(what): negative size (\(rows)×\(columns), \(nonZeros) non-zeros)")
        }
        try rowStarts.checkType(.int32, "\(what) row starts")
        try columnIndices.checkType(.int32, "\(what) column indices")
        try rowStarts.checkRange(0, rows + 1, "\(what) row starts")
        try columnIndices.checkRange(0, nonZeros, "\(what) column indices")
        try values.checkRange(0, nonZeros, "\(what) values")
    }
}

/// Reductions of many values to few, left on the device.
public enum ReductionOp: Sendable {
    /// result[index] = scale·N(x[offset..<offset+count]) (+ result[index] when accumulating), N
    /// the reduction `kind`.
    case norm(NormKind, x: Buffer, offset: Int, count: Int, result: Buffer, index: Int, scale: Float,
              accumulate: Bool)
    /// Many reductions in one launch: `segments` holds `segmentCount` int32 triples (offset, count,
    /// destination); segment i sets result[base + destination] = scales[i]·N(x[offset..<offset+count])
    /// (added to it with `accumulate`). Destinations are distinct (the segments run at once on a
    /// parallel device). A segment outside x, or a destination outside result,
    /// throws `DeviceError.outOfBounds` ("norms segment i" / "norms result (segment i)") on every
    /// device: from this call where the table is on the host (CPU), else from the next `read` or
    /// `synchronize` (OpenCL records it on the device instead of reading the table back), once.
    /// Nothing outside x or result is touched; result's values are then unspecified.
    case segmentNorms(NormKind, x: Buffer, segments: Buffer, scales: Buffer, segmentCount: Int,
                      result: Buffer, base: Int, accumulate: Bool)
    /// destination[offset + c] = Σ_r x[r, c] over rows × cols (a bias gradient), rows in order.
    case columnSums(x: Buffer, rows: Int, cols: Int, destination: Buffer, offset: Int)
}

/// Maps over elements (in place unless a destination is named).
public enum ElementwiseOp: Sendable {
    /// destination[r, :] = source[indices[indexOffset + r], :] for r < rows (int32 indices).
    /// An index outside the source's rows throws `DeviceError.outOfBounds` ("gatherRows row index
    /// (row r)") on every device: from this call where indices are on the host (CPU), else from
    /// the next `read` or `synchronize` (OpenCL records it on the device), once. Nothing is read
    /// outside the source; that destination row is NaN.
    case gatherRows(source: Buffer, indices: Buffer, indexOffset: Int, rows: Int, cols: Int, destination: Buffer)
    /// x[r, c] += bias[biasOffset + c], then x ← max(x, 0) when `relu`.
    case addBias(x: Buffer, bias: Buffer, biasOffset: Int, rows: Int, cols: Int, relu: Bool)
    /// values[i] = 0 where mask[i] ≤ 0: ReLU's backward pass through its output, or a 0/1 mask
    /// of parameters held fixed. A NaN mask keeps the value.
    case applyMask(values: Buffer, mask: Buffer, count: Int)
    /// gradient += l1·sign(w) + 2·l2·w + l2Norm·w/‖w‖₂ over w = weights[offset..<offset+count],
    /// ‖w‖₂ read from norms[normIndex] (the term is 0 where ‖w‖₂ = 0; unread when l2Norm = 0).
    /// sign(0) = 0; NaN propagates; an absent term adds nothing (not 0·w).
    case penaltyGradient(PenaltyCoefficients, weights: Buffer, gradient: Buffer, offset: Int, count: Int,
                         norms: Buffer, normIndex: Int)
    /// gradient[i] += l1[i]·sign(w[i]) + 2·l2[i]·w[i] for i < count, each parameter with its own
    /// coefficients (a zero coefficient adds no term).
    case penaltyGradientPerElement(l1: Buffer, l2: Buffer, weights: Buffer, gradient: Buffer, count: Int)
    /// The L1 proximal map w ← sign(w)·max(|w| − threshold, 0) over weights[offset..<offset+count].
    case proximalL1(weights: Buffer, offset: Int, count: Int, threshold: Float)
    /// map[indices[indexOffset + i]] = i (or −1 when `reset`) for i < rows, on an int32 map of
    /// `count` entries: a batch's position map for `sparseMatmulSelected` (set before the
    /// backward product, reset after it, so the map is all −1 between steps; O(rows)). An index
    /// outside 0..<count throws `DeviceError.outOfBounds` ("scatterPositions index (row i)") as
    /// gatherRows does; nothing outside the map is written.
    case scatterPositions(map: Buffer, count: Int, indices: Buffer, indexOffset: Int, rows: Int, reset: Bool)
}

/// The gradient of a mean data loss with respect to the logits.
public enum LossOp: Sendable {
    /// For logits [rows, cols] and targets[targetOffset..<targetOffset+rows]: the gradient of the
    /// mean loss w.r.t. the logits into `gradient` [rows, cols]. The columns are cols/classes
    /// independent models of `classes` outputs each (1 for mse and bce, the class count for
    /// ce), all sharing the row's target. Model b's loss for row r goes to rowLoss[b·rows + r]
    /// and 1 or 0 to rowCorrect[b·rows + r] (bce: logit > 0 predicts 1; ce: the first argmax;
    /// mse: 0), block-major.
    case gradient(LossKind, logits: Buffer, targets: Buffer, targetOffset: Int, rows: Int, cols: Int,
                  classes: Int, gradient: Buffer, rowLoss: Buffer, rowCorrect: Buffer)
}

/// Update rules: one step of an iterative method over parameters in place.
public enum UpdateOp: Sendable {
    /// torch.optim.SGD's rule on weights[offset..<offset+count] (see `SGDHyperparameters`).
    case sgd(SGDHyperparameters, weights: Buffer, gradient: Buffer, momentum: Buffer, offset: Int, count: Int,
             isFirstStep: Bool)
    /// torch.optim.Adam / AdamW's rule on weights[offset..<offset+count], `step` counting from 1.
    case adam(AdamHyperparameters, weights: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer,
              offset: Int, count: Int, step: Int)
    /// One accelerated proximal-gradient (FISTA) step over z, gradient and x [count]:
    /// x⁺ = prox(z − step·g), then z ← (1 + momentum)·x⁺ − momentum·x and x ← x⁺. The first
    /// rows·cols values are weights [rows, cols] whose row r gets the elastic-net prox
    /// sign(v)·max(|v| − thresholds[r], 0)·scales[r]; the rest (intercepts) take the plain step.
    case proximalGradient(z: Buffer, gradient: Buffer, x: Buffer, count: Int, rows: Int, cols: Int, step: Float,
                          momentum: Float, thresholds: Buffer, scales: Buffer)
}

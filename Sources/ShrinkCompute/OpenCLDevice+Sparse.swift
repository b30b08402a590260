// OpenCLDevice's sparse products (Kernels/sparse.cl).

extension OpenCLDevice {
    public func sparseMatmul(_ a: SparseOperand, n: Int, transposeB: Bool, alpha: Float, b: Buffer, at bOffset: Int,
                             beta: Float, c: Buffer, at cOffset: Int) throws {
        try a.validate("sparseMatmul")
        guard n >= 0 else { throw DeviceError.invalidArgument("sparseMatmul: negative n \(n)") }
        guard a.rows > 0, n > 0 else { return }
        let (m, k) = (a.rows, a.columns)
        // Rows across the work-group, fitted to the kernel's own limits as launch1D fits its kernels.
        let rowsPerGroup = try limits("sparse_matmul").fit(tuning.elementwiseLocal)
        try launch("sparse_matmul", global: [n, m], local: [1, rowsPerGroup], [
            .int(m), .int(n), .int(k), .int(a.nonZeros), .float(alpha),
            .ints(a.rowStarts, 0, m + 1), .ints(a.columnIndices, 0, a.nonZeros), .floats(a.values, 0, a.nonZeros),
            .floats(b, bOffset, k * n), .int(bOffset), .int(transposeB ? k : n), .bool(transposeB),
            .float(beta), .floats(c, cOffset, m * n), .int(cOffset), .int(n), .failureRecord,
        ])
    }
}

extension OpenCLDevice {
    /// The selected product: sparse_matmul_sel or sparse_matmul_sel_group as `SparseVariant`
    /// chooses from the tuning and the mean length of A's rows.
    public func sparseMatmul(_ a: SparseOperand, _ selection: SparseSelection, n: Int, transposeB: Bool, alpha: Float,
                             b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        let variant = SparseVariant.choose(rows: a.rows, nonZeros: a.nonZeros, tuning: tuning)
        try sparseMatmul(a, selection, n: n, transposeB: transposeB, alpha: alpha, b: b, at: bOffset, beta: beta, c: c,
                         at: cOffset, variant: variant)
    }

    /// The selected product with a given kernel (tests run both on one device).
    func sparseMatmul(_ a: SparseOperand, _ selection: SparseSelection, n: Int, transposeB: Bool, alpha: Float,
                      b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int,
                      variant: SparseVariant) throws {
        try a.validate("sparseMatmul")
        try selection.validate(a, "sparseMatmul")
        guard n >= 0 else { throw DeviceError.invalidArgument("sparseMatmul: negative n \(n)") }
        let (m, k, kb) = (selection.rows, a.columns, selection.bRowCount(k: a.columns))
        guard m > 0, n > 0 else { return }
        let rows: [Argument]
        switch selection.aRows {
        case let .range(first): rows = [.ints(a.rowStarts, 0, a.rows + 1), .int(first), .bool(false)]
        case let .indices(buffer, offset): rows = [.ints(buffer, offset, m), .int(offset), .bool(true)]
        }
        let bRows: [Argument]
        switch selection.bRows {
        case .identity: bRows = [.ints(a.rowStarts, 0, a.rows + 1), .int(0), .int(0), .int(kb)]
        case let .window(first, count): bRows = [.ints(a.rowStarts, 0, a.rows + 1), .int(1), .int(first), .int(count)]
        case let .map(buffer, count): bRows = [.ints(buffer, 0, k), .int(2), .int(0), .int(count)]
        }
        let arguments: [Argument] = [
            .int(m), .int(n), .int(k), .int(a.nonZeros), .float(alpha),
            .ints(a.rowStarts, 0, a.rows + 1), .ints(a.columnIndices, 0, a.nonZeros), .floats(a.values, 0, a.nonZeros),
            .int(a.rows),
        ] + rows + bRows + [
            .floats(b, bOffset, kb * n), .int(bOffset), .int(transposeB ? k : n), .bool(transposeB),
            .float(beta), .floats(c, cOffset, m * n), .int(cOffset), .int(selection.transposeC ? m : n),
            .bool(selection.transposeC), .failureRecord,
        ]
        switch variant {
        case .rowItems:
            let rowsPerGroup = try limits(variant.rawValue).fit(tuning.elementwiseLocal)
            try launch(variant.rawValue, global: [n, m], local: [1, rowsPerGroup], arguments)
        case .rowGroups:
            try launch(variant.rawValue, global: [n * tuning.sparseLocal, m], local: [tuning.sparseLocal, 1], arguments)
        }
    }

    public func scatterPositions(_ map: Buffer, count: Int, indices: Buffer, at indexOffset: Int, rows: Int,
                                 reset: Bool) throws {
        guard rows >= 0 else { throw DeviceError.invalidArgument("scatterPositions: negative rows \(rows)") }
        try map.checkRange(0, count, "scatterPositions map")
        try launch1D("scatter_positions", count: rows, [
            .ints(map, 0, count), .int(count), .ints(indices, indexOffset, rows), .int(indexOffset), .int(rows),
            .bool(reset), .failureRecord,
        ])
    }
}

extension OpenCLDevice {
    /// sparse_matmul_tn over min(k, sparseColumnSlices) column slices per output.
    public func sparseMatmulTransposed(_ a: SparseOperand, rows: SparseSelection.Rows, m: Int, n: Int, alpha: Float,
                                       b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        try a.validate("sparseMatmulTransposed")
        try SparseSelection.validate(rows, count: m, of: a, "sparseMatmulTransposed")
        guard n >= 0 else { throw DeviceError.invalidArgument("sparseMatmulTransposed: negative n \(n)") }
        let k = a.columns
        guard n > 0, k > 0 else { return }
        let selected: [Argument]
        switch rows {
        case let .range(first): selected = [.ints(a.rowStarts, 0, a.rows + 1), .int(first), .bool(false)]
        case let .indices(buffer, offset): selected = [.ints(buffer, offset, m), .int(offset), .bool(true)]
        }
        let slices = min(k, tuning.sparseColumnSlices)
        let local = try limits("sparse_matmul_tn").fit(tuning.elementwiseLocal)
        try launch("sparse_matmul_tn", global: [slices, n], local: [min(local, slices), 1], [
            .int(m), .int(n), .int(k), .int(a.nonZeros), .float(alpha),
            .ints(a.rowStarts, 0, a.rows + 1), .ints(a.columnIndices, 0, a.nonZeros), .floats(a.values, 0, a.nonZeros),
            .int(a.rows),
        ] + selected + [
            .floats(b, bOffset, m * n), .int(bOffset), .int(n), .float(beta),
            .floats(c, cOffset, n * k), .int(cOffset), .int(k), .int(slices), .failureRecord,
        ])
    }
}

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

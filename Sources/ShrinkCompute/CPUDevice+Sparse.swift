// CPUDevice's sparse products: the kernel's scalar twin (KernelReference.sparse_matmul), rows
// spread over the cores.

extension CPUDevice {
    public func sparseMatmul(_ a: SparseOperand, n: Int, transposeB: Bool, alpha: Float, b: Buffer, at bOffset: Int,
                             beta: Float, c: Buffer, at cOffset: Int) throws {
        counterBox.launch()
        try a.validate("sparseMatmul")
        guard n >= 0 else { throw DeviceError.invalidArgument("sparseMatmul: negative n \(n)") }
        guard a.rows > 0, n > 0 else { return }
        let (m, k) = (a.rows, a.columns)
        let starts = try host(a.rowStarts, "sparseMatmul row starts").assumingMemoryBound(to: Int32.self)
        let indices = try host(a.columnIndices, "sparseMatmul column indices").assumingMemoryBound(to: Int32.self)
        let values = try floats(a.values, 0, a.nonZeros, "sparseMatmul values")
        let pb = try floats(b, bOffset, k * n, "sparseMatmul B")
        let pc = try floats(c, cOffset, m * n, "sparseMatmul C")
        let failures = UnsafeMutablePointer<Int32>.allocate(capacity: KernelFailure.length * 64)
        failures.initialize(repeating: 0, count: KernelFailure.length * 64)
        defer { failures.deallocate() }
        // Each chunk of rows records into its own slot (no shared writes); the first recorded
        // chunk in row order is the one reported.
        let chunk = max(1, (m + 63) / 64)
        parallelFor((m + chunk - 1) / chunk, grain: 1) { range in
            for slot in range {
                KernelReference.sparse_matmul(m, n, k, a.nonZeros, alpha, starts, indices, values, pb, 0,
                                              transposeB ? k : n, transposeB, beta, pc, 0, n,
                                              failures + slot * KernelFailure.length,
                                              items: (slot * chunk)..<min((slot + 1) * chunk, m))
            }
        }
        for slot in 0..<64 {
            if let error = KernelFailure.error(failures + slot * KernelFailure.length) { throw error }
        }
    }
}

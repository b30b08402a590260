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

extension CPUDevice {
    /// The selected product as sparse_matmul_sel's scalar twin, product rows spread over the cores.
    public func sparseMatmul(_ a: SparseOperand, _ selection: SparseSelection, n: Int, transposeB: Bool, alpha: Float,
                             b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        counterBox.launch()
        try a.validate("sparseMatmul")
        try selection.validate(a, "sparseMatmul")
        guard n >= 0 else { throw DeviceError.invalidArgument("sparseMatmul: negative n \(n)") }
        let (m, k, kb) = (selection.rows, a.columns, selection.bRowCount(k: a.columns))
        guard m > 0, n > 0 else { return }
        let args = try SelectionArguments(selection, a: a, device: self)
        let starts = try host(a.rowStarts, "sparseMatmul row starts").assumingMemoryBound(to: Int32.self)
        let indices = try host(a.columnIndices, "sparseMatmul column indices").assumingMemoryBound(to: Int32.self)
        let values = try floats(a.values, 0, a.nonZeros, "sparseMatmul values")
        let pb = try floats(b, bOffset, kb * n, "sparseMatmul B")
        let pc = try floats(c, cOffset, m * n, "sparseMatmul C")
        let slots = 64
        let failures = UnsafeMutablePointer<Int32>.allocate(capacity: KernelFailure.length * slots)
        failures.initialize(repeating: 0, count: KernelFailure.length * slots)
        defer { failures.deallocate() }
        // Each chunk of rows records into its own slot; the first recorded chunk in row order is reported.
        let chunk = max(1, (m + slots - 1) / slots)
        parallelFor((m + chunk - 1) / chunk, grain: 1) { range in
            for slot in range {
                KernelReference.sparse_matmul_sel(
                    m, n, k, a.nonZeros, alpha, starts, indices, values, a.rows, args.rowIndices, args.rowFirst,
                    args.useIndices, args.map, args.bMode, args.bFirst, kb, pb, 0, transposeB ? k : n, transposeB,
                    beta, pc, 0, selection.transposeC ? m : n, selection.transposeC,
                    failures + slot * KernelFailure.length, items: (slot * chunk)..<min((slot + 1) * chunk, m))
            }
        }
        for slot in 0..<slots {
            if let error = KernelFailure.error(failures + slot * KernelFailure.length) { throw error }
        }
    }

    /// The kernel's selection arguments as host pointers (a dummy where a mode reads none).
    private struct SelectionArguments {
        var rowIndices: UnsafePointer<Int32>, rowFirst: Int, useIndices: Bool
        var map: UnsafePointer<Int32>, bMode: Int, bFirst: Int

        init(_ selection: SparseSelection, a: SparseOperand, device: CPUDevice) throws {
            let none = try device.host(a.rowStarts, "sparseMatmul row starts").assumingMemoryBound(to: Int32.self)
            switch selection.aRows {
            case let .range(first): (rowIndices, rowFirst, useIndices) = (UnsafePointer(none), first, false)
            case let .indices(buffer, offset):
                let p = try device.host(buffer, "sparseMatmul row indices").assumingMemoryBound(to: Int32.self)
                (rowIndices, rowFirst, useIndices) = (UnsafePointer(p), offset, true)
            }
            switch selection.bRows {
            case .identity: (map, bMode, bFirst) = (UnsafePointer(none), 0, 0)
            case let .window(first, _): (map, bMode, bFirst) = (UnsafePointer(none), 1, first)
            case let .map(buffer, _):
                let p = try device.host(buffer, "sparseMatmul B row map").assumingMemoryBound(to: Int32.self)
                (map, bMode, bFirst) = (UnsafePointer(p), 2, 0)
            }
        }
    }

    /// map[indices[indexOffset + i]] = i (−1 when `reset`): scatter_positions' twin.
    public func scatterPositions(_ map: Buffer, count: Int, indices: Buffer, at indexOffset: Int, rows: Int,
                                 reset: Bool) throws {
        counterBox.launch()
        try map.checkType(.int32, "scatterPositions map")
        try map.checkRange(0, count, "scatterPositions map")
        try indices.checkType(.int32, "scatterPositions indices")
        try indices.checkRange(indexOffset, rows, "scatterPositions indices")
        let pm = try host(map, "scatterPositions map").assumingMemoryBound(to: Int32.self)
        let pi = try host(indices, "scatterPositions indices").assumingMemoryBound(to: Int32.self)
        let error = withUnsafeTemporaryAllocation(of: Int32.self, capacity: KernelFailure.length) { failure in
            let record = failure.baseAddress!
            record.initialize(repeating: 0, count: KernelFailure.length)
            KernelReference.scatter_positions(pm, count, pi, indexOffset, rows, reset, record)
            return KernelFailure.error(record)
        }
        if let error { throw error }
    }
}

extension CPUDevice {
    /// sparse_matmul_tn's column slices on the CPU (its parallel items per output row of C).
    static let sparseColumnSlices = 16

    /// C = beta·C + alpha·Bᵀ·A_S [n, k] as sparse_matmul_tn's twin, the (j, slice) items spread
    /// over the cores.
    public func sparseMatmulTransposed(_ a: SparseOperand, rows: SparseSelection.Rows, m: Int, n: Int, alpha: Float,
                                       b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        counterBox.launch()
        try a.validate("sparseMatmulTransposed")
        try SparseSelection.validate(rows, count: m, of: a, "sparseMatmulTransposed")
        guard n >= 0 else { throw DeviceError.invalidArgument("sparseMatmulTransposed: negative n \(n)") }
        let k = a.columns
        guard n > 0, k > 0 else { return }
        let none = try host(a.rowStarts, "sparseMatmulTransposed row starts").assumingMemoryBound(to: Int32.self)
        let (rowIndices, rowFirst, useIndices): (UnsafeMutablePointer<Int32>, Int, Bool)
        switch rows {
        case let .range(first): (rowIndices, rowFirst, useIndices) = (none, first, false)
        case let .indices(buffer, offset):
            let p = try host(buffer, "sparseMatmulTransposed row indices").assumingMemoryBound(to: Int32.self)
            (rowIndices, rowFirst, useIndices) = (p, offset, true)
        }
        let indices = try host(a.columnIndices, "sparseMatmulTransposed column indices").assumingMemoryBound(to: Int32.self)
        let values = try floats(a.values, 0, a.nonZeros, "sparseMatmulTransposed values")
        let pb = try floats(b, bOffset, m * n, "sparseMatmulTransposed B")
        let pc = try floats(c, cOffset, n * k, "sparseMatmulTransposed C")
        let slices = min(k, Self.sparseColumnSlices)
        let failures = UnsafeMutablePointer<Int32>.allocate(capacity: KernelFailure.length * n)
        failures.initialize(repeating: 0, count: KernelFailure.length * n)
        defer { failures.deallocate() }
        // One failure slot per output row j (only its slice 0 records); the first in order is reported.
        parallelFor(n * slices, grain: 1) { range in
            for item in range {
                KernelReference.sparse_matmul_tn(m, n, k, a.nonZeros, alpha, none, indices, values, a.rows, rowIndices,
                                                 rowFirst, useIndices, pb, 0, n, beta, pc, 0, k, slices,
                                                 failures + (item / slices) * KernelFailure.length, items: item..<(item + 1))
            }
        }
        for j in 0..<n {
            if let error = KernelFailure.error(failures + j * KernelFailure.length) { throw error }
        }
    }
}

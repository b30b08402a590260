/// Tuning values for the kernels: the sizes passed to the OpenCL compiler as `-D` options and
/// the thresholds the host dispatches by. The table below is data keyed by device type, with a
/// default entry (as CLBlast keeps its tuning database); the device's own limits — its
/// work-group size and local memory, and after the build each kernel's
/// `CL_KERNEL_WORK_GROUP_SIZE` and `CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE` — fit the
/// entry to the device (`fitted`, `OpenCLDevice.localSize`). No vendor names are matched.
public struct KernelTuning: Sendable, Hashable {
    /// matmul_tiled's tile edge (local size TILE×TILE).
    public var tile: Int
    /// matmul_general / matmul_nn16 / matmul_nt local size (x, y); also column_sums_partial's.
    public var matmulLocal: (Int, Int)
    /// norm_partials' work-item count (= partials) and norm_finish's local size.
    public var normItems: Int
    public var normLocal: Int
    /// Local size of every 1-D kernel (the most; fitted per kernel at launch).
    public var elementwiseLocal: Int
    /// Prefer the register-block kernels matmul_nn16 and matmul_nt (CPU-shaped) over
    /// matmul_tiled (GPU-shaped).
    public var prefersRegisterBlocks: Bool
    /// matmul_splitk's largest work-group (SK_LOCAL, its __local floats).
    public var splitKLocal: Int
    /// matmul_splitk is chosen for skinny shapes with k ≥ splitKMinK, k ≥ max(m, n) and
    /// m·n ≤ splitKMaxOutputs (see `MatmulVariant.choose`).
    public var splitKMinK: Int
    public var splitKMaxOutputs: Int
    /// Column sums run in two stages with up to this many row slices of at least columnChunk
    /// rows each (1 slice: the one-stage kernel, one item per column).
    public var columnSlices: Int
    public var columnChunk: Int
    /// matmul_nn16_slices (CPU-type devices): k is cut into at most kSlicesMax ranges of at least
    /// kSliceChunk, and the variant is chosen when that gives ≥ 2 ranges, n ≥ 16 and matmul_nn16's
    /// grid has at most kSliceMaxBlocks 8×16 blocks (too few work-groups to fill the cores).
    public var kSlicesMax: Int
    public var kSliceChunk: Int
    public var kSliceMaxBlocks: Int
    /// sparse_matmul_sel_group's work-group (SP_LOCAL, a power of two) and the mean entries per
    /// selected row from which it is chosen over sparse_matmul_sel (`SparseVariant.choose`).
    public var sparseLocal: Int
    public var sparseGroupMinLength: Int
    /// sparse_matmul_tn's column slices per output (its work-items per row of C; at most k).
    public var sparseColumnSlices: Int

    /// Everything that tells two entries apart (the tuple field is not Hashable by itself).
    private var key: String {
        "\(options) \(matmulLocal) \(elementwiseLocal) \(prefersRegisterBlocks) \(splitKMinK) \(splitKMaxOutputs) \(columnSlices) \(columnChunk) \(kSlicesMax) \(kSliceChunk) \(kSliceMaxBlocks) \(sparseLocal) \(sparseGroupMinLength) \(sparseColumnSlices)"
    }
    public static func == (l: KernelTuning, r: KernelTuning) -> Bool { l.key == r.key }
    public func hash(into h: inout Hasher) { h.combine(key) }

    /// The default entry: GPU-shaped kernels (local-memory tiles and reductions).
    public static let `default` = KernelTuning(
        tile: 16, matmulLocal: (16, 16), normItems: 4096, normLocal: 64,
        elementwiseLocal: 256, prefersRegisterBlocks: false, splitKLocal: 256, splitKMinK: 64,
        splitKMaxOutputs: 1 << 16, columnSlices: 256, columnChunk: 64,
        kSlicesMax: 1, kSliceChunk: .max, kSliceMaxBlocks: 0, sparseLocal: 64, sparseGroupMinLength: 16,
        sparseColumnSlices: 1024)

    /// CPU-type devices such as PoCL: register blocks, few partials, no local-memory tiles.
    /// matmul_splitk measured slower than the register blocks on every skinny shape on PoCL
    /// (README, Performance), so it is never chosen there; two-stage column sums only from
    /// 1024 rows (10000×10: 101 µs against 123 µs; 1000×1 and 800×50 were slower in two).
    public static let cpu = KernelTuning(
        tile: 16, matmulLocal: (8, 8), normItems: 256, normLocal: 64,
        elementwiseLocal: 64, prefersRegisterBlocks: true, splitKLocal: 64, splitKMinK: .max,
        splitKMaxOutputs: 0, columnSlices: 16, columnChunk: 512,
        kSlicesMax: 16, kSliceChunk: 256, kSliceMaxBlocks: 64, sparseLocal: 64, sparseGroupMinLength: .max,
        sparseColumnSlices: 16)

    /// The table: the entry for a device type, fitted to the device's limits.
    public static func forDevice(type: OpenCLDeviceType, maxWorkGroupSize: Int,
                                 localMemory: Int = 32 * 1024) -> KernelTuning {
        (type == .cpu ? KernelTuning.cpu : .default).fitted(to: maxWorkGroupSize, localMemory: localMemory)
    }

    /// Shrinks local sizes that exceed the device's work-group limit or local memory.
    func fitted(to maxWorkGroupSize: Int, localMemory: Int = 32 * 1024) -> KernelTuning {
        var t = self
        let floats = localMemory / 4
        // matmul_tiled holds TILE·TILE + TILE·(TILE + 1) floats in __local.
        while (t.tile * t.tile > maxWorkGroupSize || 2 * t.tile * t.tile + t.tile > floats) && t.tile > 1 { t.tile /= 2 }
        while t.matmulLocal.0 * t.matmulLocal.1 > maxWorkGroupSize && t.matmulLocal.0 > 1 {
            t.matmulLocal = (t.matmulLocal.0 / 2, t.matmulLocal.1 / 2)
        }
        t.normLocal = min(t.normLocal, maxWorkGroupSize, floats)
        t.elementwiseLocal = min(t.elementwiseLocal, maxWorkGroupSize)
        while t.splitKLocal > min(maxWorkGroupSize, floats) && t.splitKLocal > 1 { t.splitKLocal /= 2 }
        while t.sparseLocal > min(maxWorkGroupSize, floats / 2) && t.sparseLocal > 1 { t.sparseLocal /= 2 }
        return t
    }

    /// Reductions up to this length run as one launch (norm_small); longer ones in two stages.
    static let normSmallCount = 16_384

    /// The fixed blocks of matmul_nn16 (8 rows × 16 columns) and matmul_nt (4 × 4).
    static let nnRows = 8, ntRows = 4, ntCols = 4

    /// The compiler options: the OpenCL C version and one -D per value.
    public var options: String {
        "-cl-std=CL1.2 -DTILE=\(tile) " +
            "-DNORM_ITEMS=\(normItems) -DNORM_LOCAL=\(normLocal) -DSK_LOCAL=\(splitKLocal) -DSP_LOCAL=\(sparseLocal)"
    }

    /// matmul_splitk's work-group (lx, ly) for n columns within `limit` items: lx columns
    /// (1 for a GEMV, else up to 16), ly a power of two of k-slices.
    static func splitKGroup(n: Int, limit: Int) -> (Int, Int) {
        var lx = 1
        while lx < min(n, 16, limit) { lx *= 2 }
        var ly = 1
        while ly * 2 * lx <= limit { ly *= 2 }
        return (lx, ly)
    }

    /// matmul_nn16_slices' k-ranges for a shape: k / kSliceChunk, at most kSlicesMax, at least 1.
    func kSlices(k: Int) -> Int {
        max(1, min(kSlicesMax, k / max(kSliceChunk, 1)))
    }

    /// Row slices of a two-stage column sum (1 = the one-stage kernel): at least columnChunk
    /// rows each, at most `columnSlices`, and the partials (slices × cols) must fit `normItems`.
    func columnSumSlices(rows: Int, cols: Int) -> Int {
        guard cols > 0 else { return 1 }
        return max(1, min(columnSlices, rows / columnChunk, normItems / cols))
    }
}

/// The kernels of sparse.cl's selected product.
public enum SparseVariant: String, Sendable, CaseIterable {
    /// An item per (row, column) of the product, summing its row in stored order (CPU-type devices).
    case rowItems = "sparse_matmul_sel"
    /// A work-group of SP_LOCAL items per (row, column), strided partials added by a fixed tree
    /// (GPU-type devices, rows long enough to share).
    case rowGroups = "sparse_matmul_sel_group"

    /// rowGroups when the selected rows hold at least `sparseGroupMinLength` entries on average
    /// (never on the `cpu` entry), else rowItems.
    public static func choose(rows: Int, nonZeros: Int, tuning: KernelTuning) -> SparseVariant {
        guard rows > 0, tuning.sparseGroupMinLength != .max else { return .rowItems }
        return nonZeros / rows >= tuning.sparseGroupMinLength ? .rowGroups : .rowItems
    }
}

/// The matmul kernels of matmul.cl.
public enum MatmulVariant: String, Sendable, CaseIterable {
    case general = "matmul_general"
    case tiled = "matmul_tiled"
    case nn16 = "matmul_nn16"
    case nt = "matmul_nt"
    case splitK = "matmul_splitk"
    case nn16Slices = "matmul_nn16_slices"

    /// Whether the kernel handles this shape's transposes (nn16: B not transposed; nt: only A·Bᵀ).
    public func accepts(_ shape: MatmulShape) -> Bool {
        switch self {
        case .general, .tiled, .splitK: return true
        case .nn16, .nn16Slices: return !shape.transposeB
        case .nt: return shape.transposeB && !shape.transposeA
        }
    }

    /// The kernel for a shape. A skinny product with a long k (k ≥ splitKMinK and ≥ max(m, n),
    /// m·n ≤ splitKMaxOutputs, and on GPU-type devices m or n under one tile) takes the
    /// k-parallel `splitK`. Otherwise CPU-type devices: float16 register
    /// blocks — `nt` for A·Bᵀ, `nn16` whenever B is not transposed (`nn16Slices` when n ≥ 16, k makes
    /// ≥ 2 ranges and nn16 would have at most kSliceMaxBlocks blocks; below 16 columns both kernels
    /// take a scalar path and the split measured no faster), `general` for Aᵀ·Bᵀ (no caller
    /// asks for it). Others:
    /// local-memory tiles when every dimension fills at least one tile, else the general kernel.
    public static func choose(_ shape: MatmulShape, tuning: KernelTuning) -> MatmulVariant {
        if shape.m == 0 || shape.n == 0 { return .general }
        let skinny = tuning.prefersRegisterBlocks || min(shape.m, shape.n) < tuning.tile
        if skinny, shape.k >= tuning.splitKMinK, shape.k >= max(shape.m, shape.n),
           shape.m * shape.n <= tuning.splitKMaxOutputs {
            return .splitK
        }
        if tuning.prefersRegisterBlocks {
            if !shape.transposeB {
                let blocks = (shape.n + 15) / 16 * ((shape.m + KernelTuning.nnRows - 1) / KernelTuning.nnRows)
                let slices = shape.n >= 16 && tuning.kSlices(k: shape.k) > 1 && blocks <= tuning.kSliceMaxBlocks
                return slices ? .nn16Slices : .nn16
            }
            return shape.transposeA ? .general : .nt
        }
        let t = tuning.tile
        return shape.m >= t && shape.n >= t && shape.k >= t ? .tiled : .general
    }
}

/// Tuning values for the kernels, passed to the OpenCL compiler as `-D` options.
/// One table keyed by device type and vendor, with a default entry (STYLE §4).
public struct KernelTuning: Sendable, Hashable {
    /// matmul_tiled's tile edge (local size TILE×TILE).
    public var tile: Int
    /// matmul_general / matmul_nn16 / matmul_nt local size (x, y).
    public var matmulLocal: (Int, Int)
    /// norm_partials' work-item count (= partials) and norm_finish's local size.
    public var normItems: Int
    public var normLocal: Int
    /// Local size of every 1-D kernel.
    public var elementwiseLocal: Int
    /// Prefer the register-block kernels matmul_nn16 and matmul_nt (CPU-shaped) over
    /// matmul_tiled (GPU-shaped).
    public var prefersRegisterBlocks: Bool

    public static func == (l: KernelTuning, r: KernelTuning) -> Bool { l.options == r.options }
    public func hash(into h: inout Hasher) { h.combine(options) }

    /// The default entry: GPU-shaped kernels with conservative sizes.
    public static let `default` = KernelTuning(
        tile: 16, matmulLocal: (16, 16), normItems: 4096, normLocal: 64,
        elementwiseLocal: 64, prefersRegisterBlocks: false)

    /// CPU-type devices such as PoCL: register blocks, few partials, no local-memory tiles.
    public static let cpu = KernelTuning(
        tile: 16, matmulLocal: (8, 8), normItems: 256, normLocal: 64,
        elementwiseLocal: 64, prefersRegisterBlocks: true)

    /// The table: the entry for a device of `type` made by `vendor`.
    public static func forDevice(type: OpenCLDeviceType, vendor: String, maxWorkGroupSize: Int) -> KernelTuning {
        var entry: KernelTuning
        switch type {
        case .cpu: entry = .cpu
        case .gpu where vendor.localizedCaseInsensitiveContains("nvidia"),
             .gpu where vendor.localizedCaseInsensitiveContains("amd") || vendor.localizedCaseInsensitiveContains("advanced micro"):
            entry = .default; entry.normItems = 16384; entry.elementwiseLocal = 256
        case .gpu where vendor.localizedCaseInsensitiveContains("intel"):
            entry = .default; entry.tile = 8; entry.matmulLocal = (8, 8); entry.elementwiseLocal = 128
        default: entry = .default
        }
        return entry.fitted(to: maxWorkGroupSize)
    }

    /// Shrinks local sizes that exceed the device's work-group limit.
    func fitted(to maxWorkGroupSize: Int) -> KernelTuning {
        var t = self
        while t.tile * t.tile > maxWorkGroupSize && t.tile > 1 { t.tile /= 2 }
        while t.matmulLocal.0 * t.matmulLocal.1 > maxWorkGroupSize && t.matmulLocal.0 > 1 {
            t.matmulLocal = (t.matmulLocal.0 / 2, t.matmulLocal.1 / 2)
        }
        t.normLocal = min(t.normLocal, maxWorkGroupSize)
        t.elementwiseLocal = min(t.elementwiseLocal, maxWorkGroupSize)
        return t
    }

    /// Reductions up to this length run as one launch (norm_small); longer ones in two stages.
    static let normSmallCount = 16_384

    /// The fixed blocks of matmul_nn16 (8 rows × 16 columns) and matmul_nt (4 × 4).
    static let nnRows = 8, ntRows = 4, ntCols = 4

    /// The compiler options: the OpenCL C version and one -D per value.
    public var options: String {
        "-cl-std=CL1.2 -DTILE=\(tile) " +
            "-DNORM_ITEMS=\(normItems) -DNORM_LOCAL=\(normLocal)"
    }
}

/// The matmul kernels of matmul.cl.
public enum MatmulVariant: String, Sendable, CaseIterable {
    case general = "matmul_general"
    case tiled = "matmul_tiled"
    case nn16 = "matmul_nn16"
    case nt = "matmul_nt"

    /// Whether the kernel handles this shape's transposes (nn16: B not transposed; nt: only A·Bᵀ).
    public func accepts(_ shape: MatmulShape) -> Bool {
        switch self {
        case .general, .tiled: return true
        case .nn16: return !shape.transposeB
        case .nt: return shape.transposeB && !shape.transposeA
        }
    }

    /// The kernel for a shape. CPU-type devices: float16 register blocks — `nt` for A·Bᵀ,
    /// `nn16` whenever B is not transposed, `general` for Aᵀ·Bᵀ (no caller asks for it). Others: local-memory tiles when
    /// every dimension fills at least one tile, else the general kernel.
    public static func choose(_ shape: MatmulShape, tuning: KernelTuning) -> MatmulVariant {
        if shape.m == 0 || shape.n == 0 { return .general }
        if tuning.prefersRegisterBlocks {
            if !shape.transposeB { return .nn16 }
            return shape.transposeA ? .general : .nt
        }
        let t = tuning.tile
        return shape.m >= t && shape.n >= t && shape.k >= t ? .tiled : .general
    }
}

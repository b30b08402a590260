// The OpenCL C sources of Kernels/*.cl, compiled into the binary by SwiftPM's
// `.embedInCode`, so a copied `shrink` binary still has its kernels.

/// Every kernel file, in build order, as (file name, source text).
public enum KernelSources {
    public static let files: [(name: String, source: String)] = [
        ("common.cl", text(PackageResources.common_cl)),
        ("matmul.cl", text(PackageResources.matmul_cl)),
        ("norm.cl", text(PackageResources.norm_cl)),
        ("penalty.cl", text(PackageResources.penalty_cl)),
        ("elementwise.cl", text(PackageResources.elementwise_cl)),
        ("loss.cl", text(PackageResources.loss_cl)),
        ("optimizer.cl", text(PackageResources.optimizer_cl)),
        ("proximal.cl", text(PackageResources.proximal_cl)),
        ("sparse.cl", text(PackageResources.sparse_cl)),
    ]

    /// One program text: each file prefixed by a `#line` directive so build logs name it.
    public static var program: String {
        files.map { "#line 1 \"\($0.name)\"\n\($0.source)" }.joined(separator: "\n")
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

import Foundation

/// Reductions on the host, accumulated in Double: the CPU device's fast `norm` and `norms`
/// (the kernels' compensated-Float twins are KernelReference.norm_*; the loss, penalty and
/// optimizer element formulas live there too).
enum HostReduction {
    static func reduce(_ kind: NormKind, _ x: UnsafeBufferPointer<Float>) -> Double {
        switch kind {
        case .sum: return sum(x) { Double($0) }
        case .l1: return sum(x) { Double(abs($0)) }
        case .l2: return sum(x) { Double($0) * Double($0) }.squareRoot()
        case .l2Squared: return sum(x) { Double($0) * Double($0) }
        }
    }

    /// Σ f(x) with four independent Double accumulators (vectorizes, and rounds far below Float).
    @inline(__always)
    private static func sum(_ x: UnsafeBufferPointer<Float>, _ f: (Float) -> Double) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        let n = x.count
        while i + 4 <= n {
            s0 += f(x[i]); s1 += f(x[i + 1]); s2 += f(x[i + 2]); s3 += f(x[i + 3])
            i += 4
        }
        while i < n { s0 += f(x[i]); i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}

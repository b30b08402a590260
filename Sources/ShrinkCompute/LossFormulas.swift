import Foundation

/// A float type the loss formulas run in: Float for the host twin of the kernels, Double for
/// the exact solvers, predictions and metrics.
public protocol LossScalar: BinaryFloatingPoint {
    static func exponential(_ x: Self) -> Self
    static func logarithm(_ x: Self) -> Self
    static func logarithmOnePlus(_ x: Self) -> Self
}

extension Float: LossScalar {
    @inlinable public static func exponential(_ x: Float) -> Float { Foundation.exp(x) }
    @inlinable public static func logarithm(_ x: Float) -> Float { Foundation.log(x) }
    @inlinable public static func logarithmOnePlus(_ x: Float) -> Float { Foundation.log1p(x) }
}

extension Double: LossScalar {
    @inlinable public static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func logarithm(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable public static func logarithmOnePlus(_ x: Double) -> Double { Foundation.log1p(x) }
}

/// The logistic and softmax formulas, written once (the OpenCL kernels in loss.cl are their
/// device twins): every host-side loss, gradient, probability and metric calls these.
public enum LossFormula {
    /// σ(z) = 1 / (1 + e^−z), without overflow for either sign.
    @inlinable public static func sigmoid<T: LossScalar>(_ z: T) -> T {
        if z >= 0 { return 1 / (1 + T.exponential(-z)) }
        let e = T.exponential(z)
        return e / (1 + e)
    }

    /// BCEWithLogits of one logit z and target y: max(z, 0) − z·y + log(1 + e^−|z|).
    @inlinable public static func binaryCrossEntropy<T: LossScalar>(logit z: T, target y: T) -> T {
        max(z, 0) - z * y + T.logarithmOnePlus(T.exponential(-abs(z)))
    }

    /// log Σ e^{zᵢ}, computed as max + log Σ e^{zᵢ − max} (no overflow, no rounding at the
    /// logits' magnitude in the differences).
    @inlinable public static func logSumExp<T: LossScalar, C: Collection<T>>(_ z: C) -> T {
        let top = z.max() ?? 0
        guard top.isFinite else { return top }
        return top + T.logarithm(z.reduce(T(0)) { $0 + T.exponential($1 - top) })
    }

    /// softmax(z)ⱼ = e^{zⱼ − max z} / Σ e^{zᵢ − max z}.
    @inlinable public static func softmax<T: LossScalar, C: Collection<T>>(_ z: C) -> [T] {
        let top = z.max() ?? 0
        let e = z.map { T.exponential($0 - top) }
        let sum = e.reduce(T(0), +)
        return e.map { $0 / sum }
    }
}

import Foundation

/// Reductions on the host, accumulated in Double (the CPU device's `norm`).
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

/// One row of a loss and its gradient (the CPU device's `lossGradient`; loss.cl mirrors it).
enum HostLoss {
    struct Row {
        var loss: Float
        var correct: Bool
    }

    /// One model's row (one logit for mse and bce, the classes for ce): writes scale·∂loss/∂z
    /// into `gradient` and returns the row's loss.
    static func row(_ kind: LossKind, logits z: UnsafeBufferPointer<Float>, target y: Float,
                    gradient g: UnsafeMutableBufferPointer<Float>, scale: Float) -> Row {
        switch kind {
        case .mse:
            let d = z[0] - y
            g[0] = 2 * d * scale
            return Row(loss: d * d, correct: false)
        case .bce:
            let x = z[0]
            g[0] = (LossFormula.sigmoid(x) - y) * scale
            return Row(loss: LossFormula.binaryCrossEntropy(logit: x, target: y), correct: (x > 0) == (y > 0.5))
        case .ce:
            var best = 0
            var top = -Float.infinity
            for c in 0..<z.count where z[c] > top || z[c].isNaN {
                top = z[c]; best = c
                if top.isNaN { break }
            }
            var total: Float = 0
            for c in 0..<z.count {  // e^{z−max} once, kept in the gradient slot
                g[c] = exp(z[c] - top)
                total += g[c]
            }
            let label = Int(exactly: y) ?? -1
            let inverse = 1 / total
            for c in 0..<z.count {
                g[c] = (g[c] * inverse - (c == label ? 1 : 0)) * scale
            }
            // logsumexp − z_y as log(Σ e^{z−max}) − (z_y − max): no rounding at the logits' magnitude.
            let loss = label >= 0 && label < z.count ? log(total) - (z[label] - top) : .nan
            return Row(loss: loss, correct: best == label)
        }
    }
}

/// One element of each optimizer update (the CPU device's; optimizer.cl mirrors it).
enum HostOptimizer {
    @inline(__always)
    static func sgd(_ h: SGDHyperparameters, weight w: Float, gradient: Float,
                    momentum buffer: UnsafeMutablePointer<Float>?, isFirstStep: Bool) -> Float {
        var d = gradient
        if h.weightDecay != 0 { d += h.weightDecay * w }
        if h.momentum != 0, let buffer {
            let b = isFirstStep ? d : h.momentum * buffer.pointee + (1 - h.dampening) * d
            buffer.pointee = b
            d = h.nesterov ? d + h.momentum * b : b
        }
        return w - h.learningRate * d
    }

    @inline(__always)
    static func adam(_ h: AdamHyperparameters, weight: Float, gradient: Float,
                     m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                     stepSize: Float, sqrtCorrection2: Float) -> Float {
        var w = weight
        var g = gradient
        if h.weightDecay != 0 {
            if h.decoupled { w *= 1 - h.learningRate * h.weightDecay } else { g += h.weightDecay * w }
        }
        m.pointee += (1 - h.beta1) * (g - m.pointee)
        v.pointee = h.beta2 * v.pointee + (1 - h.beta2) * g * g
        let denom = v.pointee.squareRoot() / sqrtCorrection2 + h.epsilon
        return w - stepSize * m.pointee / denom
    }
}

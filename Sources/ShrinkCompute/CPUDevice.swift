import CBLAS
import Foundation

/// Host memory of a `CPUDevice` buffer.
final class HostStorage {
    let pointer: UnsafeMutableRawPointer
    init(pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
    deinit { free(pointer) }

    func floats(_ count: Int) -> UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
}

/// The host device: OpenBLAS `cblas_sgemm` for products, Double-accumulated reductions, and
/// for the rest the scalar kernel twins of `KernelReference` (each formula written once), with
/// SIMD bodies where they pay (penalties, masks). Every operation runs synchronously on the
/// calling thread or in chunks over the cores (OpenBLAS uses its own threads).
public final class CPUDevice: Device {
    public let name: String
    public var kind: DeviceKind { .cpu }
    private let memoryLimit: Int
    let counterBox = CounterBox()
    public var counters: DeviceCounters { counterBox.current }

    /// - Parameter blasThreads: OpenBLAS threads (default: all cores).
    public init(blasThreads: Int? = nil) {
        if let blasThreads { openblas_set_num_threads(Int32(blasThreads)) }
        name = "CPU (OpenBLAS, \(openblas_get_num_threads()) threads)"
        memoryLimit = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    // MARK: Memory

    public func makeBuffer(count: Int, type: ElementType) throws -> Buffer {
        guard count > 0 else { throw DeviceError.zeroSizeAllocation }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, bytes <= memoryLimit else {
            throw DeviceError.allocationTooLarge(bytes: overflow ? Int.max : bytes, limit: memoryLimit, device: name)
        }
        guard let pointer = calloc(count, type.size) else { throw DeviceError.outOfMemory(bytes: bytes, device: name) }
        return Buffer(count: count, type: type, storage: HostStorage(pointer: pointer))
    }

    public func write(_ values: UnsafeRawBufferPointer, to buffer: Buffer, at offset: Int) throws {
        counterBox.transfer()
        let count = values.count / buffer.type.size
        try buffer.checkRange(offset, count, "write")
        guard count > 0, let base = values.baseAddress else { return }
        try host(buffer, "write").advanced(by: offset * buffer.type.size).copyMemory(from: base, byteCount: count * buffer.type.size)
    }

    public func read(_ buffer: Buffer, at offset: Int, count: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        counterBox.transfer()
        try buffer.checkRange(offset, count, "read")
        guard destination.count >= count * buffer.type.size else {
            throw DeviceError.invalidArgument("read: destination holds \(destination.count) bytes, \(count * buffer.type.size) needed")
        }
        guard count > 0, let base = destination.baseAddress else { return }
        base.copyMemory(from: try host(buffer, "read").advanced(by: offset * buffer.type.size), byteCount: count * buffer.type.size)
    }

    public func copy(_ source: Buffer, at sourceOffset: Int, to destination: Buffer, at destinationOffset: Int, count: Int) throws {
        counterBox.launch()
        try source.checkRange(sourceOffset, count, "copy source")
        try destination.checkRange(destinationOffset, count, "copy destination")
        try destination.checkType(source.type, "copy")
        let size = source.type.size
        guard count > 0 else { return }
        try host(destination, "copy").advanced(by: destinationOffset * size)
            .copyMemory(from: try host(source, "copy").advanced(by: sourceOffset * size), byteCount: count * size)
    }

    public func fill(_ buffer: Buffer, at offset: Int, count: Int, with value: Float) throws {
        counterBox.launch()
        KernelReference.fill_float(try floats(buffer, offset, count, "fill"), 0, count, value)
    }

    public func synchronize() throws {}

    // MARK: Linear algebra

    public func matmul(_ shape: MatmulShape, alpha: Float, a: Buffer, at aOffset: Int,
                       b: Buffer, at bOffset: Int, beta: Float, c: Buffer, at cOffset: Int) throws {
        counterBox.launch()
        try shape.validate()
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let pa = try floats(a, aOffset, m * k, "matmul A")
        let pb = try floats(b, bOffset, k * n, "matmul B")
        let pc = try floats(c, cOffset, m * n, "matmul C")
        guard m > 0, n > 0 else { return }
        if k == 0 {  // BLAS leaves C alone when k = 0 only if beta = 1; define it as C ← beta·C.
            for i in 0..<(m * n) { pc[i] = beta == 0 ? 0 : beta * pc[i] }
            return
        }
        cblas_sgemm(CblasRowMajor, shape.transposeA ? CblasTrans : CblasNoTrans,
                    shape.transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, pa, Int32(shape.lda), pb, Int32(shape.ldb),
                    beta, pc, Int32(shape.ldc))
    }

    public func norm(_ kind: NormKind, of x: Buffer, at offset: Int, count: Int,
                     into result: Buffer, at index: Int, scale: Float, accumulate: Bool) throws {
        counterBox.launch()
        let values = try floats(x, offset, count, "norm")
        let out = try floats(result, index, 1, "norm result")
        let value = HostReduction.reduce(kind, UnsafeBufferPointer(start: values, count: count))
        out[0] = Float((accumulate ? Double(out[0]) : 0) + Double(scale) * value)
    }

    /// A segment outside x or a destination outside result throws `DeviceError.outOfBounds`
    /// ("norms segment i" / "norms result (segment i)", as OpenCL's failure record), before
    /// that segment is written; the segments before it are written.
    public func norms(_ kind: NormKind, of x: Buffer, segments: Buffer, scales: Buffer, segmentCount: Int,
                      into result: Buffer, at base: Int, accumulate: Bool) throws {
        counterBox.launch()
        try segments.checkType(.int32, "norms segments")
        try segments.checkRange(0, 3 * segmentCount, "norms segments")
        let table = try host(segments, "norms segments").assumingMemoryBound(to: Int32.self)
        let scale = try floats(scales, 0, segmentCount, "norms scales")
        let px = try floats(x, 0, x.count, "norms x"), out = try floats(result, 0, result.count, "norms result")
        for i in 0..<segmentCount {
            let (offset, count, index) = (Int(table[3 * i]), Int(table[3 * i + 1]), base + Int(table[3 * i + 2]))
            guard KernelReference.segment_valid(offset, count, x.count) else {
                throw KernelFailure.error(.normsSegment, item: i, offset: offset, count: count, bound: x.count)
            }
            guard index >= 0, index < result.count else {
                throw KernelFailure.error(.normsResult, item: i, offset: index, count: 1, bound: result.count)
            }
            let value = HostReduction.reduce(kind, UnsafeBufferPointer(start: px + offset, count: count))
            out[index] = Float((accumulate ? Double(out[index]) : 0) + Double(scale[i]) * value)
        }
    }

    // MARK: Penalties

    public func penaltyGradient(_ penalty: PenaltyCoefficients, weights: Buffer, gradient: Buffer,
                                at offset: Int, count: Int, norms: Buffer, normIndex: Int) throws {
        counterBox.launch()
        let w = try floats(weights, offset, count, "penaltyGradient weights")
        let g = try floats(gradient, offset, count, "penaltyGradient gradient")
        let n = penalty.l2Norm != 0 ? UnsafePointer(try floats(norms, normIndex, 1, "penaltyGradient norms")) : nil
        let normScale = n.map { KernelReference.penalty_norm_scale(penalty.l2Norm, $0[0]) } ?? 0
        let twoL2 = 2 * penalty.l2
        let l1 = penalty.l1
        parallelFor(count, grain: 65_536) { range in
            // Only the terms present: an absent term's 0·w turns an infinite w into NaN. Eight
            // lanes at a time without branches (sign(w) of mixed signs mispredicts per element).
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let x = UnsafeRawPointer(w + i).loadUnaligned(as: SIMD8<Float>.self)
                var d = SIMD8<Float>(repeating: 0)
                if l1 != 0 {  // sign with sign(0) = 0 and sign(NaN) = NaN: x·0, then ±1
                    let sign = (x * 0).replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0)
                    d += l1 * sign
                }
                if twoL2 != 0 { d += twoL2 * x }
                if normScale != 0 { d += normScale * x }
                let target = UnsafeMutableRawPointer(g + i)
                target.storeBytes(of: target.loadUnaligned(as: SIMD8<Float>.self) + d, as: SIMD8<Float>.self)
                i += 8
            }
            KernelReference.penalty_gradient(w, g, 0, count, l1, penalty.l2, penalty.l2Norm, n, 0,
                                             items: i..<range.upperBound)
        }
    }

    public func penaltyGradient(l1: Buffer, l2: Buffer, weights: Buffer, gradient: Buffer, count: Int) throws {
        counterBox.launch()
        let w = try floats(weights, 0, count, "penaltyGradient weights")
        let g = try floats(gradient, 0, count, "penaltyGradient gradient")
        let a = try floats(l1, 0, count, "penaltyGradient l1"), b = try floats(l2, 0, count, "penaltyGradient l2")
        parallelFor(count, grain: 65_536) { range in
            // Eight lanes at a time without branches; a zero coefficient's lanes add exactly 0
            // (masked, so 0·∞ never makes a NaN).
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let x = UnsafeRawPointer(w + i).loadUnaligned(as: SIMD8<Float>.self)
                let c1 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                let c2 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
                let sign = (x * 0).replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0)
                let d = (c1 * sign).replacing(with: 0, where: c1 .== 0) + (2 * c2 * x).replacing(with: 0, where: c2 .== 0)
                let target = UnsafeMutableRawPointer(g + i)
                target.storeBytes(of: target.loadUnaligned(as: SIMD8<Float>.self) + d, as: SIMD8<Float>.self)
                i += 8
            }
            KernelReference.penalty_vector(w, g, a, b, count, items: i..<range.upperBound)
        }
    }

    public func proximalL1(_ weights: Buffer, at offset: Int, count: Int, threshold: Float) throws {
        counterBox.launch()
        let w = try floats(weights, offset, count, "proximalL1")
        parallelFor(count, grain: 65_536) { range in KernelReference.proximal_l1(w, 0, count, threshold, items: range) }
    }

    // MARK: Layers

    /// An index outside the source's rows throws `DeviceError.outOfBounds` ("gatherRows row
    /// index (row r)", as OpenCL's failure record) after the gather, whose row r is then NaN.
    public func gatherRows(_ source: Buffer, indices: Buffer, at indexOffset: Int, rows: Int, cols: Int,
                           into destination: Buffer) throws {
        counterBox.launch()
        try indices.checkType(.int32, "gatherRows indices")
        try indices.checkRange(indexOffset, rows, "gatherRows indices")
        let index = try host(indices, "gatherRows").assumingMemoryBound(to: Int32.self)
        let src = try floats(source, 0, source.count, "gatherRows source")
        let dst = try floats(destination, 0, rows * cols, "gatherRows destination")
        // The record on the stack: this runs once per training step.
        let error = withUnsafeTemporaryAllocation(of: Int32.self, capacity: KernelFailure.length) { failure in
            let record = failure.baseAddress!
            record.initialize(repeating: 0, count: KernelFailure.length)
            KernelReference.gather_rows(src, source.count / max(cols, 1), index, indexOffset, rows, cols, dst, record)
            return KernelFailure.error(record)
        }
        if let error { throw error }
    }

    public func addBias(_ x: Buffer, bias: Buffer, at biasOffset: Int, rows: Int, cols: Int, relu: Bool) throws {
        counterBox.launch()
        let px = try floats(x, 0, rows * cols, "addBias x")
        let pb = try floats(bias, biasOffset, cols, "addBias bias")
        parallelFor(rows, grain: max(1, 16_384 / max(cols, 1))) { range in
            for r in range {
                let row = px + r * cols
                if relu {
                    for c in 0..<cols { row[c] = KernelReference.add_bias_element(row[c], pb[c], true) }
                } else {
                    for c in 0..<cols { row[c] = KernelReference.add_bias_element(row[c], pb[c], false) }
                }
            }
        }
    }

    public func applyMask(_ values: Buffer, mask: Buffer, count: Int) throws {
        counterBox.launch()
        let g = try floats(values, 0, count, "applyMask values")
        let a = try floats(mask, 0, count, "applyMask mask")
        parallelFor(count, grain: 65_536) { range in
            // Eight lanes at a time, without a branch (a random sign pattern mispredicts one per
            // element); a NaN mask keeps its value (NaN <= 0 is false).
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let ga = UnsafeMutableRawPointer(g + i), aa = UnsafeRawPointer(a + i)
                let lanes = ga.loadUnaligned(as: SIMD8<Float>.self)
                ga.storeBytes(of: lanes.replacing(with: 0, where: aa.loadUnaligned(as: SIMD8<Float>.self) .<= 0),
                              as: SIMD8<Float>.self)
                i += 8
            }
            KernelReference.apply_mask(g, a, count, items: i..<range.upperBound)
        }
    }

    public func columnSums(_ x: Buffer, rows: Int, cols: Int, into destination: Buffer, at offset: Int) throws {
        counterBox.launch()
        let px = try floats(x, 0, rows * cols, "columnSums x")
        let out = try floats(destination, offset, cols, "columnSums destination")
        // Rows outer (contiguous loads); each column still sums its rows in order.
        parallelFor(cols, grain: 256) { range in
            let chunk = out + range.lowerBound
            for c in 0..<range.count { chunk[c] = 0 }
            for r in 0..<rows {
                let row = px + r * cols + range.lowerBound
                for c in 0..<range.count { chunk[c] += row[c] }
            }
        }
    }

    // MARK: Loss

    public func lossGradient(_ loss: LossKind, logits: Buffer, targets: Buffer, at targetOffset: Int,
                             rows: Int, cols: Int, classes: Int, gradient: Buffer, rowLoss: Buffer,
                             rowCorrect: Buffer) throws {
        counterBox.launch()
        let blocks = try lossBlocks(loss, cols: cols, classes: classes)
        let z = try floats(logits, 0, rows * cols, "lossGradient logits")
        let y = try floats(targets, targetOffset, rows, "lossGradient targets")
        let g = try floats(gradient, 0, rows * cols, "lossGradient gradient")
        let l = try floats(rowLoss, 0, rows * blocks, "lossGradient rowLoss")
        let ok = try floats(rowCorrect, 0, rows * blocks, "lossGradient rowCorrect")
        guard rows > 0 else { return }
        let invRows = 1 / Float(rows)
        parallelFor(rows, grain: max(64, 8_192 / max(cols, 1))) { range in
            KernelReference.loss_gradient(loss.kernelCode, z, y, 0, rows, cols, classes, invRows, g, l, ok, items: range)
        }
    }

    // MARK: Optimizers

    public func sgdStep(_ hyper: SGDHyperparameters, weights: Buffer, gradient: Buffer, momentum: Buffer,
                        at offset: Int, count: Int, isFirstStep: Bool) throws {
        counterBox.launch()
        let w = try floats(weights, offset, count, "sgdStep weights")
        let g = try floats(gradient, offset, count, "sgdStep gradient")
        let b = hyper.momentum != 0 ? try floats(momentum, offset, count, "sgdStep momentum") : nil
        let h = hyper
        parallelFor(count, grain: 65_536) { range in
            KernelReference.sgd_step(w, g, b, 0, count, h.learningRate, h.momentum, h.dampening, h.weightDecay,
                                     h.nesterov, isFirstStep, items: range)
        }
    }

    public func fistaStep(z: Buffer, gradient: Buffer, x: Buffer, count: Int, rows: Int, cols: Int, step: Float,
                          momentum: Float, thresholds: Buffer, scales: Buffer) throws {
        counterBox.launch()
        guard rows * cols <= count else {
            throw DeviceError.invalidArgument("fistaStep: \(rows)×\(cols) weights exceed \(count) values")
        }
        let pz = try floats(z, 0, count, "fistaStep z"), g = try floats(gradient, 0, count, "fistaStep gradient")
        let px = try floats(x, 0, count, "fistaStep x")
        let t = try floats(thresholds, 0, rows, "fistaStep thresholds"), s = try floats(scales, 0, rows, "fistaStep scales")
        parallelFor(count, grain: 65_536) { range in
            KernelReference.fista_step(pz, g, px, count, rows, cols, step, momentum, t, s, items: range)
        }
    }

    public func adamStep(_ hyper: AdamHyperparameters, weights: Buffer, gradient: Buffer,
                         firstMoment: Buffer, secondMoment: Buffer, at offset: Int, count: Int, step: Int) throws {
        counterBox.launch()
        let w = try floats(weights, offset, count, "adamStep weights")
        let g = try floats(gradient, offset, count, "adamStep gradient")
        let m = try floats(firstMoment, offset, count, "adamStep first moment")
        let v = try floats(secondMoment, offset, count, "adamStep second moment")
        let (stepSize, sqrtCorrection2) = hyper.biasCorrections(step: step)
        let h = hyper
        parallelFor(count, grain: 65_536) { range in
            KernelReference.adam_step(w, g, m, v, 0, count, h.learningRate, h.beta1, h.beta2, h.epsilon, h.weightDecay,
                                      h.decoupled, stepSize, sqrtCorrection2, items: range)
        }
    }

    // MARK: Helpers

    func host(_ buffer: Buffer, _ what: String) throws -> UnsafeMutableRawPointer {
        guard let storage = buffer.storage as? HostStorage else { throw DeviceError.foreignBuffer(what: what) }
        return storage.pointer
    }

    func floats(_ buffer: Buffer, _ offset: Int, _ count: Int, _ what: String) throws -> UnsafeMutablePointer<Float> {
        try buffer.checkType(.float32, what)
        try buffer.checkRange(offset, count, what)
        return try host(buffer, what).assumingMemoryBound(to: Float.self) + offset
    }
}

/// Runs `body` over 0..<count split into at most one contiguous chunk per core, each at
/// least `grain` long (serially when small). Chunks never overlap, so results do not depend
/// on the split.
@inline(__always) func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let chunks = min(cores, count / max(grain, 1))
    guard chunks > 1 else {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)  // chunks touch disjoint ranges of the caller's buffers
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            work.value((i * count / chunks)..<((i + 1) * count / chunks))
        }
    }
}

/// Active cores, read once (ProcessInfo reads it from the system on every call).
private let cores = ProcessInfo.processInfo.activeProcessorCount

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

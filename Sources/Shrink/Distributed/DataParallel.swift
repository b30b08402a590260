import Foundation

/// Data-parallel training over the ranks of an MPI job (`mpirun -np N shrink train …`), as
/// Horovod and PyTorch's DistributedDataParallel do it: every rank holds the same model and
/// a part of the training rows; each step's global batch is the rows a single process would
/// take (the same seeded permutation of all n training rows, the same batch boundaries), each
/// rank computes the gradient of its own rows of it, and the gradients are summed with
/// `MPI_Allreduce`, so that every rank applies the same update. The result equals one
/// process's within float rounding (the order of the sums).
///
/// Shapes: n = training rows over all ranks; B_s = step s's global batch (B, the last may be
/// shorter); b_s = this rank's rows of it (0 ≤ b_s ≤ B_s, possibly 0).
public struct DataParallel: Sendable {
    public let communicator: Communicator
    /// n: the training rows over every rank.
    public let globalRows: Int
    /// For each local training row (in the order they were given), its position in the global
    /// training order 0..<n; strictly increasing.
    public let positions: [Int]
    /// The test rows over every rank (the denominators of the test metrics).
    public let globalTestRows: Int
    /// Global position → local row (−1: another rank's), the inverse of `positions`.
    let localRow: [Int32]
    /// Seconds spent in `reduceGradient` (reading the gradient, MPI_Allreduce, writing it back).
    public let reductionClock = ReductionClock()

    /// A running total of seconds (one thread: the one that trains).
    public final class ReductionClock: @unchecked Sendable {
        public private(set) var seconds = 0.0
        public private(set) var calls = 0
        func add(since start: UInt64) {
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            calls += 1
        }
        public func reset() { (seconds, calls) = (0, 0) }
    }

    public init(communicator: Communicator, globalRows: Int, positions: [Int], globalTestRows: Int) throws {
        guard zip(positions, positions.dropFirst()).allSatisfy({ $0 < $1 }),
              positions.allSatisfy({ $0 >= 0 && $0 < globalRows }) else {
            throw TrainingError.invalidData("a rank's training positions must be increasing and within 0..<\(globalRows)")
        }
        self.communicator = communicator
        self.globalRows = globalRows
        self.positions = positions
        var localRow = [Int32](repeating: -1, count: globalRows)
        for (row, position) in positions.enumerated() { localRow[position] = Int32(row) }
        self.localRow = localRow
        self.globalTestRows = globalTestRows
    }

    /// One epoch's batches on this rank: `order` lists local rows, batch after batch; step s
    /// takes order[offsets[s] ..< offsets[s] + counts[s]] (b_s rows) of the global batch's B_s.
    struct EpochPlan {
        var order: [Int32]
        var offsets: [Int]
        var counts: [Int]
        var globalCounts: [Int]
    }

    /// The plan for a global row order (a permutation of 0..<n, or nil for 0, 1, …, n − 1) and
    /// global batch size B: each global batch's rows that this rank holds, in batch order.
    func plan(globalOrder: [Int]?, batchSize: Int) -> EpochPlan {
        var plan = EpochPlan(order: [], offsets: [], counts: [], globalCounts: [])
        plan.order.reserveCapacity(positions.count)
        var start = 0
        while start < globalRows {
            let end = min(start + batchSize, globalRows)
            plan.offsets.append(plan.order.count)
            for i in start..<end {
                let row = localRow[globalOrder?[i] ?? i]
                if row >= 0 { plan.order.append(row) }
            }
            plan.counts.append(plan.order.count - plan.offsets[plan.offsets.count - 1])
            plan.globalCounts.append(end - start)
            start = end
        }
        return plan
    }

    /// The mean gradient over the global batch on every rank: this rank's mean over its b rows
    /// (or 0 when b = 0) times b/B, summed over the ranks, written back.
    func reduceGradient(_ gradient: Buffer, count: Int, localRows b: Int, globalRows B: Int, on device: any Device) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { reductionClock.add(since: start) }
        var values = b > 0 ? try device.read(gradient).prefix(count).map { $0 * Float(b) / Float(B) }
            : [Float](repeating: 0, count: count)
        try communicator.sum(&values)
        try device.write(values, to: gradient)
    }
}

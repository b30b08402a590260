import Foundation

/// A job's training and test rows, each rank holding its part: the seeded split of all the
/// file's rows (`Dataset.splitIndices(rows:…)`, the same on every rank and as one process's),
/// restricted to the rows this rank read.
public struct ShardSplit: Sendable {
    /// This rank's training rows, in the global training order's order.
    public var train: Dataset
    /// This rank's test rows (nil when nothing is held out).
    public var test: Dataset?
    /// For each local training row, its position in the global training order.
    public var trainPositions: [Int]
    /// For each local test row, its position in the global test order.
    public var testPositions: [Int]
    public var globalTrainRows: Int
    public var globalTestRows: Int
    /// The global split, in file rows (what `--split-out` writes).
    public var testRows: [Int]

    public init(_ shard: DataShard, testFraction: Double, seed: UInt64) throws {
        let (trainRows, testRows) = try Dataset.splitIndices(rows: shard.totalRows, testFraction: testFraction, seed: seed)
        let mine = shard.firstRow..<(shard.firstRow + shard.data.rows)
        func local(_ rows: [Int]) -> (rows: [Int], positions: [Int]) {
            var picked = [Int](), positions = [Int]()
            for (t, g) in rows.enumerated() where mine.contains(g) {
                picked.append(g - shard.firstRow)
                positions.append(t)
            }
            return (picked, positions)
        }
        let (train, test) = (local(trainRows), local(testRows))
        self.train = shard.data.subset(train.rows)
        self.test = testRows.isEmpty ? nil : shard.data.subset(test.rows)
        trainPositions = train.positions
        testPositions = test.positions
        globalTrainRows = trainRows.count
        globalTestRows = testRows.count
        self.testRows = testRows
    }

    /// The training and test rows' fingerprint over every rank (`Dataset.rowFingerprint`): the
    /// same for any number of ranks, and for one process.
    public func fingerprint(communicator: Communicator) throws -> UInt64 {
        try communicator.sum(Self.fingerprint(train: train, trainPositions: trainPositions, test: test,
                                              testPositions: testPositions))
    }

    /// This process's training and test rows' share of the fingerprint (one process: all of
    /// it, with positions 0, 1, …): training rows salted 1, test rows 2.
    public static func fingerprint(train: Dataset, trainPositions: [Int]? = nil, test: Dataset?,
                                   testPositions: [Int]? = nil) -> UInt64 {
        train.rowFingerprint(positions: trainPositions ?? Array(0..<train.rows), salt: 1)
            &+ (test.map { $0.rowFingerprint(positions: testPositions ?? Array(0..<$0.rows), salt: 2) } ?? 0)
    }
}

extension Communicator {
    /// The wrapping sum over ranks of one 64-bit word each, exactly (four 16-bit limbs, each
    /// summed in Double, carried).
    public func sum(_ value: UInt64) throws -> UInt64 {
        var limbs = (0..<4).map { Double((value >> (16 * UInt64($0))) & 0xFFFF) }
        try sum(&limbs)
        return (0..<4).reduce(UInt64(0)) { $0 &+ (UInt64(limbs[$1]) << (16 * UInt64($1))) }
    }
}

extension Standardization {
    /// The standardization of the rows of every rank together (`init(fitting:)` of their
    /// union): two sums over ranks, the means first, then the squared deviations about them.
    public init(fitting data: Dataset, communicator: Communicator) throws {
        let (means, scales) = try Self.statistics(data) { try communicator.sum(&$0) }
        try self.init(means: means, scales: scales)
    }
}

import Foundation
import Shrink

/// The rows a training command works on: the whole file in one process, or under `mpirun`
/// this rank's part of it (read alone, `DataLoader.loadShard`) with what data-parallel
/// training needs (`DataParallel`). Both routes split, encode classes and standardize as one
/// process does, over all the rows.
struct TrainingRows {
    var train: Dataset
    var test: Dataset?
    var standardization: Standardization?
    /// Under mpirun: this rank's place in the job's training rows.
    var parallel: DataParallel?
    /// What a model file records of how the data was read.
    var modelInfo: [String: String]
    /// The training and test rows' fingerprint (raw values, positions, and whether they were
    /// standardized): the same for one process and any number of ranks, so a checkpoint
    /// resumes on either. Only when asked for (`fingerprint`).
    var dataHash: UInt64?
    var globalTrainRows: Int { parallel?.globalRows ?? train.rows }
    var globalTestRows: Int { parallel?.globalTestRows ?? test?.rows ?? 0 }
}

extension DataOptions {
    /// The training rows of `--data`/`--synthetic`, split by `--test-split` (default
    /// `testFraction`; written to `--split-out` by rank 0) and standardized with `standardize`
    /// (nil: not at all); nil without a data flag. `fingerprint`: compute `dataHash` (for a
    /// checkpoint or a resume).
    func trainingRows(seed: UInt64, loss: LossKind, standardize: StandardizeOptions?, fingerprint: Bool,
                      world: Communicator, testFraction defaultFraction: Double = 0.2) throws -> TrainingRows? {
        guard world.size > 1, data != nil || synthetic != nil else {
            guard let (all, info) = try loadRecording(seed: seed, loss: loss) else { return nil }
            _ = try all.outputCount(for: loss)  // before the split: rows as in the file
            let (rawTrain, rawTest) = try split(all, seed: seed, default: defaultFraction)
            let hash = fingerprint ? ShardSplit.fingerprint(train: rawTrain, test: rawTest) : nil
            var (train, test, standardization) = try standardize?.apply(train: rawTrain, test: rawTest) ?? (rawTrain, rawTest, nil)
            train.keepingNames(of: rawTrain)
            return TrainingRows(train: train, test: test, standardization: standardization, parallel: nil, modelInfo: info,
                                dataHash: Self.mixing(hash, standardized: standardization != nil))
        }
        var shard: DataShard
        if let data {
            let url = URL(fileURLWithPath: data)
            shard = try DataLoader.loadShard(data: url, targets: targets.map { URL(fileURLWithPath: $0) },
                                             targetColumn: targetColumn, sparse: sparseOptions.readOptions,
                                             communicator: world)
            let csv = DataFormat(url: url) == .csv
            try shard.data.validateFinite(featuresPath: data, targetsPath: targets ?? data,
                                          headerLines: shard.firstRow + (csv ? 1 : 0))
        } else {  // --synthetic: every rank makes the rows (seeded) and keeps its even part of them
            guard let (all, _) = try loadRecording(seed: seed, loss: nil) else { return nil }
            let mine = RowShards.evenRange(part: world.rank, of: world.size, count: all.rows)
            shard = DataShard(data: all.subset(Array(mine)), firstRow: mine.lowerBound, totalRows: all.rows)
        }
        shard = try shard.encodingClasses(for: loss, communicator: world)
        _ = try shard.data.outputCount(for: loss)
        let split = try ShardSplit(shard, testFraction: testFraction(default: defaultFraction), seed: seed)
        if world.isRoot, let splitOut {
            try writeText(Dataset.splitCSV(rows: shard.totalRows, test: split.testRows), to: splitOut)
        }
        let hash = fingerprint ? try split.fingerprint(communicator: world) : nil
        var standardization: Standardization?
        var (train, test) = (split.train, split.test)
        if standardize?.standardize == true {
            let fitted = try Standardization(fitting: train, communicator: world)
            let used = train.isSparse ? fitted.scalingOnly() : fitted
            let raw = train
            (train, test) = (try used.apply(to: train), try test.map { try used.apply(to: $0) })
            train.keepingNames(of: raw)
            standardization = used
        }
        let parallel = try DataParallel(communicator: world, globalRows: split.globalTrainRows,
                                        positions: split.trainPositions, globalTestRows: split.globalTestRows)
        var info: [String: String] = [:]
        if let zeroBased = shard.svmlightZeroBased { info[svmlightZeroBasedKey] = "\(zeroBased)" }
        return TrainingRows(train: train, test: split.globalTestRows > 0 ? test : nil, standardization: standardization,
                            parallel: parallel, modelInfo: info,
                            dataHash: Self.mixing(hash, standardized: standardization != nil))
    }

    private static func mixing(_ hash: UInt64?, standardized: Bool) -> UInt64? {
        hash.map { standardized ? ($0 ^ 0x5354_414E_4441_5244) &* 0x0000_0100_0000_01B3 : $0 }
    }
}

/// Under mpirun, the exact solver's time in its sums over the ranks (waiting included), for
/// the "time" line of `fit` and `path`; empty in one process.
func mpiSums(_ world: Communicator) -> String {
    world.usesMPI ? String(format: "  (of which MPI sums %.4f s, %d calls)", world.agreedSumSeconds, world.agreedSumCalls) : ""
}

extension Communicator {
    /// Under mpirun, ranks other than 0 print nothing on standard output (their errors still
    /// reach standard error, naming the rank).
    func silencingOtherRanks() {
        guard size > 1, !isRoot else { return }
        fflush(nil)
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            dup2(null, STDOUT_FILENO)
            close(null)
        }
    }
}

extension Dataset {
    /// The class, feature and target names of `other` (what a model file records of the rows).
    mutating func keepingNames(of other: Dataset) {
        (classNames, featureNames, targetName) = (other.classNames, other.featureNames, other.targetName)
    }
}

/// Under mpirun with several ranks, a command that is not distributed (`predict`, `evaluate`:
/// one pass over the rows) runs on rank 0 alone, on the whole data, with the answer one
/// process gives; the other ranks say so on standard error and end. True on those other ranks.
func otherRanksStandAside(_ command: String) throws -> Bool {
    guard Communicator.launchedByMPI() else { return false }
    let world = try Communicator.world()
    guard world.size > 1 else { return false }
    if world.rank == 1 {
        printNotice("\(command) is not distributed: rank 0 runs it on the whole data, ranks 1–\(world.size - 1) end")
    }
    return !world.isRoot
}

import Foundation

extension SVMLight {
    /// This rank's part of an svmlight file (`SVMLight.Part`: part = rank of size), with the
    /// decisions of the whole file taken over the ranks: the rows, the file-order index of the
    /// first, and the file's row count. Every rank calls it (it holds collectives).
    public static func read(_ url: URL, communicator: Communicator, indexBase: IndexBase = .auto,
                            features: Int? = nil) throws -> (file: File, firstRow: Int, totalRows: Int) {
        let piece = try Part(url, part: communicator.rank, of: communicator.size)
        let firstLine = 1 + (try communicator.prefixSum(piece.lineFeeds).before)
        let scan = try piece.scan(firstLine: firstLine, features: features)
        let mine = scan.summary
        let summaries = try communicator.gather([mine.rows, mine.smallest == Int.max ? -1 : mine.smallest, mine.largest])
        var whole = Scan.Summary()
        var firstRow = 0
        for (r, s) in summaries.enumerated() {
            whole = whole.merged(Scan.Summary(rows: s[0], smallest: s[1] < 0 ? Int.max : s[1], largest: s[2]))
            if r < communicator.rank { firstRow += s[0] }
        }
        return (try scan.file(path: url.path, indexBase: indexBase, features: features, whole: whole), firstRow, whole.rows)
    }
}

/// One rank's rows of a data file: a contiguous run in file order, and where it sits.
public struct DataShard: Sendable {
    /// This rank's rows, in file order (possibly none).
    public var data: Dataset
    /// The file-order index of `data`'s first row.
    public var firstRow: Int
    /// The file's rows, over every rank.
    public var totalRows: Int
    /// For an svmlight file, whether its indices were read as zero-based (`DataLoader.Loaded`).
    public var svmlightZeroBased: Bool?

    public init(data: Dataset, firstRow: Int, totalRows: Int, svmlightZeroBased: Bool? = nil) {
        self.data = data; self.firstRow = firstRow; self.totalRows = totalRows; self.svmlightZeroBased = svmlightZeroBased
    }
}

extension DataLoader {
    /// This rank's rows of the data `load` reads whole, reading only them (as far as the format
    /// allows): `.npy` and its targets by an even row range (`NPY.readRows`), CSV and svmlight
    /// by line-aligned byte ranges, `.npz` by a range of CSR rows holding about the same number
    /// of non-zeros (its targets by the same rows). Decisions that span the file (svmlight's
    /// index base and width, CSV row numbers in errors) are taken over every rank; class labels
    /// are mapped later, over every rank, by `DataShard.encodingClasses`. Every rank calls it.
    public static func loadShard(data: URL, targets: URL?, targetColumn: String?,
                                 sparse options: SparseReadOptions = SparseReadOptions(),
                                 communicator: Communicator) throws -> DataShard {
        let (rank, size) = (communicator.rank, communicator.size)
        guard size > 1 else {
            let whole = try loadFile(data: data, targets: targets, targetColumn: targetColumn, sparse: options)
            return DataShard(data: whole.data, firstRow: 0, totalRows: whole.data.rows, svmlightZeroBased: whole.svmlightZeroBased)
        }
        let format = try format(of: data, targets: targets, targetColumn: targetColumn, sparse: options)
        switch format {
        case .csv:
            var part = try CSVLoader.readPart(data, part: rank, of: size, targetColumn: targetColumn) {
                try communicator.prefixSum($0).before
            }
            let (before, total) = try communicator.prefixSum(part.rows)
            guard total > 0 else { throw DataError.malformed(path: data.path, reason: "no data rows after the header") }
            // Numbers when every label in the file is one (as `CSVLoader.load` decides), else text.
            let names = part.classNames ?? []
            let textRanks = try communicator.sum(names.allSatisfy { Float($0) != nil } ? 0 : 1)
            if textRanks == 0 {
                part.targets = part.targets.map { Float(names[Int($0)])! }
                part.classNames = nil
            }
            return DataShard(data: part, firstRow: before, totalRows: total)
        case .svmlight:
            let (file, first, total) = try SVMLight.read(data, communicator: communicator, indexBase: options.indexBase,
                                                         features: options.features)
            return DataShard(data: try Dataset(sparse: file.matrix, targets: file.targets), firstRow: first, totalRows: total,
                             svmlightZeroBased: file.zeroBased)
        case .npy:
            let header = try NPY.readRows(data, 0..<0)
            let rows = RowShards.evenRange(part: rank, of: size, count: header.total)
            let x = try NPY.readRows(data, rows).array
            let y = try shardTargets(targets!, rows: rows, total: header.total, data: data)
            guard x.shape.count == 2, x.shape[1] > 0, header.total > 0 else {
                throw DataError.malformed(path: data.path, reason: "X must be 2-D [n, p] with n, p > 0, got shape \(x.shape)")
            }
            return DataShard(data: try Dataset(features: x.values, targets: y, rows: rows.count, columns: x.shape[1]),
                             firstRow: rows.lowerBound, totalRows: header.total)
        case .npz:
            var (x, first, total) = try SciPySparse.read(data, part: rank, of: size)
            let y = try shardTargets(targets!, rows: first..<(first + x.rows), total: total, data: data)
            if let width = options.features { x = try widened(x, to: width, path: data.path, flag: "--n-features") }
            return DataShard(data: try Dataset(sparse: x, targets: y), firstRow: first, totalRows: total)
        }
    }

    /// Rows `rows` of y [n] (or [n, 1]), checked against X's row count.
    private static func shardTargets(_ url: URL, rows: Range<Int>, total: Int, data: URL) throws -> [Float] {
        let (y, count) = try NPY.readRows(url, rows)
        guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
            throw DataError.malformed(path: url.path, reason: "y must be 1-D [n], got shape \([count] + y.shape.dropFirst())")
        }
        guard count == total else {
            throw DataError.invalid("X has \(total) rows (\(data.lastPathComponent)) but y has \(count) (\(url.lastPathComponent))")
        }
        return y.values
    }
}

extension DataShard {
    /// The labels mapped to classes as `Dataset.encodingClasses(for:)` maps a whole file's —
    /// over the union of every rank's labels (a rank may hold only some classes, or none), so
    /// that class k is the same class on every rank. Every rank calls it.
    public func encodingClasses(for loss: LossKind, communicator: Communicator) throws -> DataShard {
        var shard = self
        guard communicator.size > 1 else {
            shard.data = try data.encodingClasses(for: loss)
            return shard
        }
        if let names = data.classNames {  // text labels: this rank's sorted names
            let all = try communicator.gatherText(names.joined(separator: "\u{0}"))
            let union = Array(Set(all.flatMap { $0.isEmpty ? [] : $0.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init) })).sorted()
            let index = Dictionary(uniqueKeysWithValues: union.enumerated().map { ($1, Float($0)) })
            shard.data.targets = data.targets.map { index[names[Int($0)]]! }
            shard.data.classNames = union
        } else if loss != .mse {
            if let bad = data.targets.firstIndex(where: { $0 != $0.rounded() }) {
                throw TrainingError.invalidData("\(loss) targets must be class labels (whole numbers or text): row " +
                                                "\(firstRow + bad + 1) has \(data.targets[bad]), a continuous value (use --loss mse for regression)")
            }
            let mine = Array(Set(data.targets)).sorted().map { String($0.bitPattern) }.joined(separator: ",")
            let all = try communicator.gatherText(mine)
            let union = Array(Set(all.flatMap { $0.split(separator: ",").compactMap { UInt32($0).map(Float.init(bitPattern:)) } }))
                .sorted()
            let index = Dictionary(uniqueKeysWithValues: union.enumerated().map { ($1, Float($0)) })
            shard.data.targets = data.targets.map { index[$0]! }
            shard.data.classNames = union.map(Dataset.label)
        }
        shard.data = try shard.data.encodingClasses(for: loss)
        return shard
    }
}

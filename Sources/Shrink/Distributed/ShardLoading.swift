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

import Foundation
import Shrink
#if canImport(Glibc)
import Glibc
#endif

/// The per-epoch table printed by `shrink train`.
struct MetricsTable {
    let classifies: Bool
    let hasTest: Bool

    private var columns: [(String, Int)] {
        var c = [("epoch", 6), ("loss", 11), ("data_loss", 11), ("penalty", 10)]
        if classifies { c.append(("train_acc", 9)) }
        if classifies && hasTest { c.append(("test_acc", 8)) }
        if hasTest { c.append(("test_loss", 11)) }
        if !classifies && hasTest { c.append(("test_r2", 9)) }
        c += [("l1", 10), ("l2", 9), ("near_zero", 9), ("zeros", 7), ("seconds", 9)]
        return c
    }

    var header: String { columns.map { pad($0.0, $0.1) }.joined(separator: " ") }

    func row(_ m: EpochMetrics) -> String {
        var values = ["\(m.epoch)", fmt(m.loss), fmt(m.dataLoss), fmt(m.penalty)]
        if classifies { values.append(fmt(m.trainAccuracy ?? .nan, 4)) }
        if classifies && hasTest { values.append(fmt(m.testAccuracy ?? .nan, 4)) }
        if hasTest { values.append(fmt(m.testLoss ?? .nan)) }
        if !classifies && hasTest { values.append(fmt(m.testR2 ?? .nan, 4)) }
        values += [fmt(m.l1), fmt(m.l2), "\(m.nearZero)", "\(m.zeros)", fmt(m.seconds, 4)]
        return zip(values, columns).map { pad($0, $1.1) }.joined(separator: " ")
    }

    /// Every epoch up to 10, then about ten more rows, and the last (as the reference PyTorch script prints its epochs).
    func shouldPrint(_ epoch: Int, of total: Int) -> Bool {
        epoch <= 10 || epoch == total || epoch % max(1, total / 10) == 0
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    private func fmt(_ x: Double, _ digits: Int = 6) -> String {
        guard x.isFinite else { return "\(x)" }
        if x != 0, abs(x) < 1e-3 || abs(x) >= 1e6 { return String(format: "%.\(digits - 2)e", x) }
        return String(format: "%.\(digits)g", x)
    }
}

/// `--metrics FILE`: one JSON object per epoch, flushed as each epoch ends.
final class MetricsFile {
    private let path: String
    private let descriptor: Int32

    /// Creates (or truncates) `path`; with `append`, continues an existing file.
    init(path: String, append: Bool = false) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        guard descriptor >= 0 else {
            throw DataError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { close(descriptor) }

    func append(_ metrics: EpochMetrics) throws {
        let bytes = Array((metrics.jsonLine + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.unwritable(path: path, reason: String(cString: strerror(errno)))
            }
            written += n
        }
    }
}

import Foundation
@testable import Shrink
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A 200,000 × 1,000,000 matrix with 20 million non-zeros (100 per row) trains one epoch of a
/// linear bce model on the CPU device — shuffled minibatches of 20,000 (the batch-row gradient
/// route), then a full batch (the Xᵀ route with a position map) — with the process's peak
/// resident memory under 2 GiB (measured: 373–446 MiB after the minibatch run, 669–743 MiB after
/// the full batch; the peak is reset first where Linux allows, so earlier tests do not count);
/// dense it would be 800 GB. The data: X (8 bytes per non-zero, 160 MB) and its device copy, plus
/// for the full batch the device's Xᵀ (160 MB; its host copy is freed after the upload); 1M
/// parameters.
final class SparseMemoryTests: XCTestCase {
    static let (rows, columns, perRow) = (200_000, 1_000_000, 100)

    /// Row r holds one column in each of the 100 buckets of 10,000 columns (sorted and distinct
    /// by construction), values and labels from a seeded xorshift.
    static func wideDataset() throws -> Dataset {
        let nnz = rows * perRow
        let bucket = columns / perRow
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var indices = [Int32](repeating: 0, count: nnz), values = [Float](repeating: 0, count: nnz)
        var targets = [Float](repeating: 0, count: rows)
        indices.withUnsafeMutableBufferPointer { ix in
            values.withUnsafeMutableBufferPointer { vx in
                for r in 0..<rows {
                    var s: Float = 0
                    for t in 0..<perRow {
                        state ^= state << 13; state ^= state >> 7; state ^= state << 17
                        let i = r * perRow + t
                        ix[i] = Int32(t * bucket + Int(state % UInt64(bucket)))
                        vx[i] = Float(Int(state >> 40) & 0xFF) / 128 - 1
                        s += vx[i]
                    }
                    targets[r] = s > 0 ? 1 : 0
                }
            }
        }
        let starts = Array(stride(from: 0, through: nnz, by: perRow))
        return try Dataset(sparse: try SparseMatrix(rows: rows, columns: columns, rowStarts: starts,
                                                    columnIndices: indices, values: values), targets: targets)
    }

    static var peakResidentBytes: Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // kilobytes on Linux
    }

    /// Resets the peak to the current resident size (Linux: `5` into /proc/self/clear_refs), so
    /// that earlier tests in the same process do not count; false where that is refused.
    static func resetPeak() -> Bool {
        (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    func testTwentyMillionNonZerosTrainWithinAFewGiB() throws {
        let before = Self.peakResidentBytes
        let reset = Self.resetPeak()
        var start = Date()
        let data = try Self.wideDataset()
        print("SparseMemoryTests: \(Self.rows)×\(Self.columns), \(data.sparse!.nonZeroCount) non-zeros made in " +
              "\(String(format: "%.1f", Date().timeIntervalSince(start))) s (peak before: \(before >> 20) MiB, reset \(reset))")
        // Minibatches of 20,000 shuffled rows through the batch's own rows (no Xᵀ; 10 steps, 0.3–1.2 s
        // each in a debug build); then the full batch: the route through Xᵀ with a position map, one step.
        for (batch, route) in [(20_000, SparseGradientRoute.batchRows), (0, .transposed)] {
            start = Date()
            let configuration = TrainingConfiguration(architecture: .linear, loss: .bce, optimizer: .sgd(),
                                                      learningRate: 0.5, penalty: Penalty(l1: 1e-7), epochs: 1,
                                                      batchSize: batch, shuffle: true, seed: 1)
            let trainer = try Trainer(device: CPUDevice(), configuration: configuration, variants: nil, train: data,
                                      sparseRoute: route)
            let metrics = try trainer.runEpoch()
            XCTAssertTrue(metrics.loss.isFinite && metrics.loss < 0.75, "batch \(batch): loss \(metrics.loss)")
            let weights = try trainer.model.parameterValues()
            XCTAssertEqual(weights.count, Self.columns + 1)
            XCTAssertTrue(weights.allSatisfy(\.isFinite))
            let peak = Self.peakResidentBytes
            print("SparseMemoryTests: batch \(batch == 0 ? "full" : "\(batch)") (\(route)): loss " +
                  "\(String(format: "%.4f", metrics.loss)), peak RSS \(peak >> 20) MiB, " +
                  "\(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            XCTAssertLessThan(peak, 2 << 30, "peak RSS \(peak >> 20) MiB, bound 2048 MiB")
        }
    }
}

import ArgumentParser
import Foundation
import Shrink

/// `shrink bench path`: a full regularization path next to scikit-learn's `enet_path` on the
/// same data, measured in the same run.
struct PathBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path", abstract: "Time a regularization path against scikit-learn's enet_path.")

    @Option var n: Int = 1000
    @Option var p: Int = 100
    @Option(name: .customLong("l1-ratio")) var l1Ratio: Double = 1
    @Option(name: .customLong("n-alphas")) var nAlphas: Int = 100
    @Option var eps: Double = 1e-3
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(help: "The scikit-learn peer script.") var sklearnScript: String = "Benchmarks/sklearn_path.py"

    func validate() throws {
        guard n > 1, p > 0, nAlphas > 0, eps > 0, eps < 1, l1Ratio >= 0, l1Ratio <= 1 else {
            throw ValidationError("need n > 1, p > 0, --n-alphas > 0, 0 < --eps < 1, 0 ≤ --l1-ratio ≤ 1")
        }
    }

    func run() throws {
        try reportingErrors {
            let device = try deviceOptions.open()
            let data = try SyntheticData.make("regression:\(n):\(p)", seed: 0)
            func time(batched: Bool) throws -> Double {
                var best = Double.infinity
                for _ in 0..<3 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try RegularizationPath.compute(loss: .mse, l1Ratio: l1Ratio, standardize: false, train: data,
                                                       validation: nil, epsilon: eps, count: nAlphas, folds: 0, seed: 0,
                                                       device: device, batched: batched)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
                return best
            }
            let sequential = try time(batched: false), batched = try time(batched: true)
            var line = String(format: "%@: %d-α path, n %d, p %d: warm-started one by one %.4f s, batched (K = %d) %.4f s → %.2f×",
                              device.name, nAlphas, n, p, sequential, nAlphas, batched, sequential / batched)
            let best = min(sequential, batched)
            if let peer = try sklearnSeconds(data) {
                line += String(format: " | scikit-learn enet_path %.4f s → %.2f×", peer, peer / best)
            }
            print(line)
        }
    }

    private func sklearnSeconds(_ data: Dataset) throws -> Double? {
        guard FileManager.default.fileExists(atPath: sklearnScript) else {
            printNotice("scikit-learn peer skipped: \(sklearnScript) not found")
            return nil
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shrink-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try NPY.write(NPYArray(shape: [data.rows, data.columns], values: data.features), to: folder.appendingPathComponent("X.npy"))
        try NPY.write(NPYArray(shape: [data.rows], values: data.targets), to: folder.appendingPathComponent("y.npy"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", sklearnScript, folder.path, "\(l1Ratio)", "\(eps)", "\(nAlphas)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let value = text.split(separator: "=").last.flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            printNotice("scikit-learn peer skipped: python3 \(sklearnScript) failed (is scikit-learn installed?)")
            return nil
        }
        return value
    }
}

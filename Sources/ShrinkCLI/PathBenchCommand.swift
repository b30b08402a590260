import ArgumentParser
import Foundation
import Shrink

/// `shrink bench path`: a full regularization path next to scikit-learn's `enet_path` on the
/// same data and α grid, measured in the same run, with each one's distance from the exact
/// path (enet_path at tol 1e-14, untimed).
struct PathBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path", abstract: "Time a regularization path against scikit-learn's enet_path.")

    @Option var n: Int = 1000
    @Option var p: Int = 100
    @Option(name: .customLong("l1-ratio")) var l1Ratio: Double = 1
    @Option(name: .customLong("n-alphas")) var nAlphas: Int = 100
    @Option var eps: Double = 1e-3
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(help: "The scikit-learn peer script (default: Benchmarks/sklearn_path.py, found as bench solvers' script).")
    var sklearnScript: String?
    static let defaultScript = "Benchmarks/sklearn_path.py"

    func validate() throws {
        guard n > 1, p > 0, nAlphas > 0, eps > 0, eps < 1, l1Ratio >= 0, l1Ratio <= 1 else {
            throw ValidationError("need n > 1, p > 0, --n-alphas > 0, 0 < --eps < 1, 0 ≤ --l1-ratio ≤ 1")
        }
    }

    func run() throws {
        try reportingErrors {
            let device = try deviceOptions.open()
            let data = try SyntheticData.make("regression:\(n):\(p)", seed: 0)
            var paths: [Bool: RegularizationPath] = [:]
            func time(batched: Bool) throws -> Double {
                var best = Double.infinity
                for _ in 0..<3 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    paths[batched] = try RegularizationPath.compute(
                        loss: .mse, l1Ratio: l1Ratio, standardize: false, train: data, validation: nil, epsilon: eps,
                        count: nAlphas, folds: 0, seed: 0, device: device, batched: batched)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
                return best
            }
            let sequential = try time(batched: false), batched = try time(batched: true)
            var line = String(format: "%@: %d-α path, n %d, p %d: coordinate descent %.4f s, FISTA batched (K = %d) %.4f s → %.2f×",
                              device.name, nAlphas, n, p, sequential, nAlphas, batched, sequential / batched)
            let best = min(sequential, batched)
            if let path = paths[sequential <= batched ? false : true], let peer = try sklearn(data, alphas: path.points.map(\.alpha)) {
                // Each library's largest coefficient error over the path, against the exact path.
                func error(_ coefficients: [[Double]]) -> Double {
                    zip(coefficients, peer.exact).map { mine, exact in
                        zip(mine, exact).map { abs($0 - Double($1)) }.max() ?? 0
                    }.max() ?? 0
                }
                let ours = error(path.points.map(\.solution.coefficients))
                let theirs = error(peer.coefficients.map { $0.map(Double.init) })
                line += String(format: " | scikit-learn enet_path (tol 1e-6) %.4f s → %.2f×; max |Δw| from the exact path: " +
                               "Shrink %.1e, scikit-learn %.1e", peer.seconds, peer.seconds / best, ours, theirs)
            }
            print(line)
        }
    }

    /// enet_path's best time on the same data and grid, its coefficients and the exact path's, [α][p].
    private func sklearn(_ data: Dataset, alphas: [Double]) throws
        -> (seconds: Double, coefficients: [[Float]], exact: [[Float]])? {
        guard let sklearnScript = sklearnScript ?? PeerScripts.locate(Self.defaultScript),
              FileManager.default.fileExists(atPath: sklearnScript) else {
            printNotice("scikit-learn peer skipped: " + (sklearnScript.map { "\($0) not found" }
                ?? PeerScripts.notFound(Self.defaultScript, flag: "--sklearn-script")))
            return nil
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shrink-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // `data` is SyntheticData's, always dense (bench sparse times sparse data).
        try NPY.write(NPYArray(shape: [data.rows, data.columns], values: data.features), to: folder.appendingPathComponent("X.npy"))
        try NPY.write(NPYArray(shape: [data.rows], values: data.targets), to: folder.appendingPathComponent("y.npy"))
        try NPY.write(NPYArray(shape: [alphas.count], values: alphas.map { Float($0) }), to: folder.appendingPathComponent("alphas.npy"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", sklearnScript, folder.path, "\(l1Ratio)", "\(eps)", "\(nAlphas)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let value = text.split(separator: "=").last.flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              let coefs = try? NPY.read(folder.appendingPathComponent("coefs.npy")), coefs.shape == [alphas.count, data.columns],
              let exact = try? NPY.read(folder.appendingPathComponent("exact.npy")), exact.shape == coefs.shape else {
            printNotice("scikit-learn peer skipped: python3 \(sklearnScript) failed (is scikit-learn installed?)")
            return nil
        }
        let p = data.columns
        func rows(_ array: NPYArray) -> [[Float]] { (0..<alphas.count).map { Array(array.values[($0 * p)..<(($0 + 1) * p)]) } }
        return (value, rows(coefs), rows(exact))
    }
}

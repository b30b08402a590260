import Foundation
import Shrink
import XCTest

/// Good runs of the built binary: compare (the L1-vs-L2 experiment), synthetic data, CSV,
/// metrics, plots and a model PyTorch's names can load.
final class CLIGoodRunTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testCompareRunsTheSeedExperimentOnEveryDevice() throws {
        for device in CLI.devices {
            let plot = folder.appendingPathComponent("compare-\(device).svg")
            let result = try CLI.run(["compare", "--device", device, "--epochs", "5", "--plot", plot.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            for run in ["none", "L1", "L2", "elastic net", "weight decay"] {
                XCTAssertTrue(result.stdout.contains(run), "\(run) missing:\n\(result.stdout)")
            }
            XCTAssertTrue(result.stdout.contains("800 training rows, 200 test rows, 10 features"), result.stdout)
            let svg = try String(contentsOf: plot, encoding: .utf8)
            XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 5, "one curve per run")
            // L1 shrinks the weights' L1 norm relative to no penalty.
            let rows = result.stdout.split(separator: "\n")
            func l1(_ name: String) -> Double? {
                rows.first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(name.split(separator: " ").count + 4).first ?? "") }
            }
            let (none, lasso) = (try XCTUnwrap(l1("none")), try XCTUnwrap(l1("L1")))
            XCTAssertLessThan(lasso, none, "L1 must shrink ‖w‖₁")
        }
    }

    /// `compare --batched` trains the five runs as one stacked model: the same table (loss,
    /// data loss, accuracy, l1, l2) as run by run, within float rounding, on every device.
    func testCompareBatchedPrintsTheSameTable() throws {
        func table(_ arguments: [String]) throws -> [String: [Double]] {
            let result = try CLI.run(["compare", "--epochs", "3", "--plot", folder.appendingPathComponent("c.svg").path] + arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
            var rows: [String: [Double]] = [:]
            for name in ["none", "L1", "L2", "elastic net", "weight decay"] {
                let line = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix(name + "  ") }, result.stdout)
                rows[name] = line.dropFirst(name.count).split(separator: " ").prefix(5).compactMap { Double($0) }
                XCTAssertEqual(rows[name]?.count, 5, String(line))
            }
            return rows
        }
        for device in CLI.devices {
            let (separate, batched) = (try table(["--device", device]), try table(["--device", device, "--batched"]))
            for (name, values) in separate {
                for (a, b) in zip(values, batched[name] ?? []) { XCTAssertEqual(a, b, accuracy: 2e-4, "\(device) \(name)") }
            }
            XCTAssertNotEqual(separate["none"]?[4], separate["L2"]?[4], "the runs differ from each other")
        }
    }

    /// The benchmarks run end to end and report what they measured (their timings are not
    /// checked here: a test never times): the problem each ran, both contenders, and for
    /// `compare` that the batched models' final losses agree with the one-by-one runs.
    func testBenchCommandsRun() throws {
        let compare = try CLI.run(["bench", "compare", "--epochs", "1", "--repeat", "1", "--models", "3", "--device", "cpu"])
        XCTAssertEqual(compare.status, 0, compare.stderr)
        for part in ["3 × mlp:50 (bce, sgd, 1 epochs, batch 32, 800 rows)", "one by one", "batched", "launches per step"] {
            XCTAssertTrue(compare.stdout.contains(part), "bench compare: no \"\(part)\" in \(compare.stdout)")
        }
        let agreement = compare.stdout.components(separatedBy: "final losses agree within ").dropFirst().first
            .flatMap { Double($0.prefix { !")\n ".contains($0) }) }
        XCTAssertLessThan(try XCTUnwrap(agreement, compare.stdout), 1e-5, "bench compare: the batched losses")

        let path = try CLI.run(["bench", "path", "--n", "60", "--p", "8", "--n-alphas", "5",
                                "--sklearn-script", "/nonexistent.py", "--device", "cpu"])
        XCTAssertEqual(path.status, 0, path.stderr)
        for part in ["5-α path, n 60, p 8", "coordinate descent", "FISTA batched (K = 5)"] {
            XCTAssertTrue(path.stdout.contains(part), "bench path: no \"\(part)\" in \(path.stdout)")
        }
        XCTAssertTrue(path.stderr.contains("scikit-learn peer skipped: /nonexistent.py not found"), path.stderr)

        let matmul = try CLI.run(["bench", "matmul", "--m", "8", "--n", "8", "--k", "8", "--device", "cpu"])
        XCTAssertEqual(matmul.status, 0, matmul.stderr)
        for part in ["8×8×8", "GFLOP/s", "OpenBLAS"] {
            XCTAssertTrue(matmul.stdout.contains(part), "bench matmul: no \"\(part)\" in \(matmul.stdout)")
        }
        // bench solvers needs its peer script (and Python's peers): a --script that is not there is
        // a usage error, one line and exit 64.
        let solvers = try CLI.run(["bench", "solvers", "--script", "/nonexistent.py"])
        XCTAssertEqual(solvers.status, 64, solvers.stdout)
        XCTAssertTrue(solvers.stderr.contains("/nonexistent.py not found"), solvers.stderr)
    }

    func testSyntheticRegressionWithMetricsPlotAndSave() throws {
        let (metrics, plot, model) = (folder.appendingPathComponent("m.jsonl"), folder.appendingPathComponent("loss.svg"),
                                      folder.appendingPathComponent("model.safetensors"))
        let result = try CLI.run(["train", "--synthetic", "regression:300:12", "--model", "linear", "--loss", "mse",
                                  "--optimizer", "sgd", "--lr", "0.05", "--epochs", "40", "--l1", "0.05", "--prox",
                                  "--penalize", "weights", "--device", "cpu", "--metrics", metrics.path,
                                  "--plot", plot.path, "--save", model.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 40)
        let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as! [String: Any]
        for key in ["epoch", "loss", "data_loss", "penalty", "test_loss", "test_r2", "l1", "l2", "near_zero", "nz", "zeros", "seconds"] {
            XCTAssertNotNil(last[key], "metrics lack \(key)")
        }
        XCTAssertNil(last["train_accuracy"], "no accuracy for regression")
        XCTAssertGreaterThan(last["zeros"] as! Int, 0, "--prox should zero the 7 irrelevant coefficients")
        XCTAssertTrue(try String(contentsOf: plot, encoding: .utf8).contains("<polyline"))
        let state = try SafeTensors.read(model)
        XCTAssertEqual(state["0.weight"]?.shape, [1, 12])
        XCTAssertEqual(state["0.bias"]?.shape, [1])
    }

    func testCSVClassificationWithTestSplit() throws {
        var rng = SeededGenerator(seed: 3)
        var text = "x1,x2,x3,label\n"
        for _ in 0..<200 {
            let x = (0..<3).map { _ in rng.normal() }
            text += x.map { String(format: "%.5f", $0) }.joined(separator: ",") + ",\(x[0] - x[2] > 0 ? 1 : 0)\n"
        }
        let csv = folder.appendingPathComponent("d.csv")
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let metrics = folder.appendingPathComponent("m.jsonl")
        for device in CLI.devices {
            let result = try CLI.run(["train", "--data", csv.path, "--model", "mlp:8", "--loss", "bce", "--optimizer", "adam",
                                      "--lr", "0.05", "--epochs", "30", "--batch-size", "16", "--test-split", "0.25",
                                      "--device", device, "--metrics", metrics.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            let last = try JSONSerialization.jsonObject(
                with: Data(try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").last!.utf8)) as! [String: Any]
            XCTAssertGreaterThan(last["test_accuracy"] as! Double, 0.85, "\(device): a separable problem")
            XCTAssertTrue(result.stdout.contains("150 training rows, 50 test rows"), result.stdout)
        }
    }
}

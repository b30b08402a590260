import Foundation
import Shrink
import XCTest

/// `train` and `compare` data handling through the built binary, on the real-data fixtures:
/// `--standardize` (the training rows' statistics, saved in the model file), the held-out
/// rows' test_loss / test_r2 / test_accuracy against a plain Double loop over the saved
/// model, `--split-out`, and the near_zero column.
final class TrainDataCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func fixture(_ name: String) -> (x: String, y: String) {
        let f = CLI.testsFolder.appendingPathComponent("ShrinkTests/Fixtures/realdata/\(name)")
        return (f.appendingPathComponent("X.npy").path, f.appendingPathComponent("y.npy").path)
    }

    private func load(_ name: String) throws -> Dataset {
        let (x, y) = fixture(name)
        return try DataLoader.load(data: URL(fileURLWithPath: x), targets: URL(fileURLWithPath: y), targetColumn: nil)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func metrics(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The `--split-out` file: (row, set) per line, header checked.
    private func split(_ path: String) throws -> [(row: Int, set: String)] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "row,set")
        return try lines.dropFirst().map { line in
            let parts = line.split(separator: ",")
            return (try XCTUnwrap(Int(parts[0])), String(parts[1]))
        }
    }

    /// The model's outputs per row, in Double: Linear, then ReLU and Linear for each further
    /// layer of the Sequential state dict (`0.weight`, `0.bias`, `2.weight`, ...).
    private func outputs(_ state: [String: Tensor], _ x: ArraySlice<Double>) throws -> [Double] {
        var a = Array(x)
        var layer = 0
        while let w = state["\(layer).weight"] {
            let b = try XCTUnwrap(state["\(layer).bias"])
            let (out, inputs) = (w.shape[0], w.shape[1])
            if layer > 0 { a = a.map { max($0, 0) } }
            a = (0..<out).map { o in (0..<inputs).reduce(Double(b.values[o])) { $0 + Double(w.values[o * inputs + $1]) * a[$1] } }
            layer += 2
        }
        return a
    }

    /// test loss, accuracy and R² of a saved model on the rows marked `test`, from the raw
    /// data (standardized with the file's metadata when it has some), in Double.
    private func reference(model: String, data: Dataset, split: [(row: Int, set: String)], loss: LossKind) throws
        -> (loss: Double, accuracy: Double, r2: Double) {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: model)))
        let state = try SafeTensors.read(URL(fileURLWithPath: model))
        let standardization = try Standardization(metadata: try SafeTensors.metadata(bytes, path: model))
        let p = data.columns
        let rows = split.filter { $0.set == "test" }.map(\.row)
        var total = 0.0, correct = 0.0
        var predictions: [Double] = [], targets: [Double] = []
        for r in rows {
            var x = data.features[(r * p)..<((r + 1) * p)].map(Double.init)
            if let standardization { x = x.indices.map { (x[$0] - standardization.means[$0]) / standardization.scales[$0] } }
            let z = try outputs(state, x[...])
            let y = Double(data.targets[r])
            switch loss {
            case .mse:
                total += (z[0] - y) * (z[0] - y)
                predictions.append(z[0]); targets.append(y)
            case .bce:
                total += max(z[0], 0) - z[0] * y + log1p(exp(-abs(z[0])))
                correct += (z[0] > 0) == (y == 1) ? 1 : 0
            case .ce:
                let top = z.max()!
                total += log(z.reduce(0) { $0 + exp($1 - top) }) + top - z[Int(y)]
                correct += z.firstIndex(of: top) == Int(y) ? 1 : 0
            }
        }
        let n = Double(rows.count)
        let mean = targets.reduce(0, +) / n
        let r2 = 1 - zip(predictions, targets).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            / targets.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (total / n, correct / n, r2)
    }

    /// Adam on the raw breast_cancer features (0.001 to 4000) swings between epochs; with
    /// --standardize the same run is stable, accurate and the same every time.
    func testStandardizeMakesAdamStableOnBreastCancer() throws {
        let (x, y) = fixture("breast_cancer")
        func run(_ device: String, _ extra: [String], _ name: String) throws -> (stdout: String, epochs: [[String: Any]]) {
            let file = path(name)
            let result = try CLI.run(["train", "--data", x, "--targets", y, "--model", "linear", "--loss", "bce",
                                      "--optimizer", "adam", "--lr", "0.01", "--epochs", "30", "--batch-size", "32",
                                      "--device", device, "--metrics", file] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            return (result.stdout, try metrics(file))
        }
        for device in CLI.devices {
            let raw = try run(device, [], "raw.jsonl")
            let scaled = try run(device, ["--standardize"], "scaled.jsonl")
            let again = try run(device, ["--standardize"], "again.jsonl")
            XCTAssertTrue(scaled.stdout.contains("standardized 30 features (statistics from the training rows)"), scaled.stdout)
            XCTAssertFalse(raw.stdout.contains("standardized"), raw.stdout)
            func lastTen(_ epochs: [[String: Any]]) -> [Double] { epochs.suffix(10).map { $0["test_accuracy"] as! Double } }
            XCTAssertGreaterThanOrEqual(lastTen(scaled.epochs).min()!, 0.97, "\(device): standardized, every late epoch")
            XCTAssertLessThan(lastTen(raw.epochs).min()!, 0.9, "\(device): raw features, Adam swings")
            for (a, b) in zip(scaled.epochs, again.epochs) {
                for key in ["loss", "test_loss", "test_accuracy", "l1"] {
                    XCTAssertEqual(a[key] as? Double, b[key] as? Double, "\(device): reproducible \(key)")
                }
            }
        }
    }

    /// train's statistics are the training rows' (not the test rows'), --save writes them into
    /// the model's metadata, and the saved tensors with them reproduce test_loss and
    /// test_accuracy on the raw test rows.
    func testStandardizationComesFromTheTrainingRowsAndTravelsWithTheModel() throws {
        let (x, y) = fixture("breast_cancer")
        let data = try load("breast_cancer")
        for device in CLI.devices {
            let (model, splitFile, metricsFile) = (path("m-\(device).safetensors"), path("split.csv"), path("m.jsonl"))
            let result = try CLI.run(["train", "--data", x, "--targets", y, "--model", "mlp:8", "--loss", "bce",
                                      "--optimizer", "adam", "--lr", "0.01", "--epochs", "5", "--standardize",
                                      "--device", device, "--save", model, "--split-out", splitFile, "--metrics", metricsFile])
            XCTAssertEqual(result.status, 0, result.stderr)
            let rows = try split(splitFile)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: model)))
            let saved = try XCTUnwrap(try Standardization(metadata: try SafeTensors.metadata(bytes, path: model)))
            let trainRows = rows.filter { $0.set == "train" }.map(\.row)
            XCTAssertEqual(trainRows.count, 455)
            for j in 0..<data.columns {
                func mean(_ rows: [Int]) -> Double { rows.reduce(0) { $0 + Double(data.features[$1 * 30 + j]) } / Double(rows.count) }
                let m = mean(trainRows)
                let sd = (trainRows.reduce(0) { $0 + pow(Double(data.features[$1 * 30 + j]) - m, 2) } / Double(trainRows.count))
                    .squareRoot()
                XCTAssertEqual(saved.means[j], m, accuracy: 1e-12 * abs(m), "mean \(j)")
                XCTAssertEqual(saved.scales[j], sd, accuracy: 1e-12 * sd, "scale \(j)")
                if j == 0 { XCTAssertGreaterThan(abs(mean(Array(0..<569)) - m), 0.01, "not the mean of all rows") }
            }
            let last = try XCTUnwrap(try metrics(metricsFile).last)
            let expected = try reference(model: model, data: data, split: rows, loss: .bce)
            XCTAssertEqual(last["test_loss"] as! Double, expected.loss, accuracy: 1e-5 * expected.loss, device)
            XCTAssertEqual(last["test_accuracy"] as! Double, expected.accuracy, accuracy: 1e-12, device)
        }
    }

    /// test_loss (every loss), test_r2 (mse) and test_accuracy on the held-out rows equal a
    /// Double loop over the saved model on the rows --split-out marks `test`; the train
    /// table shows them.
    func testTestMetricsMatchTheSavedModelOnTheHeldOutRows() throws {
        let cases: [(data: String, loss: LossKind, arguments: [String], columns: [String])] = [
            ("diabetes", .mse, ["--model", "linear", "--optimizer", "adam", "--lr", "2", "--epochs", "40", "--standardize"],
             ["test_loss", "test_r2"]),
            ("iris", .ce, ["--model", "mlp:6", "--optimizer", "adam", "--lr", "0.02", "--epochs", "15", "--test-split", "0.3"],
             ["test_acc", "test_loss"]),
            ("wine", .ce, ["--model", "linear", "--optimizer", "sgd", "--lr", "0.1", "--epochs", "10", "--standardize"],
             ["test_acc", "test_loss"])]
        for c in cases {
            let (x, y) = fixture(c.data)
            let data = try load(c.data)
            for device in CLI.devices {
                let (model, splitFile, metricsFile) = (path("\(c.data).safetensors"), path("\(c.data).csv"), path("\(c.data).jsonl"))
                let result = try CLI.run(["train", "--data", x, "--targets", y, "--loss", c.loss.rawValue, "--batch-size", "16",
                                          "--seed", "2", "--device", device, "--save", model, "--split-out", splitFile,
                                          "--metrics", metricsFile] + c.arguments)
                XCTAssertEqual(result.status, 0, result.stderr)
                let header = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.contains("epoch") })
                for column in c.columns { XCTAssertTrue(header.contains(" \(column) "), "\(c.data): \(header)") }
                let last = try XCTUnwrap(try metrics(metricsFile).last)
                let expected = try reference(model: model, data: data, split: try split(splitFile), loss: c.loss)
                let name = "\(c.data) \(device)"
                XCTAssertEqual(last["test_loss"] as! Double, expected.loss, accuracy: 1e-5 * expected.loss, name)
                if c.loss == .mse {
                    XCTAssertEqual(last["test_r2"] as! Double, expected.r2, accuracy: 1e-5, name)
                    XCTAssertGreaterThan(expected.r2, 0.4, "\(name): a fitted model")
                    XCTAssertNil(last["test_accuracy"], name)
                } else {
                    XCTAssertEqual(last["test_accuracy"] as! Double, expected.accuracy, accuracy: 1e-12, name)
                    XCTAssertNil(last["test_r2"], name)
                }
            }
        }
    }

    /// --split-out lists every row in file order; its test rows are the ones Dataset.split
    /// holds out (train and compare alike); with --test-split 0 every row trains.
    func testSplitOutListsTheHeldOutRows() throws {
        let (x, y) = fixture("breast_cancer")
        let data = try load("breast_cancer")
        let common = ["--data", x, "--targets", y, "--model", "linear", "--loss", "bce", "--optimizer", "adam",
                      "--lr", "0.01", "--epochs", "1", "--seed", "5"]
        let trained = try CLI.run(["train", "--split-out", path("train.csv")] + common)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let rows = try split(path("train.csv"))
        XCTAssertEqual(rows.map(\.row), Array(0..<569), "one line per row, file order")
        let test = rows.filter { $0.set == "test" }.map(\.row)
        XCTAssertEqual(test.count, 114, "⌈0.2 × 569⌉")
        XCTAssertEqual(Set(rows.map(\.set)), ["train", "test"])
        let held = try data.splitIndices(testFraction: 0.2, seed: 5).test
        XCTAssertEqual(test, held.sorted(), "the rows split holds out")
        XCTAssertEqual(data.subset(held), try data.split(testFraction: 0.2, seed: 5).test)

        let compared = try CLI.run(["compare", "--split-out", path("compare.csv"), "--plot", path("c.svg")] + common)
        XCTAssertEqual(compared.status, 0, compared.stderr)
        XCTAssertEqual(try String(contentsOfFile: path("compare.csv"), encoding: .utf8),
                       try String(contentsOfFile: path("train.csv"), encoding: .utf8))

        let all = try CLI.run(["train", "--split-out", path("none.csv"), "--test-split", "0"] + common)
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertEqual(try split(path("none.csv")).map(\.set), Array(repeating: "train", count: 569))
        XCTAssertFalse(all.stdout.contains("test_loss"), all.stdout)

        let bad = try CLI.run(["train", "--split-out", "/nonexistent/split.csv"] + common)
        XCTAssertEqual(bad.status, 64, bad.stdout)
        XCTAssertTrue(bad.stderr.contains("--split-out"), bad.stderr)
    }

    /// The sparsity count is near_zero in train's and compare's tables; the metrics file
    /// writes it as near_zero and as nz, the same number. compare shows test_loss
    /// and test_r2 for mse, test_acc and test_loss for classification.
    func testTableColumns() throws {
        let metricsFile = path("m.jsonl")
        let trained = try CLI.run(["train", "--synthetic", "regression:200:12", "--model", "linear", "--loss", "mse",
                                   "--optimizer", "sgd", "--lr", "0.05", "--epochs", "20", "--l1", "0.1", "--prox",
                                   "--sparse-threshold", "0.05", "--metrics", metricsFile])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let header = try XCTUnwrap(trained.stdout.split(separator: "\n").first { $0.contains("epoch") })
        XCTAssertTrue(header.contains(" near_zero "), String(header))
        XCTAssertFalse(header.contains(" nz "), String(header))
        let epochs = try metrics(metricsFile)
        for epoch in epochs { XCTAssertEqual(epoch["near_zero"] as? Int, epoch["nz"] as? Int) }
        XCTAssertGreaterThan(epochs.last?["near_zero"] as? Int ?? 0, 0, "--prox zeros irrelevant coefficients")
        for (arguments, columns) in [([String](), "data_loss  test_acc  test_loss"),
                                      (["--synthetic", "regression:100:4", "--loss", "mse"], "data_loss  test_loss  test_r2")] {
            let compared = try CLI.run(["compare", "--epochs", "1", "--plot", path("c.svg")] + arguments)
            XCTAssertEqual(compared.status, 0, compared.stderr)
            let header = try XCTUnwrap(compared.stdout.split(separator: "\n").first { $0.hasPrefix("run ") }, compared.stdout)
            XCTAssertTrue(header.contains(columns) && header.contains(" near_zero "), String(header))
        }
    }
}

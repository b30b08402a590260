import Foundation
import Shrink
import XCTest

/// The everyday workflow on real data exported as CSV (Fixtures/workflow, made by
/// scripts/gen_workflow_fixtures.py): fit/path/train → a model file with metadata → predict,
/// with labels as the user has them, compared with scikit-learn on the same split.
final class WorkflowCLITests: XCTestCase {
    private var folder: URL!
    static let workflow = CLI.testsFolder.appendingPathComponent("ShrinkTests/Fixtures/workflow")

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    static func expected(_ name: String) throws -> [String: Any] {
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: workflow.appendingPathComponent("expected.json")))
        return try XCTUnwrap((all as? [String: [String: Any]])?[name])
    }

    static func file(_ name: String) -> String { workflow.appendingPathComponent(name).path }

    /// Reads a CSV the way a user's pandas would: header, then rows of strings.
    static func readCSV(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        return (lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init),
                lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    }

    /// fit --standardize --save on the train file, then predict --proba on the test file:
    /// scikit-learn's labels (text for breast_cancer, 1/2/3 for wine), its probabilities within
    /// 1e-5 and its coefficients within 1e-4·(1 + |w|), on every device; the model file names the
    /// classes, the features and the target column.
    func testFitThenPredictMatchesScikitLearn() throws {
        for name in ["breast_cancer", "wine", "diabetes"] {
            let e = try Self.expected(name)
            let loss = e["loss"] as! String
            for device in CLI.devices {
                let model = folder.appendingPathComponent("\(name)-\(device).safetensors")
                let fit = try CLI.run(["fit", "--data", Self.file(e["train"] as! String), "--loss", loss, "--standardize",
                                       "--alpha", "\(e["alpha"] as! Double)", "--l1-ratio", "\(e["l1_ratio"] as! Double)",
                                       "--device", device, "--save", model.path])
                XCTAssertEqual(fit.status, 0, fit.stderr)
                XCTAssertTrue(fit.stdout.contains("rows: \(e["train_rows"] as! Int) train (all; --test-split 0)"), fit.stdout)
                let saved = try ModelFile.read(model)
                XCTAssertEqual(saved.loss?.rawValue, loss)
                XCTAssertEqual(saved.targetName, e["target"] as? String)
                XCTAssertEqual(saved.classNames, e["classes"] as? [String], name)
                XCTAssertEqual(saved.featureNames?.count, saved.inputs)
                XCTAssertTrue(fit.stdout.contains(saved.featureNames![0]), "the coefficient table names the features")
                let weights = saved.tensors.flatMap { $0.name == "0.weight" ? $0.tensor.values : [] }
                let biases = saved.tensors.flatMap { $0.name == "0.bias" ? $0.tensor.values : [] }
                for (a, b) in zip(weights + biases, (e["coef"] as! [Double]) + (e["intercepts"] as! [Double])) {
                    XCTAssertEqual(Double(a), b, accuracy: 1e-4 * (1 + abs(b)), "\(name) \(device) coefficient")
                }

                let out = folder.appendingPathComponent("\(name)-\(device).csv")
                var arguments = ["predict", "--model", model.path, "--data", Self.file(e["test"] as! String),
                                 "--device", device, "--out", out.path]
                if loss != "mse" { arguments.append("--proba") }
                let predict = try CLI.run(arguments)
                XCTAssertEqual(predict.status, 0, predict.stderr)
                let (header, rows) = try Self.readCSV(out)
                XCTAssertEqual(rows.count, e["test_rows"] as! Int)
                XCTAssertEqual(header[0], e["target"] as! String)
                if loss == "mse" {
                    for (row, p) in zip(rows, e["predictions"] as! [Double]) {
                        XCTAssertEqual(Double(row[0])!, p, accuracy: 1e-4 * (1 + abs(p)), name)
                    }
                } else {
                    let classes = e["classes"] as! [String]
                    XCTAssertEqual(header, [e["target"] as! String] + classes.map { "proba_\($0)" })
                    XCTAssertEqual(rows.map { $0[0] }, e["predictions"] as! [String], "\(name) \(device) labels")
                    let probabilities = rows.flatMap { $0.dropFirst().map { Double($0)! } }
                    for (a, b) in zip(probabilities, e["probabilities"] as! [Double]) {
                        XCTAssertEqual(a, b, accuracy: 1e-5, "\(name) \(device) probability")
                    }
                }

                // evaluate: sklearn.metrics on scikit-learn's own predictions of the same rows.
                let evaluate = try CLI.run(["evaluate", "--model", model.path, "--data", Self.file(e["test"] as! String),
                                            "--device", device, "--json"])
                XCTAssertEqual(evaluate.status, 0, evaluate.stderr)
                let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
                let measured = try XCTUnwrap(report["metrics"] as? [String: Double])
                for (metric, value) in e["metrics"] as! [String: Double] {
                    let tolerance = metric == "accuracy" ? 0 : 1e-5 * abs(value)
                    XCTAssertEqual(try XCTUnwrap(measured[metric], metric), value, accuracy: tolerance, "\(name) \(device) \(metric)")
                }
                XCTAssertEqual(report["rows"] as? Int, e["test_rows"] as? Int)
                if loss != "mse" {
                    XCTAssertEqual(report["confusion_matrix"] as? [[Int]], e["confusion_matrix"] as? [[Int]], "\(name) \(device)")
                    XCTAssertEqual(report["classes"] as? [String], e["classes"] as? [String])
                }
                let table = try CLI.run(["evaluate", "--model", model.path, "--data", Self.file(e["test"] as! String)])
                XCTAssertTrue(table.stdout.contains(loss == "mse" ? "r2" : "true \\ predicted"), table.stdout)
            }
        }
    }

    /// train --standardize --save and compare --save-models write models that predict and
    /// evaluate take on raw rows: the stored statistics are applied, so evaluate's accuracy and
    /// log-loss equal the training table's test_acc/test_loss on the same held-out rows.
    func testTrainAndCompareModelsPredictAndEvaluate() throws {
        let e = try Self.expected("breast_cancer")
        let data = Self.file(e["train"] as! String)
        let model = folder.appendingPathComponent("adam.safetensors"), split = folder.appendingPathComponent("split.csv")
        let metrics = folder.appendingPathComponent("m.jsonl")
        let train = try CLI.run(["train", "--data", data, "--model", "linear", "--loss", "bce", "--optimizer", "adam",
                                 "--lr", "0.01", "--epochs", "30", "--standardize", "--save", model.path,
                                 "--split-out", split.path, "--metrics", metrics.path])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertNotNil(try ModelFile.read(model).standardization)
        // The held-out rows as their own CSV, labels as text.
        let (header, rows) = try Self.readCSV(URL(fileURLWithPath: data))
        let sets = try Self.readCSV(split).rows.map { $0[1] }
        let heldOut = folder.appendingPathComponent("test.csv")
        let text = ([header] + zip(rows, sets).filter { $0.1 == "test" }.map(\.0)).map { $0.joined(separator: ",") }.joined(separator: "\n")
        try (text + "\n").write(to: heldOut, atomically: true, encoding: .utf8)
        let last = try XCTUnwrap(String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").last)
        let epoch = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let evaluate = try CLI.run(["evaluate", "--model", model.path, "--data", heldOut.path, "--json"])
        XCTAssertEqual(evaluate.status, 0, evaluate.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
        let measured = try XCTUnwrap(report["metrics"] as? [String: Double])
        XCTAssertEqual(measured["accuracy"]!, epoch["test_accuracy"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(measured["log_loss"]!, epoch["test_loss"] as! Double, accuracy: 1e-5)
        XCTAssertGreaterThan(measured["accuracy"]!, 0.9)

        let folderOut = folder.appendingPathComponent("runs")
        let compare = try CLI.run(["compare", "--data", data, "--model", "linear", "--loss", "bce", "--epochs", "3",
                                   "--standardize", "--save-models", folderOut.path])
        XCTAssertEqual(compare.status, 0, compare.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: folderOut.path).sorted()
        XCTAssertEqual(files, ["elastic-net.safetensors", "l1.safetensors", "l2.safetensors", "none.safetensors",
                               "weight-decay.safetensors"])
        for file in files {
            let result = try CLI.run(["evaluate", "--model", folderOut.appendingPathComponent(file).path, "--data", heldOut.path])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        // A label the model never saw is named.
        let odd = folder.appendingPathComponent("odd.csv")
        try (([header] + [rows[0].dropLast() + ["unknown"]]).map { $0.joined(separator: ",") }.joined(separator: "\n"))
            .write(to: odd, atomically: true, encoding: .utf8)
        let unknown = try CLI.run(["evaluate", "--model", model.path, "--data", odd.path])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("the label 'unknown' is not one of the model's classes (benign, malignant)"), unknown.stderr)
    }

    /// Labels as the user has them: {1, 2} are two classes for ce (no phantom class 0), {−1, 1}
    /// work for bce and come back as −1/1 from predict (.npy), text labels from a CSV.
    func testLabelsAreEncodedAsLabelEncoderDoes() throws {
        // breast_cancer's first 2 features with labels −1 / 1 (malignant → 1), as .npy.
        let train = try CSVLoader.load(Self.workflow.appendingPathComponent("breast_cancer_train.csv"), targetColumn: "diagnosis")
        let x = NPYArray(shape: [train.rows, train.columns], values: train.features)
        let signs = NPYArray(shape: [train.rows], values: train.targets.map { $0 == 1 ? 1 : -1 })
        let twos = NPYArray(shape: [train.rows], values: train.targets.map { $0 + 1 })
        let (xPath, sPath, tPath) = (folder.appendingPathComponent("x.npy"), folder.appendingPathComponent("s.npy"),
                                     folder.appendingPathComponent("t.npy"))
        try NPY.write(x, to: xPath)
        try NPY.write(signs, to: sPath)
        try NPY.write(twos, to: tPath)
        let bce = folder.appendingPathComponent("bce.safetensors"), ce = folder.appendingPathComponent("ce.safetensors")
        let fitBCE = try CLI.run(["fit", "--data", xPath.path, "--targets", sPath.path, "--loss", "bce", "--alpha", "0.01",
                                  "--standardize", "--save", bce.path])
        XCTAssertEqual(fitBCE.status, 0, fitBCE.stderr)
        let fitCE = try CLI.run(["fit", "--data", xPath.path, "--targets", tPath.path, "--loss", "ce", "--alpha", "0.01",
                                 "--standardize", "--save", ce.path])
        XCTAssertEqual(fitCE.status, 0, fitCE.stderr)
        XCTAssertEqual(try ModelFile.read(ce).outputs, 2, "labels {1, 2} are two classes")
        XCTAssertEqual(try ModelFile.read(ce).classNames, ["1", "2"])
        XCTAssertEqual(try ModelFile.read(bce).classNames, ["-1", "1"])
        let out = folder.appendingPathComponent("p.npy")
        let predict = try CLI.run(["predict", "--model", bce.path, "--data", xPath.path, "--out", out.path])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let labels = try NPY.read(out).values
        XCTAssertEqual(Set(labels), [-1, 1])
        let agree = zip(labels, signs.values).filter { $0 == $1 }.count
        XCTAssertGreaterThan(Double(agree) / Double(labels.count), 0.9, "−1/1 predictions agree with the labels")
        // The ce model on labels 1/2 predicts the same rows as the bce model on −1/1.
        let outCE = folder.appendingPathComponent("q.npy")
        XCTAssertEqual(try CLI.run(["predict", "--model", ce.path, "--data", xPath.path, "--out", outCE.path]).status, 0)
        XCTAssertEqual(try NPY.read(outCE).values.map { $0 == 2 }, labels.map { $0 == 1 })
        // One class only is an error everywhere.
        let one = NPYArray(shape: [train.rows], values: [Float](repeating: 2, count: train.rows))
        try NPY.write(one, to: tPath)
        for command in [["fit", "--alpha", "0.1"], ["path", "--out", folder.appendingPathComponent("p.json").path],
                        ["train", "--model", "linear", "--optimizer", "sgd", "--lr", "0.1", "--epochs", "1"]] {
            let result = try CLI.run(command + ["--data", xPath.path, "--targets", tPath.path, "--loss", "ce"])
            XCTAssertEqual(result.status, 1, "\(command[0]): \(result.stdout)")
            XCTAssertTrue(result.stderr.contains("one class only (every row is 2)"), result.stderr)
        }
    }

    /// Text class labels to .npy is an error that says to write .csv; --proba on an mse model is
    /// an error; a state dict PyTorch wrote (no metadata) needs --loss, then predicts.
    func testPredictErrorsAndPlainStateDicts() throws {
        let e = try Self.expected("breast_cancer")
        let model = folder.appendingPathComponent("bc.safetensors")
        XCTAssertEqual(try CLI.run(["fit", "--data", Self.file(e["train"] as! String), "--loss", "bce", "--alpha", "0.01",
                                    "--standardize", "--save", model.path]).status, 0)
        let npy = try CLI.run(["predict", "--model", model.path, "--data", Self.file(e["test"] as! String),
                               "--out", folder.appendingPathComponent("p.npy").path])
        XCTAssertEqual(npy.status, 1)
        XCTAssertTrue(npy.stderr.contains("the class labels are text") && npy.stderr.contains(".csv"), npy.stderr)
        // Fewer features than the model: the missing column is named.
        let short = folder.appendingPathComponent("short.csv")
        try "mean radius,diagnosis\n1.0,benign\n".write(to: short, atomically: true, encoding: .utf8)
        let missing = try CLI.run(["predict", "--model", model.path, "--data", short.path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("'mean texture'"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)

        // The same tensors without metadata, under nn.Linear's own names.
        let saved = try ModelFile.read(model)
        let plain = folder.appendingPathComponent("plain.safetensors")
        try SafeTensors.write(saved.tensors.map { ($0.name.replacingOccurrences(of: "0.", with: ""), $0.tensor) }, to: plain)
        let x = try CSVLoader.load(URL(fileURLWithPath: Self.file(e["test"] as! String)), targetColumn: "diagnosis")
        let xPath = folder.appendingPathComponent("x.npy")
        try NPY.write(NPYArray(shape: [x.rows, x.columns], values: x.features), to: xPath)
        let noLoss = try CLI.run(["predict", "--model", plain.path, "--data", xPath.path])
        XCTAssertEqual(noLoss.status, 1)
        XCTAssertTrue(noLoss.stderr.contains("--loss"), noLoss.stderr)
        let withLoss = try CLI.run(["predict", "--model", plain.path, "--data", xPath.path, "--loss", "bce", "--proba"])
        XCTAssertEqual(withLoss.status, 0, withLoss.stderr)
        let named = try CLI.run(["predict", "--model", model.path, "--data", Self.file(e["test"] as! String), "--proba"])
        let p1 = withLoss.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").last! }
        let p2 = named.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").last! }
        XCTAssertEqual(p1, p2, "P(class 1) is the same with and without metadata")

        let mse = folder.appendingPathComponent("mse.safetensors")
        let d = try Self.expected("diabetes")
        XCTAssertEqual(try CLI.run(["fit", "--data", Self.file(d["train"] as! String), "--alpha", "0.1", "--save", mse.path]).status, 0)
        let proba = try CLI.run(["predict", "--model", mse.path, "--data", Self.file(d["test"] as! String), "--proba"])
        XCTAssertEqual(proba.status, 1)
        XCTAssertTrue(proba.stderr.contains("--proba needs a classifier"), proba.stderr)
    }

    /// `--init` reads a bare nn.Linear state dict (weight/bias) the same as 0.weight/0.bias, and a
    /// torch.save pickle gets one line that says what it is.
    func testInitAcceptsLinearNamesAndRejectsPickles() throws {
        let e = try Self.expected("diabetes")
        let model = folder.appendingPathComponent("m.safetensors")
        XCTAssertEqual(try CLI.run(["fit", "--data", Self.file(e["train"] as! String), "--alpha", "0.1", "--save", model.path]).status, 0)
        let saved = try ModelFile.read(model)
        let bare = folder.appendingPathComponent("bare.safetensors")
        try SafeTensors.write(saved.tensors.map { ($0.name.replacingOccurrences(of: "0.", with: ""), $0.tensor) }, to: bare)
        var trained: [[Float]] = []
        for initial in [model, bare] {
            let out = folder.appendingPathComponent("t.safetensors")
            let result = try CLI.run(["train", "--data", Self.file(e["train"] as! String), "--model", "linear", "--loss", "mse",
                                      "--optimizer", "sgd", "--lr", "1e-7", "--epochs", "1", "--init", initial.path,
                                      "--no-shuffle", "--test-split", "0", "--save", out.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            trained.append(try ModelFile.read(out).tensors.flatMap(\.tensor.values))
        }
        XCTAssertEqual(trained[0], trained[1], "weight/bias load as 0.weight/0.bias")
        XCTAssertNotEqual(trained[0], saved.tensors.flatMap(\.tensor.values), "one SGD step moved them")
        // torch.save's ZIP container, as PyTorch ≥ 1.6 writes it.
        let pickle = folder.appendingPathComponent("model.pt")
        try Data([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x08, 0x08, 0x00, 0x00] + Array(repeating: 0x41, count: 100)).write(to: pickle)
        let result = try CLI.run(["train", "--data", Self.file(e["train"] as! String), "--model", "linear", "--loss", "mse",
                                  "--optimizer", "sgd", "--lr", "0.1", "--epochs", "1", "--init", pickle.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("torch.save file (pickle), not safetensors"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }

    /// path --cv --save-best writes the α_min (or α_1se) model, which predict takes; the CSV
    /// carries the CV columns and names the coefficients by feature; --save-best without a way to
    /// choose is a usage error.
    func testPathSaveBestAndNamedOutputs() throws {
        let e = try Self.expected("breast_cancer")
        let best = folder.appendingPathComponent("best.safetensors"), csv = folder.appendingPathComponent("p.csv")
        let result = try CLI.run(["path", "--data", Self.file(e["train"] as! String), "--loss", "bce", "--standardize",
                                  "--n-alphas", "12", "--cv", "3", "--test-split", "0", "--out", csv.path,
                                  "--save-best", best.path, "--best", "1se"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let (header, rows) = try Self.readCSV(csv)
        XCTAssertTrue(header.contains("cv_mean_loss") && header.contains("cv_standard_error") && header.contains("cv_pick"))
        XCTAssertTrue(header.contains("\"mean radius\"") || header.contains("mean radius"), "\(header)")
        XCTAssertFalse(header.contains("w0"))
        let pick = header.firstIndex(of: "cv_pick")!
        let alpha1se = try XCTUnwrap(rows.first { $0[pick].contains("alpha_1se") })[0]
        XCTAssertEqual(rows.filter { $0[pick].contains("alpha_min") }.count, 1)
        let saved = try ModelFile.read(best)
        XCTAssertEqual(saved.info["alpha"].map { Double($0)! }, Double(alpha1se))
        XCTAssertEqual(saved.classNames, ["benign", "malignant"])
        XCTAssertTrue(result.stdout.contains("best: alpha"), result.stdout)
        let predict = try CLI.run(["predict", "--model", best.path, "--data", Self.file(e["test"] as! String)])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let labels = predict.stdout.split(separator: "\n").dropFirst().map(String.init)
        let agree = zip(labels, e["predictions"] as! [String]).filter { $0 == $1 }.count
        XCTAssertGreaterThan(Double(agree) / Double(labels.count), 0.9)

        let usage = try CLI.run(["path", "--data", Self.file(e["train"] as! String), "--loss", "bce", "--test-split", "0",
                                 "--out", csv.path, "--save-best", best.path])
        XCTAssertEqual(usage.status, 64, usage.stderr)
    }

    /// fit --test-split holds rows out and reports the test score; path says how many rows train
    /// and validate.
    func testFitTestSplitReportsTheTestScore() throws {
        let e = try Self.expected("wine")
        let result = try CLI.run(["fit", "--data", Self.file(e["train"] as! String), "--loss", "ce", "--alpha", "0.01",
                                  "--standardize", "--test-split", "0.25"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let n = e["train_rows"] as! Int, held = Int((0.25 * Double(n)).rounded(.up))
        XCTAssertTrue(result.stdout.contains("rows: \(n - held) train, \(held) test"), result.stdout)
        XCTAssertTrue(result.stdout.contains("test accuracy"), result.stdout)
    }

    /// CSV headers: an unnamed column (a pandas index) and a repeated name are errors naming the
    /// file; NaN in the data names the file, row and column and counts the rows.
    func testCSVHeaderAndNonFiniteErrors() throws {
        let cases = [(",a,y\n0,1.0,1\n1,2.0,0\n", "column 1 has no name in the header (a pandas index?"),
                     ("a,a,y\n1,1.0,1\n2,2.0,0\n", "the header names the column 'a' twice"),
                     ("a,b,y\n1,nan,1\n2,2.0,0\n3,inf,1\n", "row 2, column 'b': nan in X (2 of 3 rows hold NaN or Inf)")]
        for (text, message) in cases {
            let csv = folder.appendingPathComponent("d.csv")
            try text.write(to: csv, atomically: true, encoding: .utf8)
            let result = try CLI.run(["fit", "--data", csv.path, "--loss", "bce", "--alpha", "0.1"])
            XCTAssertEqual(result.status, 1, text)
            XCTAssertTrue(result.stderr.contains(csv.path) && result.stderr.contains(message), result.stderr)
        }
    }
}

import Foundation
import Shrink
import XCTest

/// fit, path, train, compare, predict and evaluate on sparse `--data` (.svmlight, .npz) equal
/// to the same data as dense `.npy` within 1e-5, on every device.
final class SparseCLIEndToEndTests: SparseCLITestCase {
    /// An `.npy` of `values` in the temporary folder.
    private func npy(_ name: String, _ values: [Float], shape: [Int]? = nil) throws -> String {
        let url = folder.appendingPathComponent(name)
        try NPY.write(NPYArray(shape: shape ?? [values.count], values: values), to: url)
        return url.path
    }

    /// digits (600 × 64, scikit-learn's first 600 images) as scikit-learn loaded it: dense
    /// row-major X and the labels, from the fixture's CSR arrays.
    private func digits() throws -> (x: [Float], y: [Float], rows: Int, columns: Int) {
        let indptr = try NPY.read(fixtures.appendingPathComponent("digits.svm.indptr.npy")).values.map { Int($0) }
        let indices = try NPY.read(fixtures.appendingPathComponent("digits.svm.indices.npy")).values.map { Int($0) }
        let values = try NPY.read(fixtures.appendingPathComponent("digits.svm.data.npy")).values
        let y = try NPY.read(fixtures.appendingPathComponent("digits.svm.y.npy")).values
        let (rows, columns) = (indptr.count - 1, 64)
        var x = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows { for i in indptr[r]..<indptr[r + 1] { x[r * columns + indices[i]] = values[i] } }
        return (x, y, rows, columns)
    }

    /// Dense X [rows, columns] as an svmlight file (one-based, only the non-zeros).
    private func svmlight(_ name: String, x: [Float], y: [Float], columns: Int) throws -> String {
        var text = "# written by SparseCLITests\n"
        for r in 0..<y.count {
            text += "\(y[r])"
            for j in 0..<columns where x[r * columns + j] != 0 { text += " \(j + 1):\(x[r * columns + j])" }
            text += "\n"
        }
        return try file(name, text)
    }

    /// The digits as dense .npy files and as svmlight; `binary` makes the labels digit ≥ 5.
    private func digitsFiles(binary: Bool = false) throws -> (x: String, y: String, svm: String) {
        let d = try digits()
        let y = binary ? d.y.map { $0 >= 5 ? 1 : 0 } : d.y
        let x = try npy("digits-X.npy", d.x, shape: [d.rows, d.columns])
        return (x, try npy("digits-y.npy", y), try svmlight("digits.svm", x: d.x, y: y, columns: d.columns))
    }

    /// Two state dicts with the same tensors, values within 1e-5 (relative above 1).
    private func assertSameModel(_ a: String, _ b: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (sa, sb) = (try SafeTensors.read(URL(fileURLWithPath: a)), try SafeTensors.read(URL(fileURLWithPath: b)))
        XCTAssertEqual(Set(sa.keys), Set(sb.keys), what, file: file, line: line)
        for (name, ta) in sa {
            let tb = try XCTUnwrap(sb[name], file: file, line: line)
            XCTAssertEqual(ta.shape, tb.shape, "\(what) \(name)", file: file, line: line)
            let worst = zip(ta.values, tb.values).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(what) \(name)", file: file, line: line)
        }
    }

    private func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CLI.Result {
        let result = try CLI.run(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)", file: file, line: line)
        return result
    }

    /// fit on .svmlight and on .npz equals fit on the same data as dense .npy (mse and bce),
    /// on every device; the coefficient table lists only the non-zeros.
    func testEndToEndFitOnSparseEqualsDense() throws {
        for device in CLI.devices {
            let files = try digitsFiles()
            let out = { (name: String) in self.folder.appendingPathComponent("\(name)-\(device).safetensors").path }
            let common = ["fit", "--loss", "mse", "--alpha", "0.05", "--l1-ratio", "0.7", "--device", device]
            _ = try run(common + ["--data", files.x, "--targets", files.y, "--save", out("dense")])
            let sparse = try run(common + ["--data", files.svm, "--save", out("svm")])
            XCTAssertTrue(sparse.stdout.contains("features with zero coefficients not listed"), sparse.stdout)
            _ = try run(common + ["--data", fixture("digits_csr.npz"), "--targets", fixture("digits_csr.npz.y.npy"),
                                  "--save", out("npz")])
            try assertSameModel(out("svm"), out("dense"), "\(device) fit mse svmlight")
            try assertSameModel(out("npz"), out("dense"), "\(device) fit mse npz")
            let info = { (name: String) in try ModelFile.read(URL(fileURLWithPath: out(name))).info["svmlight_zero_based"] }
            XCTAssertEqual(try info("svm"), "false", "the svmlight data's index base, recorded for predict")
            XCTAssertNil(try info("npz"))
            XCTAssertNil(try info("dense"))

            let binary = try digitsFiles(binary: true)
            let bce = ["fit", "--loss", "bce", "--alpha", "0.01", "--device", device]
            _ = try run(bce + ["--data", binary.x, "--targets", binary.y, "--save", out("bce-dense")])
            _ = try run(bce + ["--data", binary.svm, "--save", out("bce-svm")])
            try assertSameModel(out("bce-svm"), out("bce-dense"), "\(device) fit bce svmlight")
        }
    }

    /// The README's sparse example: svmlight in, `path --loss bce --cv 5 --save-best`, then
    /// `predict` and `evaluate` on rows narrower than the model; each step equal to the dense route.
    func testEndToEndPathCrossValidationSaveBestPredict() throws {
        var d = try digits()
        d.y = d.y.map { $0 >= 5 ? 1 : 0 }
        // The last 8 features zeroed: an svmlight file of these rows is 56 wide, the model 64.
        var x = d.x
        for r in 0..<d.rows { for j in 56..<64 { x[r * 64 + j] = 0 } }
        let (train, test) = (0..<500, 500..<600)
        let xTrain = try npy("train-X.npy", Array(d.x[(train.lowerBound * 64)..<(train.upperBound * 64)]), shape: [500, 64])
        let yTrain = try npy("train-y.npy", Array(d.y[train]))
        let svmTrain = try svmlight("train.svm", x: Array(d.x[(train.lowerBound * 64)..<(train.upperBound * 64)]),
                                    y: Array(d.y[train]), columns: 64)
        let testX = Array(x[(test.lowerBound * 64)..<(test.upperBound * 64)])
        let xTest = try npy("test-X.npy", testX, shape: [100, 64])
        let yTest = try npy("test-y.npy", Array(d.y[test]))
        let svmTest = try svmlight("test.svm", x: testX, y: Array(d.y[test]), columns: 64)
        let path = { (name: String) in self.folder.appendingPathComponent(name).path }
        let common = ["path", "--loss", "bce", "--cv", "5", "--test-split", "0", "--n-alphas", "20", "--device", "cpu"]
        _ = try run(common + ["--data", xTrain, "--targets", yTrain, "--out", path("dense.json"), "--save-best", path("dense.safetensors")])
        _ = try run(common + ["--data", svmTrain, "--out", path("svm.json"), "--save-best", path("svm.safetensors")])
        try assertSameModel(path("svm.safetensors"), path("dense.safetensors"), "path --cv 5 --save-best")
        let alphas = { (name: String) throws -> [Double] in
            let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name)))) as! [String: Any]
            return (document["path"] as! [[String: Any]]).map { $0["alpha"] as! Double }
        }
        XCTAssertEqual(try alphas("svm.json"), try alphas("dense.json"))

        for device in CLI.devices {
            for proba in [[], ["--proba"]] {
                _ = try run(["predict", "--model", path("svm.safetensors"), "--data", svmTest, "--out", path("p-svm-\(device).npy"),
                             "--device", device] + proba)
                _ = try run(["predict", "--model", path("svm.safetensors"), "--data", xTest, "--out", path("p-dense-\(device).npy"),
                             "--device", device] + proba)
                let (a, b) = (try NPY.read(URL(fileURLWithPath: path("p-svm-\(device).npy"))),
                              try NPY.read(URL(fileURLWithPath: path("p-dense-\(device).npy"))))
                XCTAssertEqual(a.shape, proba.isEmpty ? [100] : [100, 2])
                for (u, v) in zip(a.values, b.values) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), device) }
            }
            let sparse = try run(["evaluate", "--model", path("svm.safetensors"), "--data", svmTest, "--json", "--device", device])
            let dense = try run(["evaluate", "--model", path("svm.safetensors"), "--data", xTest, "--targets", yTest,
                                 "--json", "--device", device])
            let metrics = { (text: String) throws -> [String: Double] in
                let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                return try XCTUnwrap(report["metrics"] as? [String: Double])
            }
            let (es, ed) = (try metrics(sparse.stdout), try metrics(dense.stdout))
            XCTAssertEqual(Set(es.keys), Set(ed.keys))
            for key in ed.keys {
                let (u, v) = (try XCTUnwrap(es[key], key), try XCTUnwrap(ed[key], key))
                XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), "\(device) evaluate \(key)")
            }
        }
        // The .npz route of predict: the same rows, targets optional.
        _ = try run(["predict", "--model", path("svm.safetensors"), "--data", fixture("digits_csr.npz"), "--out", path("p-npz.npy")])
        XCTAssertEqual(try NPY.read(URL(fileURLWithPath: path("p-npz.npy"))).shape, [600])
    }

    /// train on .svmlight (linear, and an MLP with ce) equals train on the same data as dense
    /// .npy: the same split, the same steps, the saved weights within 1e-5; --standardize and
    /// compare run on sparse data.
    func testEndToEndTrainOnSparseEqualsDense() throws {
        let files = try digitsFiles()
        let path = { (name: String) in self.folder.appendingPathComponent(name).path }
        for device in CLI.devices {
            for (name, model) in [("linear", ["--model", "linear", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.0005"]),
                                  ("mlp", ["--model", "mlp:8", "--loss", "ce", "--optimizer", "adam", "--lr", "0.01"])] {
                let common = ["train"] + model + ["--epochs", "2", "--batch-size", "50", "--seed", "3", "--device", device]
                _ = try run(common + ["--data", files.x, "--targets", files.y, "--save", path("\(name)-dense-\(device).safetensors")])
                _ = try run(common + ["--data", files.svm, "--save", path("\(name)-svm-\(device).safetensors")])
                _ = try run(common + ["--data", fixture("digits_csr.npz"), "--targets", fixture("digits_csr.npz.y.npy"),
                                      "--save", path("\(name)-npz-\(device).safetensors")])
                try assertSameModel(path("\(name)-svm-\(device).safetensors"), path("\(name)-dense-\(device).safetensors"),
                                    "\(device) train \(name) svmlight")
                try assertSameModel(path("\(name)-npz-\(device).safetensors"), path("\(name)-dense-\(device).safetensors"),
                                    "\(device) train \(name) npz")
            }
        }
        let standardized = try run(["train", "--data", files.svm, "--model", "linear", "--loss", "ce", "--optimizer", "adam",
                                    "--lr", "0.01", "--epochs", "1", "--standardize", "--device", "cpu",
                                    "--save", path("std.safetensors")])
        XCTAssertTrue(standardized.stdout.contains("scaled 64 sparse features to unit variance, not centered"), standardized.stdout)
        _ = try run(["predict", "--model", path("std.safetensors"), "--data", files.svm, "--out", path("std.csv")])
        let compare = try run(["compare", "--data", files.svm, "--model", "linear", "--loss", "ce", "--epochs", "1",
                               "--standardize", "--device", "cpu"])
        XCTAssertTrue(compare.stdout.contains("480 training rows, 120 test rows, 64 features"), compare.stdout)
    }
}

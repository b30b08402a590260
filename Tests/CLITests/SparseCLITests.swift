import Foundation
import Shrink
@testable import ShrinkCLI
import XCTest

/// Sparse `--data` on the command line: svmlight (`.svm`, `.svmlight`, `.libsvm`) and SciPy
/// `.npz` picked by extension in any case, `--zero-based` and `--n-features`, every malformed
/// file one line naming the file, the line or array and the rule (exit 1, nothing written), and
/// the commands on sparse data equal to the same data as dense `.npy`.
///
/// The `testEndToEnd…` tests need the sparse solvers and trainer (#13's other branches): until
/// those merge, those commands stop at `Dataset.features` on a sparse dataset.
final class SparseCLITests: XCTestCase {
    private var folder: URL!
    private let fixtures = CLI.testsFolder.appendingPathComponent("ShrinkTests/Fixtures/sparse")

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    // MARK: Helpers

    private func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// `text` written to `name` in the temporary folder.
    private func file(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A copy of the fixture `name` under `newName` (another extension's case).
    private func copy(_ name: String, as newName: String) throws -> String {
        let url = folder.appendingPathComponent(newName)
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: url)
        return url.path
    }

    /// An `.npy` of `values` [count] in the temporary folder.
    private func npy(_ name: String, _ values: [Float], shape: [Int]? = nil) throws -> String {
        let url = folder.appendingPathComponent(name)
        try NPY.write(NPYArray(shape: shape ?? [values.count], values: values), to: url)
        return url.path
    }

    /// The loaded data of `arguments` (DataOptions, as train/fit/path/compare parse them).
    private func load(_ arguments: [String]) throws -> Dataset {
        guard let data = try DataOptions.parse(arguments).load(seed: 0) else { throw DataError.invalid("no data loaded") }
        return data
    }

    private func fit(_ data: [String]) -> [String] {
        ["fit"] + data + ["--alpha", "0.1", "--device", "cpu"]
    }

    /// A model file nn.Linear(inputs, 1) (mse) with these weights, as `fit --save` writes it.
    private func linearModel(_ weights: [Float], bias: Float = 0, name: String = "linear.safetensors",
                             info: [String: String] = [:]) throws -> String {
        let url = folder.appendingPathComponent(name)
        let file = try ModelFile(tensors: [("0.weight", Tensor(shape: [1, weights.count], values: weights)),
                                           ("0.bias", Tensor(shape: [1], values: [bias]))], loss: .mse, info: info)
        try file.write(to: url)
        return url.path
    }

    // MARK: Formats and flags (in-process: the loading, as every command does it)

    func testExtensionPicksTheFormatInAnyCase() throws {
        for name in ["h.svm", "h.SVM", "h.svmlight", "h.SvmLight", "h.libsvm", "h.LibSVM"] {
            let data = try load(["--data", try copy("hand.svmlight", as: name)])
            XCTAssertTrue(data.isSparse, name)
            XCTAssertEqual(data.rows, 4, name)
            XCTAssertEqual(data.columns, 7, name)
            XCTAssertEqual(data.targets, [1.5, -2, 0, 3], name)
            XCTAssertEqual(data.sparse?.dense(), [2, 0, -0.4, 0, 0, 0, 0,
                                                  0, 1000, 0, 0, 0, 0, 0.25,
                                                  0, 0, 0, 0, 0, 0, 0,
                                                  0, 0, 0, 0, 0, 0, -1], name)
        }
        let y = try npy("y3.npy", [0, 1, 0])
        for name in ["g.npz", "g.NPZ", "g.Npz"] {
            let data = try load(["--data", try copy("good.npz", as: name), "--targets", y])
            XCTAssertTrue(data.isSparse, name)
            XCTAssertEqual(data.sparse?.dense(), [1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 0], name)
            XCTAssertEqual(data.targets, [0, 1, 0], name)
        }
        let dense = try npy("X.NPY", [1, 2, 3, 4, 5, 6], shape: [3, 2])
        XCTAssertFalse(try load(["--data", dense, "--targets", y]).isSparse, "a dense .NPY stays dense")
    }

    /// auto: zero-based when some index is 0 (scikit-learn's rule), else one-based; true and
    /// false force it (index 0 in a one-based file is an error naming the line).
    func testZeroBasedAutoTrueFalse() throws {
        let withZero = try file("zero.svm", "1 0:1 2:2\n0 1:3\n")
        let auto = try XCTUnwrap(try load(["--data", withZero]).sparse)
        XCTAssertEqual(auto.columns, 3)
        XCTAssertEqual(auto.dense(), [1, 0, 2, 0, 3, 0])
        XCTAssertEqual(try XCTUnwrap(try load(["--data", withZero, "--zero-based", "true"]).sparse), auto)
        XCTAssertThrowsError(try load(["--data", withZero, "--zero-based", "false"])) {
            XCTAssertTrue("\($0)".contains("zero.svm: line 1: index 0 in a one-based file"), "\($0)")
        }

        let withoutZero = try file("one.svm", "1 1:1 3:2\n0 2:3\n")
        let one = try XCTUnwrap(try load(["--data", withoutZero]).sparse)
        XCTAssertEqual(one.columns, 3, "auto: one-based")
        XCTAssertEqual(one.dense(), [1, 0, 2, 0, 3, 0])
        XCTAssertEqual(try XCTUnwrap(try load(["--data", withoutZero, "--zero-based", "false"]).sparse), one)
        let zero = try XCTUnwrap(try load(["--data", withoutZero, "--zero-based", "true"]).sparse)
        XCTAssertEqual(zero.columns, 4, "true: index 3 is the fourth feature")
        XCTAssertEqual(zero.dense(), [0, 1, 0, 2, 0, 0, 3, 0])
    }

    /// svmlight: the width is --n-features (default the largest index + 1); .npz: widened with
    /// empty columns, and narrower than the file is an error naming both widths.
    func testNFeaturesFixesTheWidth() throws {
        let svm = try file("w.svmlight", "1 1:1 3:2\n0 2:3\n")
        let wide = try XCTUnwrap(try load(["--data", svm, "--n-features", "5"]).sparse)
        XCTAssertEqual(wide.columns, 5)
        XCTAssertEqual(wide.dense(), [1, 0, 2, 0, 0, 0, 3, 0, 0, 0])
        XCTAssertEqual(try load(["--data", svm, "--n-features", "3"]).columns, 3, "exactly the width")

        let y = try npy("y3.npy", [0, 1, 0])
        let npz = try XCTUnwrap(try load(["--data", fixture("good.npz"), "--targets", y, "--n-features", "6"]).sparse)
        XCTAssertEqual(npz.columns, 6)
        XCTAssertEqual(npz.dense(), [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0])
        XCTAssertEqual(try load(["--data", fixture("good.npz"), "--targets", y, "--n-features", "4"]).columns, 4)
        XCTAssertThrowsError(try load(["--data", fixture("good.npz"), "--targets", y, "--n-features", "3"])) {
            XCTAssertTrue("\($0)".contains("good.npz: 4 features, more than --n-features 3"), "\($0)")
        }
    }

    /// Flags that cannot apply are usage errors (exit 64) naming the flag, before any work,
    /// on every command that takes --data.
    func testSparseFlagsAreUsageErrorsWhereTheyCannotApply() throws {
        let y = try npy("y3.npy", [0, 1, 0])
        let x = try npy("X.npy", [1, 2, 3, 4, 5, 6], shape: [3, 2])
        let csv = try file("d.csv", "a,y\n1,0\n2,1\n")
        let svm = try file("d.svm", "1 1:1\n0 2:1\n")
        let cases: [([String], [String])] = [
            (["--data", x, "--targets", y, "--n-features", "4"], ["--n-features", "X.npy"]),
            (["--data", csv, "--zero-based", "true"], ["--zero-based", "d.csv"]),
            (["--synthetic", "regression:20:3", "--n-features", "3"], ["--n-features needs sparse --data"]),
            (["--data", fixture("good.npz"), "--targets", y, "--zero-based", "false"], ["--zero-based", "good.npz"]),
            (["--data", svm, "--n-features", "0"], ["--n-features must be at least 1"]),
            (["--data", svm, "--zero-based", "yes"], ["--zero-based", "yes"]),
            (["--data", svm, "--targets", y], ["--targets", "d.svm", "holds its labels"]),
            (["--data", svm, "--target-column", "y"], ["--target-column", "d.svm", "holds its labels"]),
        ]
        for (data, messages) in cases {
            try expectFailure(fit(data), status: 64, messages)
        }
        try expectFailure(["train"] + cases[0].0 + ["--model", "linear", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1",
                                                    "--epochs", "1"], status: 64, cases[0].1)
        try expectFailure(["path"] + cases[1].0 + ["--out", folder.appendingPathComponent("p.json").path],
                          status: 64, cases[1].1, saveFlag: "--save-best")
        try expectFailure(["compare"] + cases[2].0, status: 64, cases[2].1, saveFlag: "--plot", saveExtension: "svg")
        let model = try linearModel([1, 1])
        try expectFailure(["predict", "--model", model] + cases[0].0, status: 64, cases[0].1, saveFlag: "--out", saveExtension: "csv")
        try expectFailure(["predict", "--model", model] + cases[6].0, status: 64, cases[6].1, saveFlag: "--out", saveExtension: "csv")
        let evaluate = try CLI.run(["evaluate", "--model", model] + cases[1].0)
        XCTAssertEqual(evaluate.status, 64, evaluate.stderr)
        XCTAssertTrue(evaluate.stderr.contains("--zero-based") && evaluate.stderr.contains("d.csv"), evaluate.stderr)
    }

    // MARK: Bad input through the command line: one line, exit 1, nothing written

    /// Runs `arguments` + `saveFlag` over an existing file; asserts the exit status, exactly one
    /// stderr line holding every one of `messages`, and the existing file untouched.
    private func expectFailure(_ arguments: [String], status: Int32, _ messages: [String], saveFlag: String = "--save",
                               saveExtension: String = "safetensors", file: StaticString = #filePath, line: UInt = #line) throws {
        let save = folder.appendingPathComponent("previous.\(saveExtension)")
        let sentinel = Data("previous output".utf8)
        try sentinel.write(to: save)
        let result = try CLI.run(arguments + [saveFlag, save.path])
        XCTAssertEqual(result.status, status, "\(arguments): stdout: \(result.stdout) stderr: \(result.stderr)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("shrink: no OpenCL") && !$0.hasPrefix("shrink: compiling") }
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(result.stderr)", file: file, line: line)
        for message in messages {
            XCTAssertTrue(result.stderr.contains(message), "'\(message)' not in: \(result.stderr)", file: file, line: line)
        }
        XCTAssertEqual(try Data(contentsOf: save), sentinel, "\(saveFlag) target changed", file: file, line: line)
    }

    /// Each broken svmlight rule: the file, the line and the rule, on fit, train, path and evaluate.
    func testMalformedSvmlightNamesFileLineAndRule() throws {
        let cases: [(name: String, text: String, flags: [String], messages: [String])] = [
            ("unsorted.svm", "1 1:1\n0 3:1 2:1\n", [], ["line 2", "not sorted (3 before 2)"]),
            ("duplicate.svmlight", "1 2:1 2:3\n", [], ["line 1", "feature index 2 appears twice"]),
            ("beyond.libsvm", "1 1:1\n# c\n1 9:1\n", ["--n-features", "4"], ["line 3", "index 9", "beyond --n-features 4"]),
            ("number.svm", "1 1:1\n1 1:abc\n", [], ["line 2", "'abc' is not a finite number"]),
            ("inf.svm", "1 1:1e999\n", [], ["line 1", "not a finite number"]),
            ("label.svm", "1 1:1\n1:2 3:4\n", [], ["line 2", "starts with '1:2', not a label"]),
            ("badlabel.svm", "x 1:2\n", [], ["line 1", "the label 'x' is not a finite number"]),
            ("index.SVM", "1 a:2\n", [], ["line 1", "bad feature index 'a'"]),
            ("pair.svm", "1 2\n", [], ["line 1", "'2' is not index:value"]),
            ("zero.svm", "1 1:1\n2 0:1\n", ["--zero-based", "false"], ["line 2", "index 0 in a one-based file"]),
            ("empty.svm", "# only a comment\n\n", [], ["no rows"]),
        ]
        for c in cases {
            let path = try file(c.name, c.text)
            try expectFailure(fit(["--data", path] + c.flags), status: 1, [path] + c.messages)
        }
        let bad = try file("bad.svm", "1 1:1\n0 3:1 2:1\n")
        try expectFailure(["train", "--data", bad, "--model", "linear", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1",
                           "--epochs", "1", "--device", "cpu"], status: 1, [bad, "line 2", "not sorted"])
        try expectFailure(["path", "--data", bad, "--device", "cpu", "--out", folder.appendingPathComponent("p.json").path],
                          status: 1, [bad, "line 2", "not sorted"], saveFlag: "--report", saveExtension: "html")
        let model = try linearModel([1, 1, 1])
        try expectFailure(["predict", "--model", model, "--data", bad], status: 1, [bad, "line 2", "not sorted"],
                          saveFlag: "--out", saveExtension: "csv")
        let evaluate = try CLI.run(["evaluate", "--model", model, "--data", bad])
        XCTAssertEqual(evaluate.status, 1, evaluate.stderr)
        XCTAssertTrue(evaluate.stderr.contains("\(bad): line 2: feature indices are not sorted"), evaluate.stderr)
    }

    /// Each broken .npz rule (the fixtures scripts/gen_sparse_fixtures.py made), the missing
    /// --targets and a row count that differs from y's: the file, the array and the rule.
    func testMalformedNPZNamesFileArrayAndRule() throws {
        let y = try npy("y3.npy", [0, 1, 0])
        let cases: [(String, [String])] = [
            ("bad_unsorted.npz", ["csr: row 0's column indices are not sorted"]),
            ("bad_duplicate.npz", ["csr: row 0 has column 1 twice"]),
            ("bad_index_range.npz", ["csr: row 0 has column index 4, outside 0..<4"]),
            ("bad_indptr_decreasing.npz", ["indptr decreases at row 1"]),
            ("bad_indptr_end.npz", ["indptr ends at 2 but there are 3 non-zeros"]),
            ("bad_format.npz", ["format 'coo' is not supported"]),
            ("bad_missing.npz", ["no 'indptr' array"]),
            ("bad_float_indices.npz", ["[indices]"]),
            ("bad_shape.npz", ["shape must be two sizes"]),
            ("bad_nan.npz", ["data[1] is nan"]),
            ("bad_truncated.npz", ["not a ZIP archive"]),
        ]
        for (name, messages) in cases {
            try expectFailure(fit(["--data", fixture(name), "--targets", y]), status: 1, [fixture(name)] + messages)
        }
        try expectFailure(fit(["--data", fixture("good.npz")]), status: 1, ["good.npz: .npz features need --targets y.npy"])
        let y5 = try npy("y5.npy", [0, 1, 0, 1, 1])
        try expectFailure(fit(["--data", fixture("good.npz"), "--targets", y5]), status: 1,
                          ["X has 3 rows (good.npz) but y has 5 (y5.npy)"])
        let y2d = try npy("y2d.npy", [0, 1, 0, 1, 1, 0], shape: [3, 2])
        try expectFailure(fit(["--data", fixture("good.npz"), "--targets", y2d]), status: 1, ["y2d.npy", "y must be 1-D"])
        let yNaN = try npy("ynan.npy", [0, .nan, 0])
        try expectFailure(fit(["--data", fixture("good.npz"), "--targets", yNaN]), status: 1, ["ynan.npy: row 2: nan in y"])
        let model = try linearModel([1, 1, 1, 1])
        let evaluate = try CLI.run(["evaluate", "--model", model, "--data", fixture("good.npz")])
        XCTAssertEqual(evaluate.status, 1, evaluate.stderr)
        XCTAssertTrue(evaluate.stderr.contains("good.npz: .npz rows need --targets y.npy to be evaluated"), evaluate.stderr)
        try expectFailure(["predict", "--model", model, "--data", fixture("bad_duplicate.npz")], status: 1,
                          [fixture("bad_duplicate.npz"), "twice"], saveFlag: "--out", saveExtension: "npy")
    }

    // MARK: predict / evaluate: the model's width

    /// Sparse rows narrower than the model (an svmlight file is as wide as its largest index)
    /// are widened with empty columns; wider is an error naming both widths.
    func testPredictWidensNarrowerSparseRowsAndRejectsWider() throws {
        let svm = try file("rows.svm", "1 1:1 3:2\n0 2:3\n")  // 3 features as read
        let model = try ModelFile.read(URL(fileURLWithPath: try linearModel([Float](repeating: 1, count: 5))))
        let rows = try ModelInputOptions.parse(["--model", "unused", "--data", svm]).loadRows(for: model, needTargets: true)
        XCTAssertTrue(rows.hasTargets)
        XCTAssertEqual(rows.data.columns, 5)
        XCTAssertEqual(rows.data.sparse?.dense(), [1, 0, 2, 0, 0, 0, 3, 0, 0, 0])
        XCTAssertEqual(rows.data.targets, [1, 0])
        let y = try npy("y3.npy", [0, 1, 0])
        let npz = try ModelInputOptions.parse(["--model", "unused", "--data", fixture("good.npz")])
            .loadRows(for: model, needTargets: false)
        XCTAssertFalse(npz.hasTargets)
        XCTAssertEqual(npz.data.columns, 5)
        XCTAssertEqual(try ModelInputOptions.parse(["--model", "unused", "--data", fixture("good.npz"), "--targets", y])
            .loadRows(for: model, needTargets: true).data.targets, [0, 1, 0])

        let narrow = try linearModel([1, 1], name: "narrow.safetensors")
        try expectFailure(["predict", "--model", narrow, "--data", svm], status: 1, ["rows.svm: 3 features, more than the model's 2"],
                          saveFlag: "--out", saveExtension: "csv")
        try expectFailure(["predict", "--model", narrow, "--data", svm, "--n-features", "1"], status: 1,
                          ["rows.svm: line 1: index 3", "beyond --n-features 1"], saveFlag: "--out", saveExtension: "csv")
        let evaluate = try CLI.run(["evaluate", "--model", narrow, "--data", fixture("good.npz"), "--targets", y])
        XCTAssertEqual(evaluate.status, 1, evaluate.stderr)
        XCTAssertTrue(evaluate.stderr.contains("good.npz: 4 features, more than the model's 2"), evaluate.stderr)
    }

    /// `--zero-based auto` decides per file, so a test file without index 0 would be read
    /// one-based after zero-based training data: the model records its data's base
    /// (svmlight_zero_based) and predict/evaluate read svmlight rows with it unless --zero-based says otherwise.
    func testPredictReadsSvmlightRowsWithTheModelsIndexBase() throws {
        let svm = try file("rows.svm", "1 1:1 3:2\n")  // no index 0: auto reads it one-based
        let rows = { (model: String, flags: [String]) throws -> [Float]? in
            try ModelInputOptions.parse(["--model", model, "--data", svm] + flags)
                .loadRows(for: try ModelFile.read(URL(fileURLWithPath: model)), needTargets: false).data.sparse?.dense()
        }
        let zero = try linearModel([1, 1, 1, 1], name: "zero.safetensors", info: ["svmlight_zero_based": "true"])
        let one = try linearModel([1, 1, 1, 1], name: "one.safetensors", info: ["svmlight_zero_based": "false"])
        let plain = try linearModel([1, 1, 1, 1], name: "plain.safetensors")
        XCTAssertEqual(try rows(zero, []), [0, 1, 0, 2], "the model's zero-based data")
        XCTAssertEqual(try rows(zero, ["--zero-based", "false"]), [1, 0, 2, 0], "--zero-based overrides the model")
        XCTAssertEqual(try rows(one, []), [1, 0, 2, 0])
        XCTAssertEqual(try rows(plain, []), [1, 0, 2, 0], "auto")
        XCTAssertEqual(try rows(plain, ["--zero-based", "true"]), [0, 1, 0, 2])
    }

    // MARK: End to end (needs the sparse solvers and trainer merged)

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
        XCTAssertTrue(standardized.stdout.contains("standardized 64 features"), standardized.stdout)
        _ = try run(["predict", "--model", path("std.safetensors"), "--data", files.svm, "--out", path("std.csv")])
        let compare = try run(["compare", "--data", files.svm, "--model", "linear", "--loss", "ce", "--epochs", "1",
                               "--standardize", "--device", "cpu"])
        XCTAssertTrue(compare.stdout.contains("480 training rows, 120 test rows, 64 features"), compare.stdout)
    }
}

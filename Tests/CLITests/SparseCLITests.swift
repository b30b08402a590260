import Foundation
import Shrink
@testable import ShrinkCLI
import XCTest

/// Sparse `--data` on the command line: svmlight (`.svm`, `.svmlight`, `.libsvm`) and SciPy
/// `.npz` picked by extension in any case, `--zero-based` and `--n-features`, every malformed
/// file one line naming the file, the line or array and the rule (exit 1, nothing written),
/// and predict/evaluate fitting sparse rows to the model's width. (The commands' results on
/// sparse data: SparseCLIEndToEndTests.)
final class SparseCLITests: SparseCLITestCase {
    // MARK: Helpers

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
            (["--data", fixture("good.npz"), "--targets", y, "--target-column", "y"], ["--target-column applies to CSV data"]),
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
        XCTAssertEqual(npz.data.sparse?.dense(), [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0])
        XCTAssertThrowsError(try ModelInputOptions.parse(["--model", "unused", "--data", fixture("good.npz"), "--n-features", "3"])
            .loadRows(for: model, needTargets: false)) {
            XCTAssertTrue("\($0)".contains("good.npz: 4 features, more than --n-features 3"), "\($0)")
        }
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
}

import Foundation
import XCTest

/// Bad input: one clear line on standard error, a non-zero exit, and nothing written.
final class CLIErrorTests: XCTestCase {
    private var folder: URL!
    private var good: [String] = []

    override func setUpWithError() throws {
        folder = try CLI.temporaryFolder()
        let fixture = CLI.fixturesFolder.appendingPathComponent("seed-linear-mse-l1-l2norm")
        good = ["train", "--data", fixture.appendingPathComponent("X.npy").path,
                "--targets", fixture.appendingPathComponent("y.npy").path,
                "--model", "linear", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.01", "--epochs", "2",
                "--device", "cpu"]
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// Runs `arguments` with --save over an existing file and --metrics; asserts the exit
    /// status, one stderr line containing `message`, the saved file untouched, no metrics file.
    private func expectFailure(_ arguments: [String], status: Int32, message: String, metricsAllowed: Bool = false,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let save = folder.appendingPathComponent("model.safetensors")
        let sentinel = Data("previous model".utf8)
        try sentinel.write(to: save)
        let metrics = folder.appendingPathComponent("m.jsonl")
        let result = try CLI.run(arguments + ["--save", save.path, "--metrics", metrics.path])
        XCTAssertEqual(result.status, status, "stderr: \(result.stderr)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("shrink: no OpenCL") && !$0.hasPrefix("shrink: compiling") }
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(message), "'\(message)' not in: \(result.stderr)", file: file, line: line)
        XCTAssertEqual(try Data(contentsOf: save), sentinel, "--save target changed", file: file, line: line)
        if !metricsAllowed {
            XCTAssertFalse(FileManager.default.fileExists(atPath: metrics.path), "metrics written", file: file, line: line)
        }
    }

    private func replacing(_ flag: String, with value: String) -> [String] {
        var args = good
        if let i = args.firstIndex(of: flag) { args[i + 1] = value } else { args += [flag, value] }
        return args
    }

    func testMissingDataFile() throws {
        try expectFailure(replacing("--data", with: "/nonexistent/X.npy"), status: 1, message: "/nonexistent/X.npy")
    }

    /// A folder, or a path that names nothing (also one without an extension), given as data
    /// or targets: the path and what is wrong with it, not an extension or a reader's error.
    func testFolderOrNothingAsDataOrTargets() throws {
        let named = folder.appendingPathComponent("rows.csv")
        try FileManager.default.createDirectory(at: named, withIntermediateDirectories: true)
        try expectFailure(replacing("--data", with: named.path), status: 1, message: "\(named.path): cannot read: Is a directory")
        try expectFailure(replacing("--data", with: folder.path), status: 1, message: "\(folder.path): cannot read: Is a directory")
        try expectFailure(replacing("--targets", with: folder.path), status: 1, message: "\(folder.path): cannot read: Is a directory")
        try expectFailure(replacing("--data", with: "/nonexistent/rows"), status: 1,
                          message: "/nonexistent/rows: cannot read: No such file or directory")
        let model = folder.appendingPathComponent("m.safetensors")
        XCTAssertEqual(try CLI.run(good + ["--save", model.path]).status, 0)
        let predict = try CLI.run(["predict", "--model", model.path, "--data", named.path])
        XCTAssertEqual(predict.status, 1)
        XCTAssertEqual(predict.stderr, "shrink: error: \(named.path): cannot read: Is a directory\n")
    }

    func testBadCSV() throws {
        let csv = folder.appendingPathComponent("bad.csv")
        try "a,b,y\n1,2,0\n3,oops,1\n".write(to: csv, atomically: true, encoding: .utf8)
        var args = good
        let i = args.firstIndex(of: "--data")!
        args.replaceSubrange(i...(i + 3), with: ["--data", csv.path])
        try expectFailure(args, status: 1, message: "oops")
    }

    func testInitShapeMismatch() throws {
        let other = CLI.fixturesFolder.appendingPathComponent("adam-coupled-wd/init.safetensors")
        try expectFailure(good + ["--init", other.path], status: 1, message: "0.weight")
    }

    func testNegativeLambda() throws {
        try expectFailure(good + ["--l1", "-0.1"], status: 64, message: "--l1")
    }

    func testNaNLambda() throws {
        try expectFailure(good + ["--l2", "nan"], status: 64, message: "--l2")
    }

    func testNegativeLearningRate() throws {
        try expectFailure(replacing("--lr", with: "-1"), status: 64, message: "--lr")
    }

    func testUnknownModel() throws {
        try expectFailure(replacing("--model", with: "cnn"), status: 64, message: "cnn")
    }

    func testUnknownDevice() throws {
        try expectFailure(replacing("--device", with: "tpu"), status: 64, message: "tpu")
    }

    func testAbsentOpenCLDevice() throws {
        try expectFailure(replacing("--device", with: "opencl:9:9"), status: 1, message: "opencl:9:9")
    }

    /// Full batch: step 1 of epoch 1 updates to huge weights, the loss of epoch 2 is Inf.
    /// The metrics of the epochs before stay (the training ones finite; the held-out loss of
    /// the huge weights already overflows, written as null); the saved model is untouched.
    func testDivergenceNamesEpochAndStep() throws {
        var args = replacing("--lr", with: "1e30")
        args[args.firstIndex(of: "--epochs")! + 1] = "3"
        try expectFailure(args, status: 1,
                          message: "at epoch 2, step 1", metricsAllowed: true)
        let lines = try String(contentsOf: folder.appendingPathComponent("m.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let epoch = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        for key in ["loss", "data_loss", "penalty", "l1", "l2"] { XCTAssertTrue(epoch[key] is Double, key) }
        XCTAssertTrue(epoch["test_loss"] is NSNull, "Inf is written as null")
    }

    func testDivergenceInMiniBatchesNamesTheStep() throws {
        try expectFailure(replacing("--lr", with: "1e30") + ["--batch-size", "100", "--no-shuffle"], status: 1,
                          message: "at epoch 1, step 2", metricsAllowed: true)
    }

    func testUsageErrorsExit64() throws {
        let cases: [([String], String)] = [
            (replacing("--loss", with: "hinge"), "hinge"),
            (replacing("--optimizer", with: "rmsprop"), "rmsprop"),
            (good + ["--momentum", "1"], "--momentum"),
            (good + ["--momentum", "-0.1"], "--momentum"),
            (replacing("--epochs", with: "0"), "--epochs"),
            (good + ["--batch-size", "-1"], "--batch-size"),
            (good + ["--test-split", "1"], "--test-split"),
            (good + ["--test-split", "-0.5"], "--test-split"),
            (good + ["--weight-decay", "nan"], "--weight-decay"),
        ]
        for (args, message) in cases { try expectFailure(args, status: 64, message: message) }
    }

    func testNonFiniteDataIsRejectedNamingTheRow() throws {
        let csv = folder.appendingPathComponent("nan.csv")
        try "a,b,y\n1,2,0\n3,nan,1\n".write(to: csv, atomically: true, encoding: .utf8)
        var args = good
        let i = args.firstIndex(of: "--data")!
        args.replaceSubrange(i...(i + 3), with: ["--data", csv.path])
        try expectFailure(args, status: 1, message: "nan.csv: row 3, column 'b': nan in X (1 of 2 rows hold NaN or Inf)")
    }

    /// A model larger than the device can hold is a typed error, not a crash (PoCL capped to 1 GB).
    func testAllocationFailureOnTheDevice() throws {
        guard CLI.devices.count > 1 else { throw XCTSkip("OpenCL: no platform") }
        let save = folder.appendingPathComponent("model.safetensors")
        try Data("previous model".utf8).write(to: save)
        let result = try CLI.run(["train", "--synthetic", "classification:8:4000", "--model", "mlp:30000",
                                  "--loss", "bce", "--optimizer", "sgd", "--lr", "0.1", "--epochs", "1",
                                  "--device", "opencl:0:0", "--save", save.path],
                                 environment: ["POCL_MEMORY_LIMIT": "1"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot allocate"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: save), Data("previous model".utf8))
    }
}

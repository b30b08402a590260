import Foundation
@testable import ShrinkCLI
import XCTest

/// Command-line consistency, through the binary: one message per rule whatever the spelling,
/// exit 64 for every usage error, subcommand names, version, help, resume checks, peer scripts.
final class CLIConsistencyTests: XCTestCase {
    private var folder: URL!
    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private let train = ["train", "--synthetic", "classification:60:3", "--model", "linear", "--loss", "bce",
                         "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--device", "cpu"]

    /// Exit 64 and one line on standard error containing `message`; returns that line.
    @discardableResult
    private func expectUsageError(_ arguments: [String], _ message: String, environment: [String: String] = [:],
                                  file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try CLI.run(arguments, environment: environment)
        XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(message), "'\(message)' not in: \(result.stderr)", file: file, line: line)
        return result.stderr
    }

    private func replacing(_ arguments: [String], _ flag: String, _ value: String) -> [String] {
        var result = arguments
        if let i = result.firstIndex(of: flag) { result[i + 1] = value } else { result += [flag, value] }
        return result
    }

    // MARK: B1. Negative values

    /// `--flag -X` and `--flag=-X` give the same one line; one rule and wording per flag.
    func testNegativeValuesGiveTheSameMessageInBothSpellings() throws {
        let fit = ["fit", "--synthetic", "regression:40:3", "--alpha", "0.1", "--device", "cpu"]
        let cases: [([String], String, String, String)] = [
            (train, "--lr", "-1", "--lr must be a finite number > 0, got -1"),
            (train, "--l1", "-0.5", "--l1 must be a finite number ≥ 0, got -0.5"),
            (train, "--weight-decay", "-1e-3", "--weight-decay must be a finite number ≥ 0, got -0.001"),
            (train, "--momentum", "-0.1", "--momentum must be in [0, 1), got -0.1"),
            (train, "--epochs", "-2", "--epochs must be > 0, got -2"),
            (fit, "--alpha", "-1", "--alpha must be a finite number ≥ 0, got -1"),
        ]
        for (arguments, flag, value, message) in cases {
            let separate = try expectUsageError(replacing(arguments, flag, value), message)
            let joined = try expectUsageError(replacing(arguments, flag, "").filter { $0 != flag && !$0.isEmpty }
                                              + ["\(flag)=\(value)"], message)
            XCTAssertEqual(separate, joined, flag)
        }
        try expectUsageError(replacing(train, "--lr", "0"), "--lr must be a finite number > 0, got 0")
        try expectUsageError(replacing(train, "--lr", "nan"), "--lr must be a finite number > 0, got nan")
    }

    // MARK: B2. Exit 64 for every usage error

    /// A bad --synthetic spec and a bad $SHRINK_DEVICE are usage errors in every command.
    func testBadSyntheticAndShrinkDeviceExit64InEveryCommand() throws {
        let out = folder.appendingPathComponent("p.json").path
        let commands: [[String]] = [
            Array(train.dropLast(2)), ["compare", "--epochs", "1"], ["fit", "--alpha", "0.1"],
            ["path", "--n-alphas", "3", "--out", out],
        ]
        for command in commands {
            for spec in ["classification:abc:3", "classification:10", "blobs:10:3", "classification:10:3:1"] {
                try expectUsageError(command + ["--synthetic", spec, "--device", "cpu"], spec.hasPrefix("blobs") ? "blobs" : spec)
            }
            try expectUsageError(command + ["--synthetic", "classification:30:3"], "SHRINK_DEVICE", environment: ["SHRINK_DEVICE": "tpu"])
        }
        for bench in [["bench", "matmul", "--m", "4", "--n", "4", "--k", "4"], ["bench", "compare", "--epochs", "1"],
                      ["bench", "path", "--n", "20", "--p", "3"], ["bench", "train", "--workload", "A", "--no-torch"]] {
            try expectUsageError(bench, "SHRINK_DEVICE", environment: ["SHRINK_DEVICE": "tpu"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    // MARK: B3. Version, help, unknown subcommands

    func testVersionHelpAndUnknownSubcommands() throws {
        let version = try CLI.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout, "\(shrinkVersion)\n")
        XCTAssertEqual(shrinkVersion.split(separator: ".").count, 3)
        try expectUsageError(["help", "nonsense"], "unknown subcommand 'nonsense'")
        let typo = try expectUsageError(["trian", "--data", "x"], "unknown subcommand 'trian'")
        XCTAssertTrue(typo.contains("did you mean 'train'?"), typo)
        let nested = try expectUsageError(["bench", "matmull", "--m", "4"], "unknown subcommand 'matmull' for 'shrink bench'")
        XCTAssertTrue(nested.contains("did you mean 'matmul'?"), nested)
        let far = try expectUsageError(["zzzzzz"], "expected one of: train, compare")
        XCTAssertFalse(far.contains("did you mean"), far)
        for known in [["help"], ["help", "train"], ["help", "bench", "matmul"], ["bench", "--help"]] {
            let result = try CLI.run(known)
            XCTAssertEqual(result.status, 0, "\(known): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("USAGE"), "\(known)")
        }
    }

    /// The nearest name counts a swap of neighbours as one edit.
    func testSuggestionDistance() {
        XCTAssertEqual(CommandLineArguments.distance("trian", "train"), 1)
        XCTAssertEqual(CommandLineArguments.distance("fitt", "fit"), 1)
        XCTAssertEqual(CommandLineArguments.distance("", "path"), 4)
        XCTAssertEqual(CommandLineArguments.distance("kitten", "sitting"), 3)
        XCTAssertEqual(CommandLineArguments.joiningNegativeValues(["--lr", "-1", "--l1", "-.5", "--prox", "--x", "-inf", "--", "--a", "-1"]),
                       ["--lr=-1", "--l1=-.5", "--prox", "--x=-inf", "--", "--a", "-1"])
        XCTAssertEqual(CommandLineArguments.joiningNegativeValues(["--plot", "-h"]), ["--plot", "-h"])
    }

    /// --help marks each command's required flags and states each default.
    func testHelpMarksRequiredFlagsAndDefaults() throws {
        func helpLine(_ command: [String], _ flag: String) throws -> String {
            let help = try CLI.run(command + ["--help"]).stdout
            // An option's text runs until the next line that starts an option.
            let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let start = lines.firstIndex(where: { $0.hasPrefix("  \(flag) ") || $0 == "  \(flag)" }) else {
                XCTFail("\(flag) not in \(command) --help")
                return ""
            }
            let rest = lines[(start + 1)...].prefix { !$0.hasPrefix("  -") && !$0.isEmpty }
            return ([lines[start]] + rest).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        }
        for flag in ["--model", "--loss", "--optimizer", "--lr", "--epochs"] {
            XCTAssertTrue(try helpLine(["train"], flag).contains("(required)"), flag)
        }
        XCTAssertTrue(try helpLine(["fit"], "--alpha").contains("(required)"))
        XCTAssertTrue(try helpLine(["path"], "--out").contains("(required)"))
        let compare: [(String, String)] = [("--model", "mlp:50"), ("--loss", "bce"), ("--optimizer", "sgd"), ("--lr", "0.01"),
                                           ("--epochs", "20"), ("--batch-size", "32"), ("--momentum", "0")]
        for (flag, value) in compare {
            XCTAssertTrue(try helpLine(["compare"], flag).contains("(default: \(value)"), "compare \(flag)")
        }
        XCTAssertTrue(try helpLine(["train"], "--batch-size").contains("(default: 0)"))
        XCTAssertTrue(try helpLine(["train"], "--momentum").contains("(default: 0)"))
        XCTAssertTrue(try helpLine(["bench", "solvers"], "--script").contains("(default: scripts/bench_solvers.py"))
    }

    // MARK: B5. Resume

    private func resumeArguments(data: String, epochs: Int, extra: [String] = []) -> [String] {
        ["train", "--data", data, "--model", "mlp:4", "--loss", "bce", "--optimizer", "sgd", "--momentum", "0.9",
         "--lr", "0.1", "--epochs", "\(epochs)", "--batch-size", "16", "--device", "cpu"] + extra
    }

    /// Another flag is named with both values; other rows of the same shape are caught; a
    /// finished run is "nothing to do", exit 0, nothing written.
    func testResumeNamesEachDifferenceAndDetectsOtherData() throws {
        let (first, second) = (folder.appendingPathComponent("a.csv"), folder.appendingPathComponent("b.csv"))
        var a = "x1,x2,y\n"
        for r in 0..<40 { a += "\(Double(r % 7) / 7),\(Double(r % 5) / 5),\(r % 2)\n" }
        try a.write(to: first, atomically: true, encoding: .utf8)
        try a.replacingOccurrences(of: "\n0.0,0.0,0\n", with: "\n0.0,0.5,0\n").write(to: second, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try String(contentsOf: second, encoding: .utf8), a)
        let dir = folder.appendingPathComponent("ckpt").path
        let made = try CLI.run(resumeArguments(data: first.path, epochs: 2, extra: ["--checkpoint", dir]))
        XCTAssertEqual(made.status, 0, made.stderr)

        let flags = try CLI.run(resumeArguments(data: first.path, epochs: 4, extra: ["--resume", dir, "--seed", "5"])
            .map { $0 == "0.1" ? "0.01" : $0 })
        XCTAssertEqual(flags.status, 1)
        XCTAssertEqual(flags.stderr.split(separator: "\n").count, 1, flags.stderr)
        for difference in ["--lr: checkpoint 0.1, now 0.01", "--seed: checkpoint 0, now 5"] {
            XCTAssertTrue(flags.stderr.contains(difference), flags.stderr)
        }
        XCTAssertFalse(flags.stderr.contains("TrainingConfiguration"), flags.stderr)

        let data = try CLI.run(resumeArguments(data: second.path, epochs: 4, extra: ["--resume", dir]))
        XCTAssertEqual(data.status, 1)
        XCTAssertTrue(data.stderr.contains("data rows (FNV-1a"), data.stderr)
        XCTAssertFalse(data.stderr.contains("--lr"), data.stderr)
        let scaled = try CLI.run(resumeArguments(data: first.path, epochs: 4, extra: ["--resume", dir, "--standardize"]))
        XCTAssertEqual(scaled.status, 1, "--standardize changes the training rows")
        XCTAssertTrue(scaled.stderr.contains("data rows (FNV-1a"), scaled.stderr)

        let save = folder.appendingPathComponent("m.safetensors")
        let done = try CLI.run(resumeArguments(data: first.path, epochs: 2, extra: ["--resume", dir, "--save", save.path]))
        XCTAssertEqual(done.status, 0, done.stderr)
        XCTAssertEqual(done.stdout, "the run in \(dir) is finished (2 of 2 epochs); nothing to do\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: save.path))

        let on = try CLI.run(resumeArguments(data: first.path, epochs: 3, extra: ["--resume", dir, "--save", save.path]))
        XCTAssertEqual(on.status, 0, on.stderr)
        XCTAssertTrue(on.stdout.contains("resumed from \(dir) at epoch 2"), on.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: save.path))
    }

    // MARK: B6. Peer scripts

    /// Found from the repository wherever the command runs; a copied binary outside it says
    /// how to point at the script.
    func testPeerScriptsAreFoundFromTheRepository() throws {
        let repository = CLI.testsFolder.deletingLastPathComponent().standardizedFileURL.path
        let here = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(here) }
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath("/"))
        XCTAssertEqual(PeerScripts.locate("scripts/bench_solvers.py"), repository + "/scripts/bench_solvers.py",
                       "from / through the test binary's folder")
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(repository + "/Sources/ShrinkCLI"))
        XCTAssertEqual(PeerScripts.locate("Benchmarks/sklearn_path.py"), repository + "/Benchmarks/sklearn_path.py")
        XCTAssertNil(PeerScripts.locate("scripts/no_such_script.py"))

        let copy = folder.appendingPathComponent("shrink")
        try FileManager.default.copyItem(at: CLI.binary, to: copy)
        let process = Process()
        process.executableURL = copy
        process.arguments = ["bench", "solvers", "--only", "1a"]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["SHRINK_SCRIPTS"] = nil
        process.environment = environment
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 64, message)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        for hint in ["scripts/bench_solvers.py not found", "SHRINK_SCRIPTS=DIR", "--script FILE"] {
            XCTAssertTrue(message.contains(hint), message)
        }
    }
}

import Foundation
@testable import Shrink
@testable import ShrinkCLI
import XCTest

/// Outputs, through the binary: paths checked before any work, write errors, the extension
/// rules, compare's chart on request, line-buffered standard output, the kernel-compile notice.
final class CLIOutputTests: XCTestCase {
    private var folder: URL!
    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private let train = ["train", "--synthetic", "classification:60:3", "--model", "linear", "--loss", "bce",
                         "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--device", "cpu"]
    private let fit = ["fit", "--synthetic", "regression:40:3", "--alpha", "0.1", "--device", "cpu"]
    private let path = ["path", "--synthetic", "regression:40:3", "--n-alphas", "3", "--device", "cpu"]
    private let compare = ["compare", "--synthetic", "classification:40:3", "--epochs", "1", "--device", "cpu"]

    /// Exit 64, one line on standard error containing each of `messages`, nothing on standard
    /// output (no work started).
    private func expectUsageError(_ arguments: [String], _ messages: [String], environment: [String: String] = [:],
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLI.run(arguments, environment: environment)
        XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)", file: file, line: line)
        for message in messages {
            XCTAssertTrue(result.stderr.contains(message), "'\(message)' not in: \(result.stderr)", file: file, line: line)
        }
        XCTAssertEqual(result.stdout, "", "\(arguments): work started", file: file, line: line)
    }

    // MARK: A. No surprise at the end of a run

    /// Every output flag of every command: a folder root cannot write (/proc), a parent that is
    /// a regular file, and (when not root) a chmod 555 folder fail up front with exit 64.
    func testEveryOutputPathIsCheckedForWritabilityBeforeAnyWork() throws {
        let plainFile = folder.appendingPathComponent("plain.txt")
        try Data("x".utf8).write(to: plainFile)
        let locked = folder.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked.path) }
        var parents = ["/proc", plainFile.path]
        if getuid() != 0 { parents.append(locked.path) }
        let outputs: [([String], String, String)] = [
            (train, "--save", "m.safetensors"), (train, "--metrics", "m.jsonl"), (train, "--plot", "p.svg"),
            (train, "--report", "r.html"), (train, "--checkpoint", "ckpt"),
            (compare, "--plot", "p.svg"), (compare, "--report", "r.html"),
            (fit, "--save", "m.safetensors"),
            (path + ["--out", folder.appendingPathComponent("p.json").path], "--report", "r.html"),
            (path, "--out", "p.json"),
            (["bench", "solvers"], "--json-out", "b.json"),
        ]
        for parent in parents {
            for (arguments, flag, name) in outputs {
                let target = URL(fileURLWithPath: parent).appendingPathComponent(name).path
                try expectUsageError(arguments + [flag, target], [flag, parent])
            }
        }
        // --checkpoint DIR whose parent does not exist, or that is a file.
        try expectUsageError(train + ["--checkpoint", folder.appendingPathComponent("no/such/ckpt").path], ["--checkpoint"])
        try expectUsageError(train + ["--checkpoint", plainFile.path], ["--checkpoint", "not a folder"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["locked", "plain.txt"])
    }

    /// `--save`, `--plot`, `--report`, `--out` naming an existing folder: a usage error up front.
    func testAnOutputNamingAFolderIsAUsageError() throws {
        for (arguments, flag, name) in [(train, "--save", "d.safetensors"), (train, "--plot", "d.svg"),
                                        (train, "--report", "d.html"), (path, "--out", "d.json")] {
            let target = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try expectUsageError(arguments + [flag, target.path], [flag, "is a folder"])
        }
    }

    /// Each flag's extension rule, case-insensitive, with the flag and the extensions named.
    func testOutputExtensionsAreCheckedCaseInsensitively() throws {
        let bad: [([String], String, String, String)] = [
            (train, "--save", "m.pt", ".safetensors"), (train, "--plot", "p.png", ".svg"),
            (train, "--report", "r.htm", ".html"), (compare, "--plot", "p.pdf", ".svg"),
            (compare, "--report", "r.txt", ".html"), (fit, "--save", "m.bin", ".safetensors"),
            (path, "--out", "p.txt", ".json or .csv"), (["bench", "solvers"], "--json-out", "b.txt", ".json"),
        ]
        for (arguments, flag, name, accepted) in bad {
            try expectUsageError(arguments + [flag, folder.appendingPathComponent(name).path], [flag, accepted])
        }
        let (save, plot, report, metrics) = (folder.appendingPathComponent("M.SafeTensors"), folder.appendingPathComponent("P.SVG"),
                                             folder.appendingPathComponent("R.HTML"), folder.appendingPathComponent("m.log"))
        let good = try CLI.run(train + ["--save", save.path, "--plot", plot.path, "--report", report.path, "--metrics", metrics.path])
        XCTAssertEqual(good.status, 0, good.stderr)
        for url in [save, plot, report] { XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path) }
        XCTAssertEqual(try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").count, 2)
        // x.JSON is written as JSON, x.CSV as CSV.
        let json = folder.appendingPathComponent("x.JSON"), csv = folder.appendingPathComponent("x.CSV")
        XCTAssertEqual(try CLI.run(path + ["--out", json.path]).status, 0)
        XCTAssertEqual(try CLI.run(path + ["--out", csv.path]).status, 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        XCTAssertEqual((object?["path"] as? [Any])?.count, 3, "x.JSON is not the path's JSON")
        let csvLines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csvLines.count, 4, "x.CSV: a header and 3 rows")
        XCTAssertFalse(csvLines[0].hasPrefix("{"))
    }

    /// compare writes no chart unless --plot names one.
    func testCompareWritesNoChartUnlessAsked() throws {
        let result = try CLI.run(compare, in: folder)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stdout.contains("plotted"), result.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    /// A write that fails at the end says "cannot write PATH: reason", never a Foundation dump.
    func testWriteErrorsSayCannotWrite() throws {
        XCTAssertThrowsError(try AtomicFile.write([1, 2, 3], to: URL(fileURLWithPath: "/proc/shrink-test.bin"))) {
            XCTAssertTrue("\($0)".hasPrefix("cannot write /proc/shrink-test.bin: "), "\($0)")
        }
        XCTAssertThrowsError(try MetricsFile(path: "/proc/shrink-test.jsonl")) {
            XCTAssertTrue("\($0)".hasPrefix("cannot write /proc/shrink-test.jsonl: "), "\($0)")
        }
        let plainFile = folder.appendingPathComponent("plain.txt")
        try Data("x".utf8).write(to: plainFile)
        let state = Checkpoint(parameters: [1], moment1: [0], moment2: [0], statistics: [0], order: nil, epoch: 1,
                               stepInEpoch: 0, step: 1, generator: [1, 2, 3, 4], fingerprint: "")
        XCTAssertThrowsError(try state.write(to: plainFile.appendingPathComponent("ckpt"))) {
            XCTAssertTrue("\($0)".hasPrefix("cannot write \(plainFile.path)/ckpt: cannot create the folder"), "\($0)")
        }
        let foundation = CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: "/x/y.svg"])
        XCTAssertTrue("\(foundation)".contains("Error Domain="), "the case describe exists for")
        XCTAssertEqual(describe(foundation).contains("Error Domain"), false, describe(foundation))
        XCTAssertTrue(describe(foundation).hasPrefix("/x/y.svg: "), describe(foundation))
    }

    /// Piped standard output shows each epoch as it ends: the first rows arrive while the run
    /// is still going, and after SIGINT they are there (C's default into a pipe is a 4 KiB
    /// block, lost on the signal).
    func testStandardOutputIsLineBufferedIntoAPipe() throws {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["train", "--synthetic", "classification:400:5", "--model", "linear", "--loss", "bce",
                             "--optimizer", "sgd", "--lr", "0.01", "--epochs", "10000000", "--device", "cpu"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let received = LockedText()
        out.fileHandleForReading.readabilityHandler = { received.append($0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !received.text.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("2 ") }),
              Date() < deadline, process.isRunning {
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "the run ended early")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        let rows = received.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(rows.contains { $0.hasPrefix("device:") }, received.text)
        XCTAssertTrue(rows.contains { $0.hasPrefix("1 ") } && rows.contains { $0.hasPrefix("2 ") },
                      "epochs 1 and 2 did not arrive before the end: \(received.text)")
    }

    /// A cold kernel cache: one notice line before the compile; a warm one: none.
    func testColdKernelCachePrintsOneCompileNotice() throws {
        guard CLI.devices.count > 1 else { throw XCTSkip("OpenCL: no platform") }
        let environment = ["SHRINK_CACHE_DIR": folder.appendingPathComponent("cache").path,
                           "POCL_CACHE_DIR": folder.appendingPathComponent("pocl").path]
        let arguments = train.dropLast(2) + ["--device", "opencl:0:0"]
        let cold = try CLI.run(Array(arguments), environment: environment)
        XCTAssertEqual(cold.status, 0, cold.stderr)
        let notices = cold.stderr.split(separator: "\n").filter { $0.hasPrefix("shrink: compiling OpenCL kernels for ") }
        XCTAssertEqual(notices.count, 1, cold.stderr)
        XCTAssertTrue(notices.first?.hasSuffix(", first run only…") == true, cold.stderr)
        let warm = try CLI.run(Array(arguments), environment: environment)
        XCTAssertEqual(warm.status, 0, warm.stderr)
        XCTAssertFalse(warm.stderr.contains("compiling"), warm.stderr)
        XCTAssertEqual(cold.stdout.split(separator: "\n").count, warm.stdout.split(separator: "\n").count)
    }
}

/// Text appended from a pipe's handler thread, read from the test's.
private final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ chunk: Data) { lock.lock(); data.append(chunk); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

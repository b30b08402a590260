import Foundation
import Shrink
import XCTest

/// `shrink` under `mpirun` (Open MPI on loopback): every rank starts, initializes MPI through
/// the library loaded at run time, and the job ends cleanly. (scripts/setup.sh installs
/// openmpi-bin; without it these tests say so and skip.)
final class MPICLITests: XCTestCase {
    static var mpirun: URL? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].map(URL.init(fileURLWithPath:))
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// `mpirun -np ranks shrink arguments…` as root may run it (CI), ranks may exceed cores;
    /// a job still running after `limit` seconds is killed and fails the test (a hang).
    static func run(ranks: Int, _ arguments: [String], limit: Double = 120) throws -> CLI.Result {
        try run(groups: [(ranks, arguments)], limit: limit)
    }

    /// One job of several programs (mpirun's `-np A prog args : -np B prog args`): each group's
    /// ranks run `shrink` with that group's arguments.
    static func run(groups: [(ranks: Int, arguments: [String])], limit: Double = 120) throws -> CLI.Result {
        guard let mpirun else { throw XCTSkip("mpirun not installed (scripts/setup.sh installs openmpi-bin)") }
        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["--allow-run-as-root", "--oversubscribe"]
            + groups.enumerated().flatMap { g, group in
                (g > 0 ? [":"] : []) + ["-np", "\(group.ranks)", CLI.binary.path] + group.arguments
            }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: deadline)
        defer { deadline.cancel() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLI.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self))
    }

    func testEveryRankStartsAndTheJobEndsCleanly() throws {
        for ranks in [2, 3] {
            let result = try Self.run(ranks: ranks, ["devices"])
            XCTAssertEqual(result.status, 0, result.stderr)
            for r in 0..<ranks { XCTAssertTrue(result.stdout.contains("rank \(r) of \(ranks)"), result.stdout) }
            // Rank 0 alone prints the rest.
            XCTAssertEqual(result.stdout.components(separatedBy: "mpi           Open MPI").count, 2, result.stdout)
        }
    }

    func testWithoutMPIRunOneProcessSaysWhetherMPIIsAvailable() throws {
        let result = try CLI.run(["devices"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stdout.contains("rank 0"), result.stdout)
        XCTAssertTrue(result.stdout.contains(Self.mpirun == nil ? "mpi           not available" : "mpi           Open MPI"),
                      result.stdout)
    }

    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private static var sparseFixtures: URL { SparseCLITestCase.fixtures }

    /// The largest difference between two saved models' tensors, relative to each tensor's largest entry.
    private func distance(_ a: String, _ b: String) throws -> Float {
        let (x, y) = (try SafeTensors.read(URL(fileURLWithPath: a)), try SafeTensors.read(URL(fileURLWithPath: b)))
        XCTAssertEqual(Set(x.keys), Set(y.keys))
        return x.keys.map { key in
            let (u, v) = (x[key]!.values, y[key]!.values)
            let scale = max(u.map(abs).max() ?? 0, 1e-12)
            return zip(u, v).map { abs($0 - $1) }.max()! / scale
        }.max() ?? .infinity
    }

    /// A CSV of 150 rows, 4 features and text labels of three classes, one of them rare (so
    /// that some ranks hold none of it).
    private func textLabelCSV() throws -> String {
        var text = "a,b,c,d,label\n"
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        for r in 0..<150 {
            let x = (0..<4).map { _ in next() }
            let label = r % 50 == 7 ? "rare" : (x[0] + 0.5 * x[1] > 0 ? "yes" : "no")
            text += x.map { String(format: "%.5f", $0) }.joined(separator: ",") + ",\(label)\n"
        }
        let url = folder.appendingPathComponent("labels.csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// `train` under mpirun -np 2 and -np 3 gives the model one process gives (within 1e-6,
    /// the order of the sums), on dense .npy (mlp, bce, L1, shuffled minibatches, a test
    /// split), sparse svmlight (ce, --standardize) and CSV text labels, on each device.
    func testDataParallelTrainEqualsOneProcess() throws {
        let torch = CLI.fixturesFolder.appendingPathComponent("seed-mlp-bce-l1")
        let runs: [(name: String, arguments: [String])] = [
            ("npy", ["--data", torch.appendingPathComponent("X.npy").path, "--targets", torch.appendingPathComponent("y.npy").path,
                     "--model", "mlp:8", "--loss", "bce", "--optimizer", "adam", "--lr", "0.01", "--epochs", "3",
                     "--batch-size", "16", "--l1", "0.001", "--seed", "5"]),
            ("svm", ["--data", Self.sparseFixtures.appendingPathComponent("digits.svm").path, "--model", "linear", "--loss", "ce",
                     "--optimizer", "sgd", "--lr", "0.05", "--epochs", "2", "--batch-size", "50", "--standardize", "--seed", "2"]),
            ("csv", ["--data", try textLabelCSV(), "--model", "mlp:4", "--loss", "ce", "--optimizer", "adam", "--lr", "0.01",
                     "--epochs", "2", "--batch-size", "7", "--test-split", "0.3"]),
        ]
        for device in CLI.devices {
            for (name, arguments) in runs {
                let one = path("\(name)-\(device)-1.safetensors")
                let single = try CLI.run(["train"] + arguments + ["--device", device, "--save", one])
                XCTAssertEqual(single.status, 0, single.stderr)
                for ranks in [2, 3] {
                    let many = path("\(name)-\(device)-\(ranks).safetensors")
                    let job = try Self.run(ranks: ranks, ["train"] + arguments + ["--device", device, "--save", many])
                    XCTAssertEqual(job.status, 0, job.stderr)
                    XCTAssertEqual(job.stdout.components(separatedBy: "saved ").count, 2, "rank 0 alone writes: \(job.stdout)")
                    XCTAssertLessThanOrEqual(try distance(many, one), 1e-6, "\(name) on \(device), \(ranks) ranks")
                    // The epoch table is one process's: the same global sums, within float rounding
                    // (the seconds column aside).
                    let table = { (text: String) in
                        text.split(separator: "\n").filter { $0.hasPrefix("     ") }
                            .map { $0.split(separator: " ").dropLast().compactMap { Double($0) } }
                    }
                    let (mine, theirs) = (table(job.stdout), table(single.stdout))
                    XCTAssertEqual(mine.map(\.count), theirs.map(\.count), "\(name) on \(device), \(ranks) ranks")
                    for (a, b) in zip(mine.joined(), theirs.joined()) {
                        XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(name) on \(device), \(ranks) ranks")
                    }
                }
            }
        }
    }

    /// Batches of one row on three ranks (two of them have nothing in every step), a
    /// checkpoint written by two ranks resumed by three and by one, and one process's
    /// checkpoint resumed by two: all equal the uninterrupted single run.
    func testEmptyShareStepsAndResumeOnAnotherRankCount() throws {
        let torch = CLI.fixturesFolder.appendingPathComponent("seed-mlp-bce-l1")
        let common = ["train", "--data", torch.appendingPathComponent("X.npy").path,
                      "--targets", torch.appendingPathComponent("y.npy").path, "--model", "linear", "--loss", "bce",
                      "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.01", "--batch-size", "1", "--seed", "9",
                      "--test-split", "0.25"]
        XCTAssertEqual(try CLI.run(common + ["--epochs", "2", "--save", path("one.safetensors")]).status, 0)
        XCTAssertEqual(try Self.run(ranks: 3, common + ["--epochs", "2", "--save", path("three.safetensors")]).status, 0)
        XCTAssertLessThanOrEqual(try distance(path("three.safetensors"), path("one.safetensors")), 1e-6)
        XCTAssertEqual(try Self.run(ranks: 2, common + ["--epochs", "1", "--checkpoint", path("ck2")]).status, 0)
        XCTAssertEqual(try CLI.run(common + ["--epochs", "1", "--checkpoint", path("ck1")]).status, 0)
        for (ranks, checkpoint) in [(3, "ck2"), (1, "ck2"), (2, "ck1")] {
            let out = path("resumed-\(ranks)-\(checkpoint).safetensors")
            let arguments = common + ["--epochs", "2", "--resume", path(checkpoint), "--save", out]
            let result = ranks == 1 ? try CLI.run(arguments) : try Self.run(ranks: ranks, arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("resumed from"), result.stdout)
            XCTAssertLessThanOrEqual(try distance(out, path("one.safetensors")), 1e-6, "\(checkpoint) on \(ranks)")
        }
    }

    /// A run killed inside an epoch (`--checkpoint-every 3`) leaves a mid-epoch checkpoint; the
    /// run is continued from it on another number of ranks or in one process, and ends where
    /// the uninterrupted single run ends: the same model (within 1e-6) and the same metrics for
    /// the interrupted epoch (its steps before the checkpoint summed over the ranks that made
    /// it, those after over the ranks that resumed) and the next. Both ways: a 2-rank
    /// checkpoint resumed by 3 ranks and by one process, a one-process checkpoint by 2 ranks.
    func testMidEpochCheckpointsResumeOnAnotherRankCount() throws {
        let torch = CLI.fixturesFolder.appendingPathComponent("seed-mlp-bce-l1")
        let common = ["train", "--data", torch.appendingPathComponent("X.npy").path,
                      "--targets", torch.appendingPathComponent("y.npy").path, "--model", "mlp:6", "--loss", "bce",
                      "--optimizer", "adam", "--lr", "0.01", "--batch-size", "24", "--seed", "3", "--test-split", "0.2"]
        /// Starts `ranks` ranks (0: one process) for many epochs with a checkpoint every 3 steps and
        /// stops the job once its checkpoint is past the first epoch; the checkpoint, if inside an epoch.
        func killedInsideAnEpoch(ranks: Int, folder: String) throws -> Checkpoint {
            for _ in 0..<8 {
                try? FileManager.default.removeItem(atPath: folder)
                let process = Process()
                let arguments = common + ["--epochs", "500", "--checkpoint", folder, "--checkpoint-every", "3"]
                if ranks == 0 {
                    process.executableURL = CLI.binary
                    process.arguments = arguments
                } else {
                    process.executableURL = try XCTUnwrap(Self.mpirun)
                    process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", CLI.binary.path] + arguments
                }
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                let deadline = Date().addingTimeInterval(60)
                let folderURL = URL(fileURLWithPath: folder)
                while process.isRunning, Date() < deadline, (try? Checkpoint.read(from: folderURL))?.epoch ?? 0 < 2 { usleep(5_000) }
                // mpirun passes SIGTERM on to its ranks and waits for them; SIGKILL would orphan
                // them, and rank 0 would go on writing checkpoints.
                kill(process.processIdentifier, ranks == 0 ? SIGKILL : SIGTERM)
                process.waitUntilExit()
                if let state = try? Checkpoint.read(from: folderURL), state.stepInEpoch > 0 { return state }
            }
            throw XCTSkip("no stop landed inside an epoch in 8 tries")
        }
        /// Epoch e's metrics (--metrics: one JSON object per epoch), the seconds aside.
        func metrics(_ e: Int, _ file: String) throws -> [String: Double] {
            for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard (object["epoch"] as? NSNumber)?.intValue == e else { continue }
                return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }.filter { !$0.key.contains("second") }
            }
            return [:]
        }
        for (makers, resumers) in [(2, [3, 1]), (0, [2])] {
            let folder = path("mid-\(makers)")
            let state = try killedInsideAnEpoch(ranks: makers, folder: folder)
            let epochs = ["--epochs", "\(state.epoch + 1)"]
            let reference = path("straight-\(makers).safetensors"), straightMetrics = path("straight-\(makers).jsonl")
            let straight = try CLI.run(common + epochs + ["--save", reference, "--metrics", straightMetrics])
            XCTAssertEqual(straight.status, 0, straight.stderr)
            for ranks in resumers {
                let out = path("resumed-\(makers)-\(ranks).safetensors"), resumedMetrics = path("resumed-\(makers)-\(ranks).jsonl")
                let arguments = common + epochs + ["--resume", folder, "--save", out, "--metrics", resumedMetrics]
                let result = ranks == 1 ? try CLI.run(arguments) : try Self.run(ranks: ranks, arguments)
                XCTAssertEqual(result.status, 0, result.stderr)
                XCTAssertTrue(result.stdout.contains("resumed from"), result.stdout)
                let what = "made by \(makers) ranks at step \(state.stepInEpoch) of epoch \(state.epoch), resumed by \(ranks)"
                XCTAssertLessThanOrEqual(try distance(out, reference), 1e-6, what)
                for e in [state.epoch, state.epoch + 1] {
                    let (mine, theirs) = (try metrics(e, resumedMetrics), try metrics(e, straightMetrics))
                    XCTAssertGreaterThanOrEqual(theirs.count, 4, "epoch \(e)")
                    XCTAssertEqual(Set(mine.keys), Set(theirs.keys), "epoch \(e), \(what)")
                    for (key, b) in theirs {
                        XCTAssertEqual(mine[key] ?? .nan, b, accuracy: 1e-5 * max(1, abs(b)), "\(key) of epoch \(e), \(what)")
                    }
                }
            }
        }
    }

    /// A rank that cannot read its file, or its part of the file (a malformed line in rank 2's
    /// third), ends the whole job promptly with its message, naming the rank (and the file's
    /// line); nothing is saved. Open MPI's own "MPI_ABORT was invoked" banner is not asserted:
    /// it travels through Open MPI's help-message channel, which on CI's machine failed with
    /// "ORTE_ERROR_LOG: Data unpack would read past end of buffer in show_help.c" (a known
    /// Open MPI fault), so the banner is not there to rely on.
    func testAFailingRankEndsTheJobWithItsMessage() throws {
        // One rank given a file it cannot read (mpirun's programs: ranks 0 and 1 the good file,
        // rank 2 a missing one), for a training and an exact job.
        let good = Self.sparseFixtures.appendingPathComponent("digits.svm").path
        for command in [["train", "--model", "linear", "--optimizer", "sgd", "--lr", "0.05", "--epochs", "1"],
                        ["fit", "--alpha", "0.01"]] {
            let start = Date()
            let tail = ["--loss", "ce", "--save", path("never.safetensors")]
            let result = try Self.run(groups: [(2, command + ["--data", good] + tail),
                                               (1, command + ["--data", path("missing.svm")] + tail)], limit: 60)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertLessThan(Date().timeIntervalSince(start), 50, "the job hung")
            XCTAssertTrue(result.stderr.contains("shrink: error: rank 2 of 3: ") && result.stderr.contains("missing.svm"),
                          result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("never.safetensors")))
        }
        var lines = try String(contentsOf: Self.sparseFixtures.appendingPathComponent("digits.svm"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[550] = lines[550].replacingOccurrences(of: ":", with: "::", options: [], range: lines[550].range(of: ":"))
        try lines.joined(separator: "\n").write(toFile: path("bad.svm"), atomically: true, encoding: .utf8)
        for command in [["train", "--model", "linear", "--optimizer", "sgd", "--lr", "0.05", "--epochs", "1"],
                        ["fit", "--alpha", "0.01"], ["path", "--cv", "3", "--out", path("never.json")]] {
            let start = Date()
            let result = try Self.run(ranks: 3, command + ["--data", path("bad.svm"), "--loss", "ce",
                                                           "--save" + (command[0] == "path" ? "-best" : ""),
                                                           path("never.safetensors")], limit: 60)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertLessThan(Date().timeIntervalSince(start), 50, "the job hung")
            XCTAssertTrue(result.stderr.contains("shrink: error: rank 2 of 3: \(path("bad.svm")): line 551:"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("never.safetensors")))
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("never.json")))
        }
    }

    /// `compare` (the five penalties, separately and batched) under mpirun -np 3 prints one
    /// process's table (within 1e-4, its printed digits).
    func testCompareIsDataParallel() throws {
        let digits = Self.sparseFixtures.appendingPathComponent("digits.svm").path
        func table(_ text: String) -> [[Double]] {
            let names = ["none", "L1 ", "L2 ", "elastic", "weight"]
            return text.split(separator: "\n").filter { line in names.contains { line.hasPrefix($0) } }
                .map { line in Array(line.split(separator: " ").compactMap { Double($0) }.dropLast()) }
        }
        for batched in [false, true] {
            let arguments = ["compare", "--data", digits, "--model", "linear", "--loss", "ce", "--epochs", "2",
                             "--batch-size", "40"] + (batched ? ["--batched"] : [])
            let one = try CLI.run(arguments), three = try Self.run(ranks: 3, arguments)
            XCTAssertEqual(three.status, 0, three.stderr)
            let (a, b) = (table(one.stdout), table(three.stdout))
            XCTAssertEqual(a.count, 5, one.stdout)
            XCTAssertEqual(a.map(\.count), b.map(\.count))
            for (x, y) in zip(a.joined(), b.joined()) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(x)), three.stdout) }
        }
    }

    private static var workflow: URL { CLI.fixturesFolder.deletingLastPathComponent().appendingPathComponent("workflow") }

    /// The number after `label` on the line that starts with it.
    private func number(after label: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(label) }
            .flatMap { $0.dropFirst(label.count).split(separator: " ").first.flatMap { Double($0) } }
    }

    /// Digits as two classes (0 against the rest), svmlight: a sparse binary problem.
    private func binaryDigits() throws -> String {
        let digits = Self.sparseFixtures.appendingPathComponent("digits.svm").path
        let text = try String(contentsOfFile: digits, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .map { line in (line.hasPrefix("0 ") ? "1" : "0") + line.drop { $0 != " " } }
            .joined(separator: "\n")
        try text.write(toFile: path("two.svm"), atomically: true, encoding: .utf8)
        return path("two.svm")
    }

    /// `fit` under mpirun: each rank reads its rows, the solver sums over them (the Gram route's
    /// X̃ᵀX̃ once; the row route's Newton models per step), rank 0 prints and saves. -np 2 and
    /// -np 3 equal -np 1 within 1e-6 (the order of the sums); all of them equal one process
    /// without mpirun (a different inner solver, the same optimum) within the solver's
    /// accuracy. Real data: diabetes (mse, Gram), breast cancer (bce, a test split), wine (ce),
    /// sparse digits 0-vs-rest (bce) and the text-like set (mse, p > n); and --synthetic rows;
    /// on each device.
    func testDistributedFitEqualsOneRank() throws {
        let cases: [(name: String, arguments: [String])] = [
            ("diabetes", ["--data", Self.workflow.appendingPathComponent("diabetes_train.csv").path, "--loss", "mse",
                          "--alpha", "0.05", "--standardize"]),
            ("cancer", ["--data", Self.workflow.appendingPathComponent("breast_cancer_train.csv").path, "--loss", "bce",
                        "--alpha", "0.01", "--standardize", "--test-split", "0.2"]),
            // ce within 400 sweeps on every rank count, as one process (124): the ranks take the
            // joint Newton step over all classes too (block steps alone took 734).
            ("wine", ["--data", Self.workflow.appendingPathComponent("wine_train.csv").path, "--loss", "ce",
                      "--alpha", "0.05", "--standardize", "--max-iterations", "400"]),
            ("digits01", ["--data", try binaryDigits(), "--loss", "bce", "--alpha", "0.01"]),
            ("text", ["--data", Self.sparseFixtures.appendingPathComponent("text.libsvm").path, "--loss", "mse",
                      "--alpha", "0.02", "--l1-ratio", "0.7"]),
            // --synthetic: each rank makes the rows and keeps its part, as it would read a file.
            ("synthetic", ["--synthetic", "regression:2000:30", "--loss", "mse", "--alpha", "0.01", "--test-split", "0.25"]),
        ]
        for device in CLI.devices {
            for (name, arguments) in cases {
                let fit = ["fit"] + arguments + ["--device", device]
                let alone = try CLI.run(fit + ["--save", path("\(name)-\(device).safetensors")])
                XCTAssertEqual(alone.status, 0, alone.stderr)
                var objectives: [Double] = []
                for ranks in [1, 2, 3] {
                    let saved = path("\(name)-\(device)-\(ranks).safetensors")
                    let job = try Self.run(ranks: ranks, fit + ["--save", saved])
                    XCTAssertEqual(job.status, 0, "\(name) on \(device), \(ranks) ranks: \(job.stderr)")
                    XCTAssertEqual(job.stdout.components(separatedBy: "saved ").count, 2, "rank 0 alone writes: \(job.stdout)")
                    XCTAssertTrue(job.stdout.contains(" converged"), job.stdout)
                    objectives.append(try XCTUnwrap(number(after: "objective ", in: job.stdout), job.stdout))
                    XCTAssertLessThanOrEqual(try distance(saved, path("\(name)-\(device)-1.safetensors")), 1e-6,
                                             "\(name) on \(device), \(ranks) ranks")
                    // One process's solution: the same optimum to the solver's tolerance.
                    XCTAssertLessThanOrEqual(try distance(saved, path("\(name)-\(device).safetensors")), 1e-4,
                                             "\(name) on \(device), \(ranks) ranks against one process")
                    for label in ["training r2 ", "training accuracy ", "test accuracy ", "test r2 "] {
                        if let mine = number(after: label, in: job.stdout) {
                            XCTAssertEqual(mine, try XCTUnwrap(number(after: label, in: alone.stdout)), accuracy: 1e-6, label)
                        }
                    }
                }
                let reference = try XCTUnwrap(number(after: "objective ", in: alone.stdout))
                for objective in objectives {
                    XCTAssertEqual(objective, reference, accuracy: 1e-9 * max(1, abs(reference)), "\(name) on \(device)")
                }
            }
        }
    }

    /// `path` with 3-fold CV and a validation split under mpirun: the folds are one process's
    /// (dealt over all the training rows), each fold's path is solved by all the ranks, and
    /// -np 2 and -np 3 write what -np 1 writes (coefficients, validation and CV losses within
    /// 1e-6), which is what one process writes within the solver's accuracy; rank 0 alone
    /// writes the outputs.
    func testDistributedPathWithCrossValidationEqualsOneRank() throws {
        let cases: [(name: String, arguments: [String])] = [
            ("cancer", ["--data", Self.workflow.appendingPathComponent("breast_cancer_train.csv").path, "--loss", "bce",
                        "--standardize", "--n-alphas", "8", "--eps", "0.01", "--test-split", "0.2"]),
            ("diabetes", ["--data", Self.workflow.appendingPathComponent("diabetes_train.csv").path, "--loss", "mse",
                          "--n-alphas", "8", "--test-split", "0"]),
            ("wine", ["--data", Self.workflow.appendingPathComponent("wine_train.csv").path, "--loss", "ce",
                      "--standardize", "--n-alphas", "5", "--eps", "0.05", "--test-split", "0"]),
        ]
        /// Every number of a path's JSON: each point's coefficients, intercepts and losses, then the CV curve.
        func numbers(_ file: String) throws -> [Double] {
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file)))
                as? [String: Any])
            func flat(_ value: Any?) -> [Double] {
                if let list = value as? [Any] { return list.flatMap(flat) }
                return (value as? NSNumber).map { [$0.doubleValue] } ?? []
            }
            let points = try XCTUnwrap(json["path"] as? [[String: Any]])
            let cv = try XCTUnwrap(json["cv"] as? [String: Any])
            return points.flatMap { point in
                ["coefficients", "intercepts", "train_loss", "validation_loss"].flatMap { flat(point[$0]) }
            } + flat(cv["mean_loss"]) + flat(cv["standard_error"])
        }
        for (name, arguments) in cases {
            let common = ["path"] + arguments + ["--cv", "3", "--seed", "4"]
            let alone = try CLI.run(common + ["--out", path("\(name).json")])
            XCTAssertEqual(alone.status, 0, alone.stderr)
            let single = try numbers(path("\(name).json"))
            var reference: [Double]?
            for ranks in [1, 2, 3] {
                let out = path("\(name)-\(ranks).json"), best = path("\(name)-\(ranks).safetensors")
                let job = try Self.run(ranks: ranks, common + ["--out", out, "--save-best", best])
                XCTAssertEqual(job.status, 0, "\(name), \(ranks) ranks: \(job.stderr)")
                XCTAssertEqual(job.stdout.components(separatedBy: "wrote ").count, 2, job.stdout)
                XCTAssertTrue(FileManager.default.fileExists(atPath: best))
                let mine = try numbers(out)
                XCTAssertEqual(mine.count, single.count)
                for (a, b) in zip(mine, reference ?? mine) {
                    XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), "\(name), \(ranks) ranks against 1")
                }
                for (a, b) in zip(mine, single) {
                    XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), "\(name), \(ranks) ranks against one process")
                }
                reference = reference ?? mine
                if ranks > 1 {
                    XCTAssertLessThanOrEqual(try distance(best, path("\(name)-1.safetensors")), 1e-6, name)
                }
            }
        }
    }

    /// What is not distributed says so (usage errors), and a solution that misses the KKT
    /// tolerance ends every rank with status 3, not an abort.
    func testDistributedSolverRefusalsAndNotConverged() throws {
        let cancer = Self.workflow.appendingPathComponent("breast_cancer_train.csv").path
        let fista = try Self.run(ranks: 2, ["fit", "--data", cancer, "--loss", "bce", "--alpha", "0.01", "--solver", "fista"])
        XCTAssertNotEqual(fista.status, 0)
        XCTAssertTrue(fista.stderr.contains("--solver fista is not distributed"), fista.stderr)
        let batched = try Self.run(ranks: 2, ["path", "--data", cancer, "--loss", "bce", "--batched", "--out", path("b.json")])
        XCTAssertNotEqual(batched.status, 0)
        XCTAssertTrue(batched.stderr.contains("--batched is not distributed"), batched.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("b.json")))
        let short = try Self.run(ranks: 3, ["fit", "--data", cancer, "--loss", "bce", "--alpha", "0.001", "--standardize",
                                            "--max-iterations", "3", "--save", path("short.safetensors")])
        XCTAssertEqual(short.status, 3, short.stderr)
        XCTAssertEqual(short.stderr.components(separatedBy: "not converged").count, 2, short.stderr)
        XCTAssertFalse(short.stderr.contains("MPI_ABORT"), short.stderr)
    }
}

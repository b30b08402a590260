import Foundation
import XCTest

/// `shrink` under `mpirun` (Open MPI on loopback): every rank starts, initializes MPI through
/// the library loaded at run time, and the job ends cleanly. (scripts/setup.sh installs
/// openmpi-bin; without it these tests say so and skip.)
final class MPICLITests: XCTestCase {
    static var mpirun: URL? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].map(URL.init(fileURLWithPath:))
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// `mpirun -np ranks shrink arguments…` as root may run it (CI), ranks may exceed cores.
    static func run(ranks: Int, _ arguments: [String]) throws -> CLI.Result {
        guard let mpirun else { throw XCTSkip("mpirun not installed (scripts/setup.sh installs openmpi-bin)") }
        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", CLI.binary.path] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
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
}

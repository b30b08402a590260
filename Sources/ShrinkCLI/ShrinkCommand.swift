import ArgumentParser
import Foundation
import Shrink

/// `shrink --version`.
let shrinkVersion = "0.4.0"

@main
struct ShrinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shrink",
        abstract: "Train regularized linear models and small MLPs on the CPU or an OpenCL device.",
        version: shrinkVersion,
        subcommands: [TrainCommand.self, CompareCommand.self, FitCommand.self, PathCommand.self, PredictCommand.self,
                      EvaluateCommand.self, DevicesCommand.self, BenchCommand.self])

    /// Like ParsableCommand's main, but a usage error is one line (no usage dump): exit 64.
    /// Standard output is line-buffered even into a pipe (`shrink train … | tee log` shows
    /// each epoch as it ends, and an interrupted run leaves its finished epochs on screen).
    static func main() {
        lineBufferStandardOutput()
        let arguments = CommandLineArguments.joiningNegativeValues(Array(CommandLine.arguments.dropFirst()))
        if let message = CommandLineArguments.unknownSubcommand(arguments, root: Self.self) {
            printError(message)
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Communicator.initializedWorld?.finalize()
        } catch {
            let code = exitCode(for: error)
            // "Not converged" is decided from numbers every rank of a job shares, so every rank
            // ends this way together: an ordinary end, not an abort.
            if code == .success || code.rawValue == notConvergedExitCode {
                Communicator.initializedWorld?.finalize()
                exit(withError: error)
            }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if !message.isEmpty { printError(message) }
            // Under mpirun a failing rank ends the whole job (MPI_Abort; its error line names
            // the rank), so that no other rank waits forever in a collective.
            if let world = Communicator.initializedWorld, world.usesMPI { world.abort(code: code.rawValue) }
            Foundation.exit(code.rawValue)
        }
    }
}

/// Runs `body`; a runtime error becomes one line on standard error and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        printError(describe(error))
        throw ExitCode.failure
    }
}

/// One line for `error`: our errors describe themselves; a Foundation error (whose own
/// description is an `Error Domain=…` dump) becomes its file and reason.
func describe(_ error: any Error) -> String {
    let text = "\(error)"
    guard error is CocoaError || text.hasPrefix("Error Domain=") else { return text }
    let ns = error as NSError
    let reason = (ns.userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
        ?? ns.localizedDescription
    if let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path {
        return "\(path): \(reason)"
    }
    return reason
}

/// "shrink: error: …" on standard error; under mpirun with several ranks, "shrink: error:
/// rank R of N: …".
func printError(_ message: String) {
    let line = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
    let rank = Communicator.initializedWorld.flatMap { $0.size > 1 ? "rank \($0.rank) of \($0.size): " : nil } ?? ""
    FileHandle.standardError.write(Data("shrink: error: \(rank)\(line)\n".utf8))
}

func printNotice(_ message: String) {
    FileHandle.standardError.write(Data("shrink: \(message)\n".utf8))
}

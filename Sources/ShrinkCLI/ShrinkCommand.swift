import ArgumentParser
import Foundation
import Shrink

@main
struct ShrinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shrink",
        abstract: "Train regularized linear models and small MLPs on the CPU or an OpenCL device.",
        subcommands: [TrainCommand.self, CompareCommand.self, FitCommand.self, PathCommand.self, PredictCommand.self, EvaluateCommand.self,
                      DevicesCommand.self, BenchCommand.self])

    /// Like ParsableCommand's main, but a usage error is one line (no usage dump): exit 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if !message.isEmpty { printError(message) }
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
    } catch {
        printError("\(error)")
        throw ExitCode.failure
    }
}

func printError(_ message: String) {
    let line = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
    FileHandle.standardError.write(Data("shrink: error: \(line)\n".utf8))
}

func printNotice(_ message: String) {
    FileHandle.standardError.write(Data("shrink: \(message)\n".utf8))
}

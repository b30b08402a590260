import ArgumentParser
import Foundation
@testable import ShrinkCLI
import XCTest

/// The README's "Command line" block lists every flag of every subcommand (and of bench's),
/// as the parser itself reports them: a new flag or command fails here until documented.
final class ReadmeCommandLineTests: XCTestCase {
    /// Every command below `shrink` that runs (not only groups), with its words: ["bench", "matmul"].
    private func commands(_ root: ParsableCommand.Type, path: [String] = []) -> [(words: [String], type: ParsableCommand.Type)] {
        root.configuration.subcommands.flatMap { sub -> [(words: [String], type: ParsableCommand.Type)] in
            let words = path + [CommandLineArguments.name(of: sub)]
            return sub.configuration.subcommands.isEmpty ? [(words, sub)] : commands(sub, path: words)
        }
    }

    /// The long flags in `type`'s help, as the parser lists them (one per option line; an
    /// inverted pair `--peers/--no-peers` is both).
    private func flags(of type: ParsableCommand.Type) -> [String] {
        ShrinkCommand.helpMessage(for: type, columns: 200).split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  -") else { return nil }
            let words = line.split(separator: " ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",")) }
            return words.first { $0.hasPrefix("--") }
        }.flatMap { $0.split(separator: "/").map(String.init) }.filter { $0 != "--help" && $0 != "--version" }
    }

    /// The README block's text for each command: its `shrink …` line and the indented lines after it.
    private func readmeUsage() throws -> [String: String] {
        let readme = try String(contentsOf: CLI.testsFolder.deletingLastPathComponent().appendingPathComponent("README.md"),
                                encoding: .utf8)
        let section = try XCTUnwrap(readme.components(separatedBy: "## Command line").dropFirst().first)
        var usage: [String: String] = [:]
        var current: String?
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("    shrink ") {
                let words = line.dropFirst(4).split(separator: " ").prefix { !$0.hasPrefix("-") && !$0.hasPrefix("[") }
                    .dropFirst().map(String.init)
                let name = words.joined(separator: " ")
                current = name
                usage[name, default: ""] += " " + line
            } else if line.hasPrefix("     "), let name = current {
                usage[name, default: ""] += " " + line
            } else if !line.hasPrefix("    ") {
                if !usage.isEmpty { break }
                current = nil
            }
        }
        return usage
    }

    func testReadmeListsEveryFlagOfEveryCommand() throws {
        let usage = try readmeUsage()
        let all = commands(ShrinkCommand.self)
        XCTAssertGreaterThanOrEqual(all.count, 10, "train, compare, fit, path, devices and five benches at least")
        XCTAssertGreaterThanOrEqual(flags(of: TrainCommand.self).count, 30, "the help parser lost flags: \(flags(of: TrainCommand.self))")
        for (words, type) in all {
            let name = words.joined(separator: " ")
            guard let text = usage[name] else {
                XCTFail("README's Command line block has no 'shrink \(name)' line")
                continue
            }
            let listed = Set(text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }).map(String.init))
            for flag in flags(of: type) where !listed.contains(flag) {
                XCTFail("README: 'shrink \(name)' does not list \(flag)")
            }
        }
    }
}

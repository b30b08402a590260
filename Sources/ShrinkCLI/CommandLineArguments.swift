import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc  // stdout, a C global, read once at start-up
#endif

/// Line-buffers standard output even into a pipe or file (C's default there is a 4 KiB block).
func lineBufferStandardOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}

/// Argument fixes made before swift-argument-parser sees the command line.
enum CommandLineArguments {
    /// `--lr -1` → `--lr=-1`: the parser reads a word starting with "-" as a flag, so a
    /// negative value would be "missing"; joined, it reaches the flag's own check and gets
    /// the same message as `--lr=-1`. Nothing after `--` is touched.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if word == "--" { return result + arguments[i...] }
            if word.hasPrefix("--"), !word.contains("="), i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
                result.append("\(word)=\(arguments[i + 1])")
                i += 2
            } else {
                result.append(word)
                i += 1
            }
        }
        return result
    }

    /// "-1", "-0.5", "-.5", "-1e-3", "-inf", "-nan".
    static func isNegativeNumber(_ word: String) -> Bool {
        guard word.hasPrefix("-"), word.count > 1 else { return false }
        let rest = word.dropFirst().lowercased()
        if ["inf", "infinity", "nan"].contains(rest) { return true }
        guard let first = rest.first, first.isNumber || first == "." else { return false }
        return Double(rest) != nil
    }

    /// The message for a subcommand name that is not one (`shrink trian …`, `shrink bench
    /// matmull`, `shrink help nonsense`), with the nearest name as a suggestion; nil when
    /// the subcommands named are all known.
    static func unknownSubcommand(_ arguments: [String], root: ParsableCommand.Type) -> String? {
        var command = root
        var words = arguments[...]
        if words.first == "help" { words = words.dropFirst() }
        for word in words {
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty || word.hasPrefix("-") { return nil }
            if let next = subcommands.first(where: { name(of: $0) == word }) {
                command = next
                continue
            }
            if word == "help" { return nil }
            let names = subcommands.map(name(of:))
            let parents = arguments.prefix { $0 != word }.filter { $0 != "help" }
            let place = parents.isEmpty ? "" : " for 'shrink \(parents.joined(separator: " "))'"
            if let nearest = names.min(by: { distance(word, $0) < distance(word, $1) }), distance(word, nearest) <= 2 {
                return "unknown subcommand '\(word)'\(place); did you mean '\(nearest)'?"
            }
            return "unknown subcommand '\(word)'\(place); expected one of: \(names.joined(separator: ", "))"
        }
        return nil
    }

    static func name(of command: ParsableCommand.Type) -> String {
        command.configuration.commandName ?? String(describing: command).lowercased()
    }

    /// Edit distance counting an adjacent transposition as one edit ("trian" → "train": 1).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}

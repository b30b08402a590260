import Foundation

/// Finds a benchmark's peer script (`scripts/bench_solvers.py`, `Benchmarks/…`), which lives
/// in the repository, not next to an installed binary: in `$SHRINK_SCRIPTS` (the repository
/// or the script's own folder), else in the current folder or one above it, else in the
/// binary's folder or one above it (`.build/release/shrink` → the repository).
enum PeerScripts {
    static let environmentKey = "SHRINK_SCRIPTS"

    /// The script's path, or nil when it is nowhere to be found.
    static func locate(_ relativePath: String) -> String? {
        candidates(relativePath).first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Where to look, in order.
    static func candidates(_ relativePath: String) -> [String] {
        var roots: [URL] = []
        if let dir = ProcessInfo.processInfo.environment[environmentKey], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir)
            return [url.appendingPathComponent(relativePath).path,
                    url.appendingPathComponent(URL(fileURLWithPath: relativePath).lastPathComponent).path]
        }
        roots += ancestors(of: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        if let binary = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            roots += ancestors(of: binary.deletingLastPathComponent())
        }
        return roots.map { $0.appendingPathComponent(relativePath).path }
    }

    /// The line saying where it was looked for and how to point at it.
    static func notFound(_ relativePath: String, flag: String) -> String {
        "\(relativePath) not found in the current folder, the binary's, or a folder above them: run from the " +
            "repository, set \(environmentKey)=DIR (the repository) or give \(flag) FILE"
    }

    private static func ancestors(of folder: URL) -> [URL] {
        var result: [URL] = []
        var url = folder.standardizedFileURL
        while true {
            result.append(url)
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return result }
            url = parent
        }
    }
}

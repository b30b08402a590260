import ArgumentParser
import Foundation
import Shrink
#if canImport(Glibc)
import Glibc
#endif

/// Checks an output flag before any work (from `validate()`, so a bad path is a usage error,
/// exit 64, not a failure after a long run): `path`'s extension is one of `extensions`
/// (case-insensitive; empty = any), `path` is not a folder, and its folder exists and takes a
/// new file (probed by creating and deleting one, which catches read-only file systems and
/// folders root cannot write, e.g. under /proc).
func checkOutput(_ flag: String, _ path: String, extensions: [String] = []) throws {
    guard !path.isEmpty else { throw ValidationError("\(flag) needs a file name") }
    if !extensions.isEmpty, !hasExtension(path, extensions) {
        let list = extensions.map { ".\($0)" }.joined(separator: " or ")
        throw ValidationError("\(flag) must name a \(list) file, got \(path)")
    }
    if isFolder(path) { throw ValidationError("\(flag) \(path) is a folder; give a file name") }
    let url = URL(fileURLWithPath: path)
    try checkWritableFolder(flag, path, folder: url.deletingLastPathComponent().path)
    if FileManager.default.fileExists(atPath: path), access(path, W_OK) != 0 {  // an append (--metrics on --resume) opens it
        throw ValidationError("\(flag): cannot write \(path): \(String(cString: strerror(errno)))")
    }
}

/// `--checkpoint DIR`: DIR is a writable folder, or does not exist yet and its parent is one.
func checkOutputFolder(_ flag: String, _ path: String) throws {
    guard !path.isEmpty else { throw ValidationError("\(flag) needs a folder name") }
    if FileManager.default.fileExists(atPath: path) {
        guard isFolder(path) else { throw ValidationError("\(flag) \(path) is a file, not a folder") }
        try checkWritableFolder(flag, path, folder: path)
    } else {
        try checkWritableFolder(flag, path, folder: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }
}

/// Whether `path` ends in `.EXT` for one of `extensions` (case-insensitive).
func hasExtension(_ path: String, _ extensions: [String]) -> Bool {
    let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
    return extensions.contains { $0.lowercased() == ext }
}

private func isFolder(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

/// Throws a usage error unless `folder` exists, is a folder and a file can be created in it.
private func checkWritableFolder(_ flag: String, _ path: String, folder: String) throws {
    guard FileManager.default.fileExists(atPath: folder) else {
        throw ValidationError("\(flag) \(path): the folder \(folder) does not exist")
    }
    guard isFolder(folder) else { throw ValidationError("\(flag) \(path): \(folder) is not a folder") }
    let probe = URL(fileURLWithPath: folder).appendingPathComponent(".shrink-probe.\(getpid()).\(UInt32.random(in: 0...UInt32.max))").path
    let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
        throw ValidationError("\(flag) \(path): cannot write in \(folder): \(String(cString: strerror(errno)))")
    }
    close(fd)
    unlink(probe)
}

import Foundation
import XCTest

/// What the sparse CLI suites share: a temporary folder per test, the sparse fixtures
/// (Tests/ShrinkTests/Fixtures/sparse), and text files written into the folder.
class SparseCLITestCase: XCTestCase {
    var folder: URL!
    static let fixtures = CLI.testsFolder.appendingPathComponent("ShrinkTests/Fixtures/sparse")
    var fixtures: URL { Self.fixtures }

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// `text` written to `name` in the temporary folder.
    func file(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

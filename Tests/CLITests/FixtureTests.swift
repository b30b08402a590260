import Foundation
import Shrink
import XCTest

/// Every PyTorch reference case through the CLI, on every device: weights within
/// 1e-4 (absolute + relative) and per-epoch losses within 1e-4 relative.
final class FixtureTests: XCTestCase {
    func testEveryTorchCaseOnEveryDevice() throws {
        let cases = try FileManager.default.contentsOfDirectory(atPath: CLI.fixturesFolder.path).sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 4, "fixtures missing")
        for name in cases {
            for device in CLI.devices { try check(case: name, device: device) }
        }
    }

    private func check(case name: String, device: String) throws {
        let folder = CLI.fixturesFolder.appendingPathComponent(name)
        let out = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let args = try String(contentsOf: folder.appendingPathComponent("args.txt"), encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).map(String.init)
        let result = try CLI.run(
            ["train", "--data", folder.appendingPathComponent("X.npy").path,
             "--targets", folder.appendingPathComponent("y.npy").path,
             "--init", folder.appendingPathComponent("init.safetensors").path] + args +
            ["--device", device, "--save", out.appendingPathComponent("out.safetensors").path,
             "--metrics", out.appendingPathComponent("m.jsonl").path])
        XCTAssertEqual(result.status, 0, "\(name) on \(device): \(result.stderr)")
        guard result.status == 0 else { return }

        let expected = try SafeTensors.read(folder.appendingPathComponent("expected.safetensors"))
        let actual = try SafeTensors.read(out.appendingPathComponent("out.safetensors"))
        XCTAssertEqual(Set(actual.keys), Set(expected.keys), "\(name) on \(device): tensor names")
        var worst = 0.0
        for (key, e) in expected {
            guard let a = actual[key] else { continue }
            XCTAssertEqual(a.shape, e.shape, "\(name) \(key) shape")
            for (x, y) in zip(a.values, e.values) {
                let excess = Double(abs(x - y)) - (1e-4 + 1e-4 * Double(abs(y)))
                worst = max(worst, excess)
            }
        }
        XCTAssertLessThanOrEqual(worst, 0, "\(name) on \(device): weights beyond 1e-4 by \(worst)")

        let losses = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("expected_losses.json"))) as! [Double]
        let lines = try String(contentsOf: out.appendingPathComponent("m.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines.count, losses.count, "\(name) on \(device): epochs")
        for (line, e) in zip(lines, losses) {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let loss = try XCTUnwrap(object["loss"] as? Double)
            XCTAssertLessThanOrEqual(abs(loss - e), 1e-4 * abs(e), "\(name) on \(device): epoch \(object["epoch"] ?? "?") loss \(loss) vs \(e)")
        }
    }
}

import Foundation
@testable import Shrink
import XCTest

/// The safetensors reader's rules, each with its own error, the writer's round trip and
/// atomicity, and the PyTorch-written fixtures.
final class SafeTensorsTests: XCTestCase {
    /// A file from a header text and a data section.
    private func file(_ header: String, data: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
        return bytes + Array(header.utf8) + data
    }

    private func expectError(_ bytes: [UInt8], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.parse(bytes, path: "m.safetensors"), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(message), "expected '\(message)', got: \($0)", file: file, line: line)
        }
    }

    private let eight = [UInt8](repeating: 0, count: 8)

    func testEveryRule() {
        expectError([1, 2, 3], "under the 8-byte")
        expectError(file("") + [], "not JSON")
        var huge: [UInt8] = []
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { huge += $0 }
        expectError(huge, "exceeds")
        var past: [UInt8] = []
        withUnsafeBytes(of: UInt64(100).littleEndian) { past += $0 }
        expectError(past + Array("{}".utf8), "past the end")
        expectError([2, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE], "not UTF-8")
        expectError(file("[1, 2]"), "not a JSON object")
        expectError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "duplicate key 'a'")
        expectError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "hole")
        expectError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "overlaps")
        expectError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: eight), "out of order")
        expectError(file(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: eight), "overflows")
        expectError(file(#"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#, data: eight), "dtype F16")
        expectError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: eight), "4 trailing bytes")
        expectError(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight), "needs 12")
        expectError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, data: eight), "past the 8 data bytes")
    }

    func testRoundTripAndLayout() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            ("2.weight", Tensor(shape: [1, 3], values: [1, 2, 3])), ("0.bias", Tensor(shape: [2], values: [-1, 0.5])),
        ]
        let bytes = try SafeTensors.serialize(tensors, metadata: ["format": "pt"])
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "the header is padded to 8 bytes")
        let back = try SafeTensors.parse(bytes, path: "x")
        XCTAssertEqual(back["2.weight"], tensors[0].tensor)
        XCTAssertEqual(back["0.bias"], tensors[1].tensor)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains(#""0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#), header)
    }

    func testReadsWhatPyTorchWrote() throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("torch/seed-mlp-bce-l1/init.safetensors")
        let state = try SafeTensors.read(url)
        XCTAssertEqual(state["0.weight"]?.shape, [50, 10])
        XCTAssertEqual(state["0.bias"]?.shape, [50])
        XCTAssertEqual(state["2.weight"]?.shape, [1, 50])
        XCTAssertTrue(state["0.weight"]!.values.allSatisfy { abs($0) <= 1 / Float(10).squareRoot() + 1e-6 },
                      "torch's default init is U(−1/√fan_in, 1/√fan_in)")
    }

    /// A failed write leaves the existing file byte-identical; a good one replaces it whole.
    func testAtomicWrite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("m.safetensors")
        try Data("old".utf8).write(to: url)
        XCTAssertThrowsError(try SafeTensors.write([("w", Tensor(shape: [3], values: [1]))], to: url))
        XCTAssertEqual(try Data(contentsOf: url), Data("old".utf8))
        try SafeTensors.write([("w", Tensor(shape: [1], values: [4]))], to: url)
        XCTAssertEqual(try SafeTensors.read(url)["w"]?.values, [4])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["m.safetensors"], "no temporary left")
    }
}

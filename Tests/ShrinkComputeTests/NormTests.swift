import Foundation
@testable import ShrinkCompute
import XCTest

/// Reductions on every device against Double sums, up to 10^7 elements within 1e-6 relative.
final class NormTests: XCTestCase {
    static func reference(_ kind: NormKind, _ x: ArraySlice<Float>) -> Double {
        switch kind {
        case .sum: return x.reduce(0.0) { $0 + Double($1) }
        case .l1: return x.reduce(0.0) { $0 + abs(Double($1)) }
        case .l2: return x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        case .l2Squared: return x.reduce(0.0) { $0 + Double($1) * Double($1) }
        case .maxAbs: return x.reduce(0.0) { max($0, abs(Double($1))) }
        case .countBelow(let t): return Double(x.filter { abs($0) < t }.count)
        case .countZero: return Double(x.filter { $0 == 0 }.count)
        }
    }

    static let kinds: [NormKind] = [.sum, .l1, .l2, .l2Squared, .maxAbs, .countBelow(0.25), .countZero]

    func testEveryKindAndLength() throws {
        for device in ComputeDevices.all {
            for n in [1, 7, 1000, 65_537] {
                var x = randomValues(n + 5, seed: UInt64(n))
                for i in stride(from: 0, to: x.count, by: 11) { x[i] = 0 }
                let buffer = try device.makeBuffer(x)
                for kind in Self.kinds {
                    let got = try device.norm(kind, of: buffer, at: 3, count: n)
                    let expected = Self.reference(kind, x[3..<(3 + n)])
                    XCTAssertEqual(Double(got), expected, accuracy: 1e-6 * max(abs(expected), 1),
                                   "\(device.kind) \(kind) n=\(n)")
                }
            }
        }
    }

    /// 10^7 positive values (no cancellation): float accumulation would drift by ~1e-4.
    func testTenMillionWithinOneMillionth() throws {
        let n = 10_000_000
        let x = (0..<n).map { Float(1 + ($0 % 1000)) * 1e-3 + 0.1 }
        for device in ComputeDevices.all {
            let buffer = try device.makeBuffer(x)
            for kind in [NormKind.sum, .l1, .l2, .l2Squared] {
                let expected = Self.reference(kind, x[...])
                let got = Double(try device.norm(kind, of: buffer))
                XCTAssertLessThanOrEqual(abs(got - expected) / expected, 1e-6, "\(device.kind) \(kind): \(got) vs \(expected)")
            }
        }
    }

    func testScaleAndAccumulate() throws {
        for device in ComputeDevices.all {
            let x = try device.makeBuffer([Float]([1, -2, 3, -4]))
            let result = try device.makeBuffer([Float]([100, 5]))
            try device.norm(.l1, of: x, at: 0, count: 4, into: result, at: 1, scale: 0.5, accumulate: true)
            try device.norm(.l2, of: x, at: 0, count: 4, into: result, at: 0, scale: 2, accumulate: false)
            let out = try device.read(result)
            XCTAssertEqual(out[1], 10, accuracy: 1e-6, "\(device.kind) accumulate")
            XCTAssertEqual(out[0], 2 * Float(30).squareRoot(), accuracy: 1e-5, "\(device.kind) overwrite")
        }
    }

    func testNaNAndInfPropagate() throws {
        for device in ComputeDevices.all {
            let x = try device.makeBuffer([Float]([1, .nan, 3]))
            for kind in [NormKind.sum, .l1, .l2, .l2Squared, .maxAbs] {
                XCTAssertTrue(try device.norm(kind, of: x).isNaN, "\(device.kind) \(kind) with NaN")
            }
            let y = try device.makeBuffer([Float]([1, -.infinity, 3]))
            XCTAssertEqual(try device.norm(.l1, of: y), .infinity, "\(device.kind) l1 with Inf")
            XCTAssertEqual(try device.norm(.maxAbs, of: y), .infinity, "\(device.kind) max with Inf")
        }
    }
}

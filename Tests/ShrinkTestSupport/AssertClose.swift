import XCTest

// The one `assertClose` of every test target (compute, training), so that both compare
// numbers by the same rule.

/// Elementwise |actual − expected| ≤ tolerance + |expected|·relative (llm.c's `tol + |ref|·eps`).
/// NaN must meet NaN and an infinity the same infinity. Reports the first mismatch only.
public func assertClose(_ actual: [Float], _ expected: [Double], tolerance: Double, relative: Double,
                        _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        return XCTFail("\(message()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    }
    for (i, (a, e)) in zip(actual, expected).enumerated() where !isClose(a, e, tolerance, relative) {
        return XCTFail("\(message()): [\(i)] = \(a), expected \(e) (±\(tolerance + abs(e) * relative))",
                       file: file, line: line)
    }
}

/// The scalar form of `assertClose`.
public func assertClose(_ actual: Float, _ expected: Double, tolerance: Double, relative: Double,
                        _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    assertClose([actual], [expected], tolerance: tolerance, relative: relative, message(), file: file, line: line)
}

/// Whether `actual` is within tolerance + |expected|·relative of `expected`, by `assertClose`'s rule.
public func isClose(_ actual: Float, _ expected: Double, _ tolerance: Double, _ relative: Double) -> Bool {
    if expected.isNaN { return actual.isNaN }
    if expected.isInfinite { return Double(actual) == expected }
    return abs(Double(actual) - expected) <= tolerance + abs(expected) * relative
}

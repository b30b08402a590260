import Foundation

/// `SHRINK_TEST_SMALL=1` (set by scripts/oclgrind.sh): the suites whose sizes take minutes on
/// a simulator (Oclgrind is ~1000× slower than PoCL) pick smaller ones that still reach every
/// code path — for the norms, the one-launch limit (16,384) and the first two-stage length.
/// Unset, every suite runs its full sizes.
let smallTestSizes = ProcessInfo.processInfo.environment["SHRINK_TEST_SMALL"] == "1"

/// `full`, or `small` under `SHRINK_TEST_SMALL=1`.
func testSize<T>(_ full: T, small: T) -> T { smallTestSizes ? small : full }

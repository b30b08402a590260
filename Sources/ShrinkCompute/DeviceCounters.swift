import Foundation

/// How many kernel launches and host↔device transfers a device has issued — the cost
/// model of small problems, which are launch-bound. Benchmarks report them per step.
public struct DeviceCounters: Sendable, Hashable {
    /// Kernel launches (on the CPU device: operations run).
    public var launches = 0
    /// Reads and writes between host and device memory (zero-fills excluded).
    public var transfers = 0

    public init() {}

    public static func - (a: DeviceCounters, b: DeviceCounters) -> DeviceCounters {
        var d = DeviceCounters()
        d.launches = a.launches - b.launches
        d.transfers = a.transfers - b.transfers
        return d
    }
}

/// A thread-safe running count.
final class CounterBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = DeviceCounters()

    var current: DeviceCounters {
        lock.lock(); defer { lock.unlock() }
        return value
    }

    func launch() { lock.lock(); value.launches += 1; lock.unlock() }
    func transfer() { lock.lock(); value.transfers += 1; lock.unlock() }
}

import Foundation
import Synchronization

/// The processes of one job and the collectives between them: MPI's `MPI_COMM_WORLD` when
/// Shrink runs under `mpirun`, else a single process whose collectives are the identity.
///
/// Open MPI's `libmpi.so.40` is loaded at run time (`dlopen`), only when the environment says
/// that a launcher started this process (`OMPI_COMM_WORLD_SIZE`, or PMIx/PMI's rank
/// variables): a single-machine install builds and runs without MPI. The handles MPI's
/// header defines as addresses of library globals (`MPI_COMM_WORLD` is `&ompi_mpi_comm_world`,
/// `MPI_FLOAT` `&ompi_mpi_float`, `MPI_SUM` `&ompi_mpi_op_sum` in Open MPI's ABI) are looked up
/// by name the same way; MPICH's integer handles are not supported (say so if it is found).
///
/// Errors: the world communicator returns error codes (`MPI_ERRORS_RETURN`) and each is
/// thrown as `DistributedError.mpi` with `MPI_Error_string`'s text; a rank that fails ends
/// the whole job with `abort(message:)` (`MPI_Abort`), so no rank waits forever in a collective.
///
/// Thread use: one thread at a time calls into MPI (`MPI_THREAD_SERIALIZED`), the thread
/// that runs the command.
public final class Communicator: @unchecked Sendable {
    /// This process's rank, 0..<size; rank 0 prints and writes.
    public let rank: Int
    public let size: Int
    /// The rank among the processes on this node (picks one of several GPUs); 0 alone.
    public let localRank: Int
    private let mpi: MPILibrary?

    /// One process, no MPI.
    public static let single = Communicator(rank: 0, size: 1, localRank: 0, mpi: nil)

    private init(rank: Int, size: Int, localRank: Int, mpi: MPILibrary?) {
        self.rank = rank; self.size = size; self.localRank = localRank; self.mpi = mpi
    }

    /// Whether collectives go through MPI (launched by `mpirun`, even with one rank).
    public var usesMPI: Bool { mpi != nil }
    public var isRoot: Bool { rank == 0 }

    /// Whether a launcher's variables say this process is one rank of a job.
    public static func launchedByMPI(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    /// The world of this job: MPI's when launched by `mpirun`, else `single`. Initializes MPI
    /// (once per process; later calls return the same communicator).
    public static func world() throws -> Communicator {
        try worldLock.withLock { cached in
            if let cached { return cached }
            let world: Communicator
            if launchedByMPI() {
                let library = try MPILibrary.load()
                let (rank, size) = try library.initialize()
                let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_RANK"] ?? "") ?? 0
                world = Communicator(rank: rank, size: size, localRank: local, mpi: library)
            } else {
                world = .single
            }
            cached = world
            return world
        }
    }

    private static let worldLock = Mutex<Communicator?>(nil)

    /// The world if a command has asked for it (`world()`), else nil: what the program's end
    /// finalizes, and what an error aborts.
    public static var initializedWorld: Communicator? { worldLock.withLock { $0 } }

    /// Which MPI library this process could load, e.g. "Open MPI v4.1.4 (libmpi.so.40)", or nil.
    public static func availableLibrary() -> String? { MPILibrary.describeAvailable() }

    /// Elementwise sum over ranks, in place, of every rank's `values` (the same count on each).
    public func sum(_ values: inout [Float]) throws {
        guard let mpi, !values.isEmpty else { return }
        try mpi.allreduceSum(&values, type: mpi.floatType)
    }

    /// Elementwise sum over ranks, in place, in Double.
    public func sum(_ values: inout [Double]) throws {
        guard let mpi, !values.isEmpty else { return }
        try mpi.allreduceSum(&values, type: mpi.doubleType)
    }

    /// Elementwise sum over ranks, in place, in Double, bit for bit the same on every rank:
    /// MPI_Allreduce, then rank 0's result broadcast. MPI recommends but does not promise that
    /// every rank gets the same bits from an allreduce; the exact solver decides when to stop
    /// from these sums, and ranks that decided differently would wait on each other for ever.
    public func agreedSum(_ values: inout [Double]) throws {
        guard let mpi, !values.isEmpty else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            agreedSumSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            agreedSumCalls += 1
        }
        try mpi.allreduceSum(&values, type: mpi.doubleType)
        try mpi.broadcast(&values, type: mpi.doubleType)
    }

    /// Seconds spent in `agreedSum` (waiting for the slower ranks included) and its calls: the
    /// exact solver's communication, which `fit` and `path` report under mpirun. (One thread
    /// calls it: the one that solves.)
    public private(set) var agreedSumSeconds = 0.0
    public private(set) var agreedSumCalls = 0

    /// The sum over ranks of one integer each.
    public func sum(_ value: Int) throws -> Int {
        var v = [Double(value)]
        try sum(&v)
        return Int(v[0])
    }

    /// Every rank's `value`, in rank order.
    public func gather(_ value: Int) throws -> [Int] {
        try gather([value]).map { $0[0] }
    }

    /// Every rank's `values` (the same count on each, |values| < 2⁵³), in rank order: one sum
    /// over slots that each rank fills with its own.
    public func gather(_ values: [Int]) throws -> [[Int]] {
        guard mpi != nil else { return [values] }
        let width = values.count
        var slots = [Double](repeating: 0, count: size * width)
        for (i, v) in values.enumerated() { slots[rank * width + i] = Double(v) }
        try sum(&slots)
        return (0..<size).map { r in (0..<width).map { Int(slots[r * width + $0]) } }
    }

    /// Every rank's `text`, in rank order (lengths first, then the UTF-8 bytes in padded slots).
    public func gatherText(_ text: String) throws -> [String] {
        guard mpi != nil else { return [text] }
        let bytes = Array(text.utf8)
        let lengths = try gather(bytes.count)
        let width = lengths.max() ?? 0
        guard width > 0 else { return lengths.map { _ in "" } }
        let slots = try gather(bytes.map(Int.init) + [Int](repeating: 0, count: width - bytes.count))
        return zip(slots, lengths).map { String(decoding: $0.prefix($1).map { UInt8($0) }, as: UTF8.self) }
    }

    /// The sum of `value` over the ranks before this one (0 on rank 0), and over all ranks.
    public func prefixSum(_ value: Int) throws -> (before: Int, total: Int) {
        let all = try gather(value)
        return (all[..<rank].reduce(0, +), all.reduce(0, +))
    }

    /// Waits until every rank has arrived.
    public func barrier() throws {
        guard let mpi else { return }
        try mpi.barrier()
    }

    /// Ends every rank of the job at once with exit code `code` (MPI_Abort), after writing
    /// `message` (one line, which should name this rank), if any, on standard error; a single
    /// process just exits.
    public func abort(message: String? = nil, code: Int32 = 1) -> Never {
        if let message { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
        if let mpi { mpi.abort(code: code) }
        exit(code)
    }

    /// Ends MPI (collectively); nothing when single.
    public func finalize() {
        mpi?.finalize()
    }
}

/// What went wrong in a collective or while loading MPI.
public enum DistributedError: Error, CustomStringConvertible {
    case unavailable(String)
    case mpi(call: String, message: String)

    public var description: String {
        switch self {
        case let .unavailable(why): return "MPI is not available: \(why)"
        case let .mpi(call, message): return "\(call) failed: \(message)"
        }
    }
}

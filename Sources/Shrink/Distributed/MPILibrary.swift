import Foundation

/// Open MPI's C API, loaded at run time: the few calls `Communicator` makes, each bound by
/// `dlsym` to its C signature (handles are pointers in Open MPI's ABI).
final class MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    private typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    private typealias CommInt = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    private typealias SetErrhandler = @convention(c) (Handle, Handle) -> Int32
    private typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle) -> Int32
    private typealias Bcast = @convention(c) (UnsafeMutableRawPointer, Int32, Handle, Int32, Handle) -> Int32
    private typealias Barrier = @convention(c) (Handle) -> Int32
    private typealias Abort = @convention(c) (Handle, Int32) -> Int32
    private typealias Finalize = @convention(c) () -> Int32
    private typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    private typealias LibraryVersion = @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    /// The sonames tried, newest ABI first (Debian's openmpi-bin ships libmpi.so.40).
    static let names = ["libmpi.so.40", "libmpi.so"]
    /// MPI_THREAD_SERIALIZED in Open MPI's mpi.h; MPI_MAX_ERROR_STRING and
    /// MPI_MAX_LIBRARY_VERSION_STRING bound the text buffers.
    private static let threadSerialized: Int32 = 2
    private static let maxText = 8192

    private let library: UnsafeMutableRawPointer
    let world: Handle, floatType: Handle, doubleType: Handle, sumOp: Handle
    private let errorsReturn: Handle
    private let initThread: InitThread, commRank: CommInt, commSize: CommInt, setErrhandler: SetErrhandler
    private let allreduce: Allreduce, bcast: Bcast, barrierCall: Barrier, abortCall: Abort, finalizeCall: Finalize
    private let errorString: ErrorString

    private init(library: UnsafeMutableRawPointer) throws {
        self.library = library
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(library, name) else {
                throw DistributedError.unavailable("\(Self.names[0]) has no symbol \(name) (only Open MPI's ABI is supported)")
            }
            return address
        }
        func function<T>(_ name: String, as type: T.Type) throws -> T { unsafeBitCast(try symbol(name), to: type) }
        world = try symbol("ompi_mpi_comm_world")
        floatType = try symbol("ompi_mpi_float")
        doubleType = try symbol("ompi_mpi_double")
        sumOp = try symbol("ompi_mpi_op_sum")
        errorsReturn = try symbol("ompi_mpi_errors_return")
        initThread = try function("MPI_Init_thread", as: InitThread.self)
        commRank = try function("MPI_Comm_rank", as: CommInt.self)
        commSize = try function("MPI_Comm_size", as: CommInt.self)
        setErrhandler = try function("MPI_Comm_set_errhandler", as: SetErrhandler.self)
        allreduce = try function("MPI_Allreduce", as: Allreduce.self)
        bcast = try function("MPI_Bcast", as: Bcast.self)
        barrierCall = try function("MPI_Barrier", as: Barrier.self)
        abortCall = try function("MPI_Abort", as: Abort.self)
        finalizeCall = try function("MPI_Finalize", as: Finalize.self)
        errorString = try function("MPI_Error_string", as: ErrorString.self)
    }

    /// dlopen's handle of the first soname that loads (RTLD_GLOBAL: Open MPI's plugins resolve
    /// their symbols against it), or the last error.
    private static func open() -> (UnsafeMutableRawPointer?, String) {
        var why = ""
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) { return (handle, name) }
            why = dlerror().map { String(cString: $0) } ?? "dlopen(\(name)) failed"
        }
        return (nil, why)
    }

    static func load() throws -> MPILibrary {
        let (handle, why) = open()
        guard let handle else {
            throw DistributedError.unavailable("launched by mpirun but \(why) (install openmpi-bin libopenmpi-dev)")
        }
        return try MPILibrary(library: handle)
    }

    /// "Open MPI v4.1.4, … (libmpi.so.40)" from MPI_Get_library_version (callable before
    /// MPI_Init), or nil when no MPI library loads.
    static func describeAvailable() -> String? {
        let (handle, name) = open()
        guard let handle, let address = dlsym(handle, "MPI_Get_library_version") else { return nil }
        let version = unsafeBitCast(address, to: LibraryVersion.self)
        var text = [CChar](repeating: 0, count: maxText)
        var length: Int32 = 0
        guard version(&text, &length) == 0 else { return "MPI (\(name))" }
        let first = Self.string(text).split(separator: ",").first.map(String.init) ?? "MPI"
        return "\(first.trimmingCharacters(in: .whitespacesAndNewlines)) (\(name))"
    }

    /// MPI_Init_thread (serialized), errors returned rather than fatal; the world's rank and size.
    func initialize() throws -> (rank: Int, size: Int) {
        var provided: Int32 = 0
        try check(initThread(nil, nil, Self.threadSerialized, &provided), "MPI_Init_thread")
        try check(setErrhandler(world, errorsReturn), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try check(commRank(world, &rank), "MPI_Comm_rank")
        try check(commSize(world, &size), "MPI_Comm_size")
        return (Int(rank), Int(size))
    }

    func allreduceSum<T>(_ values: inout [T], type: Handle) throws {
        let count = values.count
        guard count <= Int(Int32.max) else {
            throw DistributedError.mpi(call: "MPI_Allreduce", message: "\(count) values exceed one call's count")
        }
        let world = world, sumOp = sumOp, allreduce = allreduce
        // MPI_IN_PLACE is (void *)1 in Open MPI's mpi.h.
        let inPlace = UnsafeRawPointer(bitPattern: 1)
        let rc = values.withUnsafeMutableBytes { allreduce(inPlace, $0.baseAddress!, Int32(count), type, sumOp, world) }
        try check(rc, "MPI_Allreduce")
    }

    /// Rank 0's `values` on every rank (MPI_Bcast).
    func broadcast<T>(_ values: inout [T], type: Handle) throws {
        let count = values.count
        guard count <= Int(Int32.max) else {
            throw DistributedError.mpi(call: "MPI_Bcast", message: "\(count) values exceed one call's count")
        }
        let world = world, bcast = bcast
        let rc = values.withUnsafeMutableBytes { bcast($0.baseAddress!, Int32(count), type, 0, world) }
        try check(rc, "MPI_Bcast")
    }

    func barrier() throws { try check(barrierCall(world), "MPI_Barrier") }

    func abort(code: Int32) { _ = abortCall(world, code) }

    func finalize() { _ = finalizeCall() }

    /// A C string's text up to its terminator.
    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func check(_ rc: Int32, _ call: String) throws {
        guard rc != 0 else { return }
        var text = [CChar](repeating: 0, count: Self.maxText)
        var length: Int32 = 0
        let message = errorString(rc, &text, &length) == 0 ? Self.string(text) : "error code \(rc)"
        throw DistributedError.mpi(call: call, message: message)
    }
}

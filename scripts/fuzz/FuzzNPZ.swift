// libFuzzer target for the SciPy sparse .npz reader: ZIP archive (ZIPFoundation, compiled into
// the fuzzer), then the .npy arrays and the CSR/CSC structure rules. Any input must give a
// matrix or a thrown error: never a trap, a leak or an out-of-bounds access.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? SciPySparse.parse(Data(bytes: data, count: size), path: "fuzz")
    return 0
}

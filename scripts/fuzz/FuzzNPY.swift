// libFuzzer target for the NPY parser (scripts/fuzz.sh builds it with -sanitize=fuzzer,address).
// Any input must give a value or a thrown error: never a trap, a leak or an out-of-bounds access.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? NPY.parse(bytes, path: "fuzz")
    return 0
}

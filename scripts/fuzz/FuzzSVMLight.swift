// libFuzzer target for the svmlight/libsvm parser (scripts/fuzz.sh builds it with -sanitize=fuzzer,address).
// Any input must give a value or a thrown error: never a trap, a leak or an out-of-bounds access.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for base in SVMLight.IndexBase.allCases {
        _ = try? SVMLight.parse(bytes, path: "fuzz", indexBase: base)
    }
    _ = try? SVMLight.parse(bytes, path: "fuzz", features: 8)
    return 0
}

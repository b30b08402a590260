// libFuzzer target for the CSV parser (scripts/fuzz.sh builds it with -sanitize=fuzzer,address).
// Any input must give a value or a thrown error: never a trap, a leak or an out-of-bounds access.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? CSVLoader.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz", targetColumn: bytes.first.map { $0 % 2 == 0 ? nil : "b" } ?? nil)
    return 0
}

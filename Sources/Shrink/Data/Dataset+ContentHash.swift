extension Dataset {
    /// 64-bit FNV-1a over the features' and then the targets' float bit patterns (one 32-bit
    /// word per step), with the shape first: two files of the same shape but other values
    /// differ here. Stable across processes and platforms (Swift's `Hasher` is seeded).
    public var contentHash: UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ word: UInt64) {
            hash ^= word
            hash = hash &* 0x0000_0100_0000_01B3
        }
        mix(UInt64(rows))
        mix(UInt64(columns))
        if let sparse {
            // The structure too: the same values at other places are other data.
            for start in sparse.rowStarts { mix(UInt64(start)) }
            for c in sparse.columnIndices { mix(UInt64(UInt32(bitPattern: c))) }
            for x in sparse.values { mix(UInt64(x.bitPattern)) }
        } else {
            for x in features { mix(UInt64(x.bitPattern)) }
        }
        for y in targets { mix(UInt64(y.bitPattern)) }
        return hash
    }
}

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

extension Dataset {
    /// Σ over rows r of a 64-bit FNV-1a hash of (positions[r], row r's features, its target),
    /// wrapping: a fingerprint of the rows that does not depend on how they are split among
    /// processes (each rank sums its own rows, the sums add up) nor on their order in memory.
    /// `positions` place each row in the run (its index in the training order); a different
    /// `salt` tells training rows from test rows.
    public func rowFingerprint(positions: [Int], salt: UInt64) -> UInt64 {
        precondition(positions.count == rows)
        var total: UInt64 = 0
        let dense = sparse == nil ? features : []
        for r in 0..<rows {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ salt
            func mix(_ word: UInt64) {
                hash ^= word
                hash = hash &* 0x0000_0100_0000_01B3
            }
            mix(UInt64(positions[r]))
            mix(UInt64(columns))
            if let sparse {
                for i in sparse.rowStarts[r]..<sparse.rowStarts[r + 1] {
                    mix(UInt64(UInt32(bitPattern: sparse.columnIndices[i])))
                    mix(UInt64(sparse.values[i].bitPattern))
                }
            } else {
                for j in 0..<columns where dense[r * columns + j] != 0 {
                    // The same words as the sparse form of the row: dense and sparse files agree.
                    mix(UInt64(j))
                    mix(UInt64(dense[r * columns + j].bitPattern))
                }
            }
            mix(UInt64(targets[r].bitPattern))
            total &+= hash
        }
        return total
    }
}

/// ‖·‖₁, ‖·‖₂², max|w|, zeros and the sparsity count over the penalized parameters (Double).
struct ParameterSummary {
    private var values: [Float] = []
    var l1 = 0.0, l2Squared = 0.0, maxAbs = 0.0
    var zeros = 0

    mutating func add(_ slice: ArraySlice<Float>) {
        for w in slice {
            l1 += Double(abs(w)); l2Squared += Double(w) * Double(w)
            maxAbs = max(maxAbs, Double(abs(w)))
            if w == 0 { zeros += 1 }
        }
        values += slice
    }

    func countBelow(_ threshold: Float) -> Int { values.reduce(0) { $0 + (abs($1) < threshold ? 1 : 0) } }
}

/// Where each of the K stacked models lives in a stacked `ParameterLayout`.
extension ParameterLayout {
    /// One model's own layout (the `Sequential` it is a copy of).
    var modelLayout: ParameterLayout {
        guard models > 1 else { return self }
        let hidden = layers.dropLast().map(\.modelOutputs)
        return ParameterLayout(architecture: hidden.isEmpty ? .linear : .mlp(Array(hidden)),
                               inputs: layers[0].modelInputs, outputs: layers[layers.count - 1].modelOutputs)
    }

    /// Model m's part of each stacked tensor, in state-dict order: for a weight its whole rows
    /// (the off-block zeros of the rows included, which add nothing to any penalty), for a
    /// bias its entries. `slot` is the stacked tensor, `tensor` its index in `slots`.
    func ranges(ofModel m: Int) -> [(slot: ParameterSlot, tensor: Int, range: Range<Int>)] {
        layers.enumerated().flatMap { l, layer -> [(slot: ParameterSlot, tensor: Int, range: Range<Int>)] in
            let rows = (m * layer.modelOutputs)..<((m + 1) * layer.modelOutputs)
            let weight = layer.weight.offset + rows.lowerBound * layer.inputs
            let bias = layer.bias.offset + rows.lowerBound
            return [(layer.weight, 2 * l, weight..<(weight + rows.count * layer.inputs)),
                    (layer.bias, 2 * l + 1, bias..<(bias + rows.count))]
        }
    }

    /// The stacked index of each of model m's parameters, in its own flat (state-dict) order.
    func indices(ofModel m: Int) -> [Int] {
        var result: [Int] = []
        for (l, layer) in layers.enumerated() {
            let (o, i) = (layer.modelOutputs, layer.modelInputs)
            let column = l == 0 ? 0 : m * i
            for a in 0..<o {
                let row = layer.weight.offset + (m * o + a) * layer.inputs + column
                result += row..<(row + i)
            }
            result += (layer.bias.offset + m * o)..<(layer.bias.offset + (m + 1) * o)
        }
        return result
    }

    /// 1 where a parameter belongs to its row's model, 0 off the diagonal blocks; nil for one
    /// model (nothing to mask).
    var blockMask: [Float]? {
        guard models > 1 else { return nil }
        var mask = [Float](repeating: 0, count: totalCount)
        for m in 0..<models { for index in indices(ofModel: m) { mask[index] = 1 } }
        return mask
    }

    /// Scatters one model's flat parameters into all K blocks of a stacked buffer.
    func stacked(_ single: [Float]) -> [Float] {
        var values = [Float](repeating: 0, count: totalCount)
        for m in 0..<models {
            for (source, index) in indices(ofModel: m).enumerated() { values[index] = single[source] }
        }
        return values
    }

    /// Model m's flat parameters gathered from a stacked buffer.
    func model(_ m: Int, of stacked: some RandomAccessCollection<Float>) -> [Float] {
        let start = stacked.startIndex
        return indices(ofModel: m).map { stacked[stacked.index(start, offsetBy: $0)] }
    }
}

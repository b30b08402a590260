/// A model as a `torch.nn.Sequential` of Linear layers with ReLU between them:
/// `linear` = Linear(p, out); `mlp:H1,H2` = Linear(p,H1), ReLU, Linear(H1,H2), ReLU, Linear(H2,out).
public enum Architecture: Sendable, Hashable, CustomStringConvertible {
    case linear
    case mlp([Int])

    /// Parses `linear` or `mlp:H1,H2,...` (each H a positive integer).
    public init(parsing text: String) throws {
        if text == "linear" { self = .linear; return }
        let prefix = "mlp:"
        guard text.hasPrefix(prefix) else {
            throw TrainingError.invalidConfiguration("unknown model '\(text)': expected linear or mlp:H1,H2,...")
        }
        let widths = text.dropFirst(prefix.count).split(separator: ",", omittingEmptySubsequences: false)
        let hidden = widths.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, hidden.count == widths.count, hidden.allSatisfy({ $0 > 0 }) else {
            throw TrainingError.invalidConfiguration("unknown model '\(text)': hidden widths must be positive integers, e.g. mlp:50 or mlp:64,32")
        }
        self = .mlp(hidden)
    }

    public var hidden: [Int] {
        switch self {
        case .linear: return []
        case .mlp(let widths): return widths
        }
    }

    public var description: String {
        switch self {
        case .linear: return "linear"
        case .mlp(let widths): return "mlp:" + widths.map(String.init).joined(separator: ",")
        }
    }

    /// The Linear layers' (in, out) for `inputs` features and `outputs` outputs.
    public func layerShapes(inputs: Int, outputs: Int) -> [(inputs: Int, outputs: Int)] {
        var shapes: [(Int, Int)] = []
        var width = inputs
        for h in hidden {
            shapes.append((width, h))
            width = h
        }
        shapes.append((width, outputs))
        return shapes
    }
}

/// Where one parameter tensor lives in a model's flat parameter buffer.
public struct ParameterSlot: Sendable, Hashable {
    /// The `state_dict` name: "0.weight", "0.bias", "2.weight", ... (ReLU takes odd indices).
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    public var isWeight: Bool { name.hasSuffix(".weight") }
}

/// The layout of a model's parameters: state-dict order, flat and contiguous.
///
/// With `models` K > 1 it is the layout of K copies of the architecture stacked into one
/// model that trains them side by side (`Trainer(variants:)`, the batched solver): layer 0
/// maps the shared p inputs to K·H₁ outputs (model m owns rows m·H₁..<(m+1)·H₁, so one matmul
/// serves all K), and each later layer is block diagonal, [K·out, K·in], model m's block at
/// rows m·out, columns m·in; the entries off the blocks stay exactly zero (their gradient is
/// masked). Biases stack as [K·out]. K = 1 is the ordinary `Sequential`.
public struct ParameterLayout: Sendable, Hashable {
    public let layers: [LayerSlots]
    public let totalCount: Int
    public let models: Int

    public struct LayerSlots: Sendable, Hashable {
        /// Stacked sizes (the matmul's); one model's are `modelInputs`/`modelOutputs`.
        public let inputs: Int
        public let outputs: Int
        public let modelInputs: Int
        public let modelOutputs: Int
        public let weight: ParameterSlot
        public let bias: ParameterSlot
    }

    public init(architecture: Architecture, inputs: Int, outputs: Int, models: Int = 1) {
        var offset = 0
        var layers: [LayerSlots] = []
        for (index, shape) in architecture.layerShapes(inputs: inputs, outputs: outputs).enumerated() {
            let prefix = String(2 * index)
            let (rows, cols) = (models * shape.outputs, index == 0 ? shape.inputs : models * shape.inputs)
            let weight = ParameterSlot(name: prefix + ".weight", shape: [rows, cols], offset: offset)
            offset += weight.count
            let bias = ParameterSlot(name: prefix + ".bias", shape: [rows], offset: offset)
            offset += bias.count
            layers.append(LayerSlots(inputs: cols, outputs: rows, modelInputs: shape.inputs, modelOutputs: shape.outputs,
                                     weight: weight, bias: bias))
        }
        self.layers = layers
        self.models = models
        totalCount = offset
    }

    /// Every tensor in state-dict order.
    public var slots: [ParameterSlot] { layers.flatMap { [$0.weight, $0.bias] } }

    /// The number of logits a forward pass produces per row (K × one model's outputs).
    public var outputColumns: Int { layers.last?.outputs ?? 0 }
}

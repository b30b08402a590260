/// A `Sequential` of Linear layers (ReLU between) whose parameters live on a device,
/// flat, in `state_dict` order — or K copies of one, stacked (`models` > 1, see
/// `ParameterLayout`), each initialized and loaded like the single model.
public final class Model: @unchecked Sendable {
    public let architecture: Architecture
    public let inputs: Int
    /// One model's outputs (the forward pass gives `layout.outputColumns` = models × outputs).
    public let outputs: Int
    public var models: Int { layout.models }
    public let layout: ParameterLayout
    public let device: any Device
    /// All parameters, flat: 0.weight, 0.bias, 2.weight, 2.bias, ...
    let parameters: Buffer

    /// PyTorch's `nn.Linear` default initialization from `seed`: every weight and bias
    /// ~ U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5 gives the same bound).
    /// The stream is Shrink's own (`SeededGenerator`), not torch's; `--init` loads torch's.
    /// With `models` K > 1, every copy starts from the same seeded values.
    public init(device: any Device, architecture: Architecture, inputs: Int, outputs: Int, models: Int = 1,
                seed: UInt64) throws {
        self.device = device
        self.architecture = architecture
        self.inputs = inputs
        self.outputs = outputs
        layout = ParameterLayout(architecture: architecture, inputs: inputs, outputs: outputs, models: models)
        parameters = try device.makeBuffer(count: layout.totalCount)  // fails fast when too large
        let single = layout.modelLayout
        var rng = SeededGenerator(seed: seed)
        var values = [Float](repeating: 0, count: single.totalCount)
        for layer in single.layers {
            let bound = 1 / Double(layer.inputs).squareRoot()
            for slot in [layer.weight, layer.bias] {
                for i in slot.offset..<(slot.offset + slot.count) { values[i] = Float(rng.uniform(-bound, bound)) }
            }
        }
        try device.write(layout.stacked(values), to: parameters)
    }

    /// A model initialized from a state dict (e.g. a safetensors file PyTorch wrote).
    public convenience init(device: any Device, architecture: Architecture, inputs: Int, outputs: Int,
                            state: [String: Tensor]) throws {
        try self.init(device: device, architecture: architecture, inputs: inputs, outputs: outputs, seed: 0)
        try load(state)
    }

    /// Replaces every parameter with the tensor of the same name; names and shapes must match
    /// one model's (stacked models all load the same state). A bare `nn.Linear`'s `weight` and
    /// `bias` are taken as `0.weight` and `0.bias`.
    public func load(_ state: [String: Tensor]) throws {
        let state = ModelFile.sequentialNames(state)
        let single = layout.modelLayout
        var values = [Float](repeating: 0, count: single.totalCount)
        for slot in single.slots {
            guard let tensor = state[slot.name] else {
                throw TrainingError.invalidData("missing tensor \(slot.name) (the model \(architecture) needs \(layout.slots.map(\.name).joined(separator: ", ")))")
            }
            guard tensor.shape == slot.shape, tensor.values.count == slot.count else {
                throw TrainingError.invalidData("tensor \(slot.name) has shape \(tensor.shape), the model needs \(slot.shape)")
            }
            values.replaceSubrange(slot.offset..<(slot.offset + slot.count), with: tensor.values)
        }
        let extra = Set(state.keys).subtracting(single.slots.map(\.name)).filter { !$0.hasPrefix("__") }
        if let name = extra.sorted().first {
            throw TrainingError.invalidData("unexpected tensor \(name) for the model \(architecture)")
        }
        try device.write(layout.stacked(values), to: parameters)
    }

    /// All parameters, flat, read back from the device.
    public func parameterValues() throws -> [Float] { try device.read(parameters) }

    /// The state dict: each tensor with its PyTorch name and shape, in state-dict order (of
    /// stacked models, model `index`'s).
    public func stateDict(model index: Int = 0) throws -> [(name: String, tensor: Tensor)] {
        precondition(index >= 0 && index < models, "model \(index) of \(models)")
        return Self.stateDict(layout.modelLayout, values: layout.model(index, of: try parameterValues()))
    }

    static func stateDict(_ layout: ParameterLayout, values: [Float]) -> [(name: String, tensor: Tensor)] {
        layout.slots.map { slot in
            (slot.name, Tensor(shape: slot.shape, values: Array(values[slot.offset..<(slot.offset + slot.count)])))
        }
    }

    /// The model's outputs (logits) for `rows` × `inputs` features, computed on the device.
    public func predict(_ features: [Float], rows: Int) throws -> [Float] {
        guard rows > 0, features.count == rows * inputs else {
            throw TrainingError.invalidData("predict: expected \(rows)×\(inputs) features, got \(features.count) values")
        }
        let input = try device.makeBuffer(features)
        let forward = try ForwardPass(model: self, capacity: rows)
        let logits = try forward.run(input: input, at: 0, rows: rows)
        return try device.read(logits, at: 0, count: rows * layout.outputColumns)
    }

    /// The model's outputs (logits) for the rows of a CSR matrix of `inputs` columns: the first
    /// layer a sparse product on the device (never densified), the rest as `predict`.
    public func predict(_ features: SparseMatrix) throws -> [Float] {
        guard features.rows > 0, features.columns == inputs else {
            throw TrainingError.invalidData("predict: expected rows of \(inputs) features, got \(features.rows)×\(features.columns)")
        }
        let x = try DeviceDataset.upload(features, on: device)
        let forward = try ForwardPass(model: self, capacity: features.rows)
        let logits = try forward.run(input: .sparse(x, rows: .range(first: 0)), rows: features.rows)
        return try device.read(logits, at: 0, count: features.rows * layout.outputColumns)
    }
}

/// The activations of one forward pass, sized for up to `capacity` rows.
struct ForwardPass {
    let model: Model
    /// activations[l] = the output of Linear layer l (after its ReLU for hidden layers).
    let activations: [Buffer]

    init(model: Model, capacity: Int) throws {
        self.model = model
        activations = try model.layout.layers.map { try model.device.makeBuffer(count: capacity * $0.outputs) }
    }

    /// Enqueues the forward pass of `rows` rows of `input` starting at row `firstRow`; returns
    /// the logits buffer ([rows, outputs] at offset 0).
    @discardableResult
    func run(input: Buffer, at firstRow: Int, rows: Int) throws -> Buffer {
        try run(input: .dense(input, firstRow: firstRow), rows: rows)
    }

    /// The first layer's input: dense rows from `firstRow`, or the selected rows of a CSR matrix
    /// (an offset, or indices on the device: the batch gathered inside the product).
    enum Input {
        case dense(Buffer, firstRow: Int)
        case sparse(SparseOperand, rows: SparseSelection.Rows)
    }

    /// Enqueues the forward pass of `rows` rows of `input`; returns the logits buffer ([rows,
    /// outputs] at offset 0). A sparse input's first layer is X_b·Wᵀ = sparseMatmul(X, rows, Wᵀ);
    /// the layers after it are the same on both routes.
    @discardableResult
    func run(input: Input, rows: Int) throws -> Buffer {
        let device = model.device
        let layers = model.layout.layers
        for (l, layer) in layers.enumerated() {
            let c = activations[l]
            switch (l, input) {
            case let (0, .sparse(x, selected)):
                try device.sparseMatmul(x, SparseSelection(rows: rows, aRows: selected), n: layer.outputs,
                                        transposeB: true, alpha: 1, b: model.parameters, at: layer.weight.offset,
                                        beta: 0, c: c, at: 0)
            default:
                let (a, aOffset): (Buffer, Int)
                if l == 0, case let .dense(buffer, firstRow) = input {
                    (a, aOffset) = (buffer, firstRow * layer.inputs)
                } else {
                    (a, aOffset) = (activations[l - 1], 0)
                }
                try device.matmul(MatmulShape(m: rows, n: layer.outputs, k: layer.inputs, transposeB: true),
                                  alpha: 1, a: a, at: aOffset, b: model.parameters, at: layer.weight.offset,
                                  beta: 0, c: c, at: 0)
            }
            try device.addBias(activations[l], bias: model.parameters, at: layer.bias.offset,
                               rows: rows, cols: layer.outputs, relu: l < layers.count - 1)
        }
        return activations[layers.count - 1]
    }
}

import Foundation

/// A model as Shrink saves it: the `torch.nn.Sequential` state dict (`0.weight`, `0.bias`, … names, F32) in a
/// safetensors file, and in its `__metadata__` (string → string, which PyTorch's loader
/// ignores) what is needed to use it on new data:
///
/// | key | value |
/// |---|---|
/// | `format` | `shrink-model/1` |
/// | `architecture`, `loss` | `linear` / `mlp:50,20`, `mse` / `bce` / `ce` |
/// | `classes` | JSON array of the class label values as the user wrote them (bce, ce) |
/// | `feature_names`, `target_name` | JSON array of the CSV header's feature columns; the target column |
/// | `standardize_mean`, `standardize_scale` | JSON arrays: the inputs are standardized with these first |
/// | anything else | how it was trained (`trained_by`, `alpha`, `l1_ratio`, ...), kept as is |
///
/// A file without metadata (one PyTorch wrote) still loads: the architecture follows from the
/// tensor shapes, and the loss must be given (`loss` nil until then).
public struct ModelFile: Sendable {
    public static let formatTag = "shrink-model/1"

    public private(set) var tensors: [(name: String, tensor: Tensor)]
    public let architecture: Architecture
    public let inputs: Int
    public let outputs: Int
    public var loss: LossKind?
    public var classNames: [String]?
    public var featureNames: [String]?
    public var targetName: String?
    /// Applied to the inputs before the first layer (`train --standardize`). Models from `fit`
    /// and `path` have their coefficients in original units and need none.
    public var standardization: Standardization?
    /// How the model was trained (`trained_by`, `alpha`, ...): written into the metadata as is.
    public var info: [String: String]

    /// A model file from a state dict. Names are the `Sequential`'s (`0.weight`, `0.bias`,
    /// `2.weight`, ...); a bare `nn.Linear`'s `weight`/`bias` are taken as `0.weight`/`0.bias`.
    public init(tensors: [(name: String, tensor: Tensor)], loss: LossKind?, classNames: [String]? = nil,
                featureNames: [String]? = nil, targetName: String? = nil, standardization: Standardization? = nil,
                info: [String: String] = [:]) throws {
        let state = Self.sequentialNames(Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
        var layers: [(weight: Tensor, bias: Tensor)] = []
        while let weight = state["\(2 * layers.count).weight"] {
            guard let bias = state["\(2 * layers.count).bias"] else {
                throw DataError.invalid("the model has \(2 * layers.count).weight but no \(2 * layers.count).bias")
            }
            guard weight.shape.count == 2, bias.shape == [weight.shape[0]] else {
                throw DataError.invalid("layer \(2 * layers.count): weight shape \(weight.shape) and bias shape \(bias.shape) do not make a Linear layer")
            }
            if let previous = layers.last, previous.weight.shape[0] != weight.shape[1] {
                throw DataError.invalid("layer \(2 * layers.count) takes \(weight.shape[1]) inputs, the layer before gives \(previous.weight.shape[0])")
            }
            layers.append((weight, bias))
        }
        guard let first = layers.first, let last = layers.last else {
            throw DataError.invalid("no 0.weight in the model (tensors: \(state.keys.sorted().joined(separator: ", ")))")
        }
        if let extra = Set(state.keys).subtracting((0..<layers.count).flatMap { ["\(2 * $0).weight", "\(2 * $0).bias"] }).min() {
            throw DataError.invalid("unexpected tensor \(extra): a Shrink model is a Sequential of Linear layers with ReLU between")
        }
        let hidden = layers.dropLast().map { $0.weight.shape[0] }
        architecture = hidden.isEmpty ? .linear : .mlp(hidden)
        inputs = first.weight.shape[1]
        outputs = last.weight.shape[0]
        self.tensors = layers.enumerated().flatMap { l, layer in
            [("\(2 * l).weight", layer.weight), ("\(2 * l).bias", layer.bias)]
        }
        self.loss = loss
        self.classNames = classNames
        self.featureNames = featureNames
        self.targetName = targetName
        self.standardization = standardization
        self.info = info
        try validate()
    }

    /// Renames a bare `nn.Linear` state dict (`weight`, `bias`) to the `Sequential`'s names.
    public static func sequentialNames(_ state: [String: Tensor]) -> [String: Tensor] {
        guard Set(state.keys) == ["weight", "bias"] else { return state }
        return ["0.weight": state["weight"]!, "0.bias": state["bias"]!]
    }

    /// Checks the metadata against the tensors.
    func validate() throws {
        if let featureNames, featureNames.count != inputs {
            throw DataError.invalid("the model names \(featureNames.count) features but takes \(inputs) inputs")
        }
        if let standardization, standardization.means.count != inputs {
            throw DataError.invalid("the model's standardization covers \(standardization.means.count) features, it takes \(inputs)")
        }
        guard let loss else { return }
        switch loss {
        case .mse:
            guard outputs == 1 else { throw DataError.invalid("an mse model has one output, this one \(outputs)") }
            if classNames != nil { throw DataError.invalid("an mse model has no classes") }
        case .bce:
            guard outputs == 1 else { throw DataError.invalid("a bce model has one output, this one \(outputs)") }
            if let classNames, classNames.count != 2 { throw DataError.invalid("a bce model has 2 classes, the file names \(classNames.count)") }
        case .ce:
            guard outputs >= 2 else { throw DataError.invalid("a ce model has one output per class (≥ 2), this one \(outputs)") }
            if let classNames, classNames.count != outputs {
                throw DataError.invalid("the model has \(outputs) outputs but names \(classNames.count) classes")
            }
        }
    }

    /// The class label values: the saved names, else 0..<k.
    public var classes: [String] {
        classNames ?? (0..<(outputs == 1 ? 2 : outputs)).map(String.init)
    }

    // MARK: Files

    public var metadata: [String: String] {
        var m = info
        m["format"] = Self.formatTag
        m["architecture"] = architecture.description
        if let loss { m["loss"] = loss.rawValue }
        if let classNames { m["classes"] = Self.jsonArray(classNames) }
        if let featureNames { m["feature_names"] = Self.jsonArray(featureNames) }
        if let targetName { m["target_name"] = targetName }
        if let standardization { m.merge(standardization.metadata) { _, new in new } }
        return m
    }

    public func write(to url: URL) throws {
        try SafeTensors.write(tensors, to: url, metadata: metadata)
    }

    public static func read(_ url: URL) throws -> ModelFile {
        let (state, metadata) = try SafeTensors.parseFile(try NPY.readBytes(url), path: url.path)
        do {
            return try ModelFile(state: state, metadata: metadata)
        } catch let error as DataError {
            throw DataError.malformed(path: url.path, reason: "\(error)")
        }
    }

    /// A model from tensors and a `__metadata__` map (keys as in the table above).
    public init(state: [String: Tensor], metadata m: [String: String]) throws {
        func strings(_ key: String) throws -> [String]? {
            guard let text = m[key] else { return nil }
            guard let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
                throw DataError.invalid("metadata \(key) is not a JSON array of strings")
            }
            return array
        }
        var loss: LossKind?
        if let name = m["loss"] {
            guard let kind = LossKind(rawValue: name) else { throw DataError.invalid("metadata loss '\(name)' is not mse, bce or ce") }
            loss = kind
        }
        var info = m
        for key in ["format", "architecture", "loss", "classes", "feature_names", "target_name", "standardize_mean", "standardize_scale"] {
            info[key] = nil
        }
        try self.init(tensors: state.map { ($0.key, $0.value) }, loss: loss, classNames: try strings("classes"),
                      featureNames: try strings("feature_names"), targetName: m["target_name"],
                      standardization: try Standardization(metadata: m), info: info)
        if let saved = m["architecture"], saved != architecture.description {
            throw DataError.invalid("metadata says \(saved), the tensors make \(architecture)")
        }
    }

    static func jsonArray(_ values: [String]) -> String { JSONText.strings(values) }

    // MARK: Use

    /// The model on `device`, parameters loaded.
    public func makeModel(device: any Device) throws -> Model {
        try Model(device: device, architecture: architecture, inputs: inputs, outputs: outputs,
                  state: Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Checks that `data` has the model's features (count, and names when both have them).
    public func checkFeatures(of data: Dataset) throws {
        guard data.columns == inputs else {
            throw DataError.invalid("the data has \(data.columns) features, the model takes \(inputs)" +
                                    (featureNames.map { " (\(Dataset.listed($0)))" } ?? ""))
        }
        if let featureNames, let names = data.featureNames, names != featureNames,
           let i = zip(names, featureNames).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            throw DataError.invalid("feature \(i + 1) is '\(names[i])' in the data but '\(featureNames[i])' in the model")
        }
    }

    /// The model's outputs on `data` (standardized first when the model says so), on `device`.
    public func predict(_ data: Dataset, device: any Device) throws -> Prediction {
        guard let loss else {
            throw DataError.invalid("the model file does not say its loss (no Shrink metadata): give --loss mse|bce|ce")
        }
        try checkFeatures(of: data)
        let outputs: [Float]
        if let x = data.sparse {
            // Never densified: the standardization goes into the first layer, the matrix stays as it is.
            outputs = try foldingStandardization().makeModel(device: device).predict(x)
        } else {
            let input = try standardization?.apply(to: data) ?? data
            outputs = try makeModel(device: device).predict(input.features, rows: input.rows)
        }
        return Prediction(loss: loss, rows: data.rows, outputs: outputs.map(Double.init), classNames: classes)
    }

    /// The same model for raw features: the standardization x ↦ (x − μ)/s folded into the first
    /// layer, W·(x − μ)/s + b = W'·x + b' with W'[o, j] = W[o, j]/s_j and b'[o] = b[o] − Σ_j W'[o, j]·μ_j
    /// (in Double, stored as Float), and no standardization left. Itself when it has none.
    public func foldingStandardization() -> ModelFile {
        guard let standardization else { return self }
        var folded = self
        let (weight, bias) = (tensors[0].tensor, tensors[1].tensor)
        let (rows, p) = (weight.shape[0], weight.shape[1])
        var w = weight.values, b = bias.values
        for o in 0..<rows {
            var shift = 0.0
            for j in 0..<p {
                let scaled = Double(weight.values[o * p + j]) / standardization.scales[j]
                w[o * p + j] = Float(scaled)
                shift += scaled * standardization.means[j]
            }
            b[o] = Float(Double(bias.values[o]) - shift)
        }
        folded.tensors[0].tensor = Tensor(shape: weight.shape, values: w)
        folded.tensors[1].tensor = Tensor(shape: bias.shape, values: b)
        folded.standardization = nil
        return folded
    }

    /// The targets of `data` as the model's class indices (bce, ce): labels are matched by value
    /// to the model's classes (text or numbers as the user wrote them); mse targets pass as is.
    public func classIndices(of data: Dataset) throws -> [Int] {
        let names = classes
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return try data.targets.enumerated().map { r, value in
            let label = data.classNames.map { $0[Int(value)] } ?? Dataset.label(value)
            guard let i = index[label] else {
                throw DataError.invalid("row \(r + 1): the label '\(label)' is not one of the model's classes (\(Dataset.listed(names)))")
            }
            return i
        }
    }
}

/// What a model gives for some rows (`ModelFile.predict`).
public struct Prediction: Sendable {
    public let loss: LossKind
    public let rows: Int
    /// rows × k raw outputs: values (mse) or logits (bce: k = 1, ce: k classes).
    public let outputs: [Double]
    public let classNames: [String]

    public var columns: Int { outputs.count / max(rows, 1) }

    /// mse: the predicted values.
    public var values: [Double] { outputs }

    /// bce: logit > 0 is class 1; ce: the first largest logit (argmax).
    public var classIndices: [Int] {
        if loss == .bce { return outputs.map { $0 > 0 ? 1 : 0 } }
        let k = columns
        return (0..<rows).map { r in
            let row = outputs[(r * k)..<((r + 1) * k)]
            return row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - r * k
        }
    }

    /// The predicted labels as the user wrote them (mse: the values).
    public var labels: [String] {
        loss == .mse ? outputs.map { "\($0)" } : classIndices.map { classNames[$0] }
    }

    /// rows × classes probabilities, as scikit-learn's `predict_proba` (bce: [1 − p, p]).
    public var probabilities: [Double] {
        switch loss {
        case .mse: return []
        case .bce:
            return outputs.flatMap { z -> [Double] in
                let p = LossFormula.sigmoid(z)
                return [1 - p, p]
            }
        case .ce:
            let k = columns
            return (0..<rows).flatMap { r in LossFormula.softmax(outputs[(r * k)..<((r + 1) * k)]) }
        }
    }
}
extension ModelFile {
    /// The model's metrics on the labelled rows of `data` (`Evaluation`): its targets are matched
    /// to the model's classes by value (bce, ce), or taken as values (mse).
    public func evaluate(_ data: Dataset, device: any Device) throws -> Evaluation {
        let prediction = try predict(data, device: device)
        if prediction.loss == .mse {
            if data.classNames != nil { throw DataError.invalid("the targets are text labels; this model is mse") }
            return try Evaluation(loss: .mse, outputs: prediction.outputs, targets: data.targets.map(Double.init))
        }
        return try Evaluation(loss: prediction.loss, outputs: prediction.outputs, targets: try classIndices(of: data),
                              classNames: classes)
    }
}

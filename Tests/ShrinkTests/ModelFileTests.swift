import Foundation
@testable import Shrink
import XCTest

/// Model files with metadata, labels mapped as scikit-learn's LabelEncoder maps them, CSV headers.
final class ModelFileTests: XCTestCase {
    /// Classes are the sorted distinct values, written as the user wrote them; targets become
    /// their indices. Numbers sort numerically (−1 < 1 < 10), text lexicographically.
    func testLabelEncodingMatchesLabelEncoder() throws {
        let numbers = try Dataset(features: [1, 2, 3, 4, 5], targets: [10, -1, 1, 10, 1], rows: 5, columns: 1)
        let encoded = try numbers.encodingClasses(for: .ce)
        XCTAssertEqual(encoded.classNames, ["-1", "1", "10"])
        XCTAssertEqual(encoded.targets, [2, 0, 1, 2, 1])
        XCTAssertEqual(try encoded.encodingClasses(for: .ce), encoded, "idempotent")
        XCTAssertEqual(try encoded.outputCount(for: .ce), 3)
        // {1, 2}: two classes, not three.
        let pairs = try Dataset(features: [1, 2, 3], targets: [2, 1, 2], rows: 3, columns: 1).encodingClasses(for: .bce)
        XCTAssertEqual(pairs.targets, [1, 0, 1])
        XCTAssertEqual(pairs.classNames, ["1", "2"])
        XCTAssertThrowsError(try numbers.encodingClasses(for: .bce)) { XCTAssertTrue("\($0)".contains("bce needs exactly two classes")) }
        let one = try Dataset(features: [1, 2], targets: [3, 3], rows: 2, columns: 1)
        XCTAssertThrowsError(try one.encodingClasses(for: .ce)) { XCTAssertTrue("\($0)".contains("one class only (every row is 3)")) }
        XCTAssertEqual(try one.encodingClasses(for: .mse), one, "mse keeps the values")

        let csv = try CSVLoader.parse("x,species\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n", path: "iris.csv", targetColumn: nil)
        XCTAssertEqual(csv.classNames, ["setosa", "versicolor", "virginica"])
        XCTAssertEqual(csv.targets, [2, 0, 1, 0])
        XCTAssertEqual(csv.featureNames, ["x"])
        XCTAssertEqual(csv.targetName, "species")
        XCTAssertEqual(csv.subset([1, 0]).classNames, csv.classNames)
        XCTAssertThrowsError(try csv.encodingClasses(for: .mse)) { XCTAssertTrue("\($0)".contains("mse needs numbers")) }
        // Excel writes a byte-order mark before the header: not part of the first name.
        let excel = try CSVLoader.parse("\u{FEFF}x,z,y\n1,2,yes\n3,4,no\n", path: "excel.csv", targetColumn: nil)
        XCTAssertEqual(excel.featureNames, ["x", "z"])
        XCTAssertEqual(excel.classNames, ["no", "yes"])
    }

    /// The metadata round-trips through a safetensors file, the tensors stay plain F32 state-dict
    /// entries, and predictions on raw rows apply the stored standardization.
    func testMetadataRoundTripAndStandardizedPrediction() throws {
        let device = CPUDevice()
        let weight = Tensor(shape: [3, 2], values: [1, -2, 0.5, 0, -1, 3]), bias = Tensor(shape: [3], values: [0.1, 0, -0.1])
        let scaling = try Standardization(means: [1, 2], scales: [2, 4])
        var file = try ModelFile(tensors: [("0.weight", weight), ("0.bias", bias)], loss: .ce, classNames: ["a", "b, c", "\"d\""],
                                 featureNames: ["f 1", "f/2"], targetName: "y", standardization: scaling, info: ["alpha": "0.5"])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try file.write(to: url)
        let read = try ModelFile.read(url)
        XCTAssertEqual(read.classNames, file.classNames)
        XCTAssertEqual(read.featureNames, file.featureNames)
        XCTAssertEqual(read.standardization, scaling)
        XCTAssertEqual(read.info, ["alpha": "0.5"])
        XCTAssertEqual(read.architecture, .linear)
        XCTAssertEqual(try SafeTensors.read(url)["0.weight"], weight)
        let rows = try Dataset(features: [3, 6, 1, 2], targets: [0, 0], rows: 2, columns: 2)
        let prediction = try read.predict(rows, device: device)
        // Row 0 standardized: (1, 1) → logits (1 − 2 + 0.1, 0.5 + 0, −1 + 3 − 0.1) = (−0.9, 0.5, 1.9).
        let expected: [Double] = [-0.9, 0.5, 1.9, 0.1, 0, -0.1]
        for (a, b) in zip(prediction.outputs, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(prediction.labels, ["\"d\"", "a"])
        let p = prediction.probabilities
        let z = expected[0..<3].map { exp($0) }, sum = z.reduce(0, +)
        for c in 0..<3 { XCTAssertEqual(p[c], z[c] / sum, accuracy: 1e-6) }
        // Names must agree with the model's.
        var renamed = rows
        renamed.featureNames = ["f 1", "g"]
        XCTAssertThrowsError(try read.predict(renamed, device: device)) { XCTAssertTrue("\($0)".contains("feature 2 is 'g'")) }
        file.loss = .bce
        XCTAssertThrowsError(try ModelFile(tensors: file.tensors, loss: .bce)) { XCTAssertTrue("\($0)".contains("one output")) }
    }

    /// bce probabilities are scikit-learn's predict_proba columns [1 − σ(z), σ(z)]; labels follow
    /// logit > 0; a torch.save pickle is named as such.
    func testBinaryPredictionAndPickleMessage() throws {
        let p = Prediction(loss: .bce, rows: 3, outputs: [-800, 0, 2], classNames: ["no", "yes"])
        XCTAssertEqual(p.labels, ["no", "no", "yes"])
        XCTAssertEqual(p.probabilities[0], 1)
        XCTAssertEqual(p.probabilities[1], 0)
        XCTAssertEqual(p.probabilities[5], 1 / (1 + exp(-2)), accuracy: 1e-15)
        let legacy: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8]
        XCTAssertThrowsError(try SafeTensors.parse(legacy, path: "m.pt")) { XCTAssertTrue("\($0)".contains("torch.save file")) }
    }
}

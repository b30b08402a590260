import Foundation
import Shrink
import XCTest

/// README.md's ```swift blocks, compiled and run: each `// --- README ---` … `// --- end ---`
/// region below is one block, line for line (indentation aside; a block's `import` lines are
/// this file's), which `testRegionsAreTheReadmeBlocks` checks against README.md.
final class ReadmeExampleTests: XCTestCase {
    /// README.md's ```swift blocks, each as lines without its `import` lines and the blank
    /// lines around them.
    static func readmeBlocks() throws -> [[String]] {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [[String]] = [], current: [String]?
        for line in readme.components(separatedBy: "\n") {
            if current == nil {
                if line == "```swift" { current = [] }
            } else if line == "```" {
                let lines = current!
                let first = lines.firstIndex { !$0.isEmpty } ?? lines.count
                let last = lines.lastIndex { !$0.isEmpty } ?? -1
                blocks.append(first <= last ? Array(lines[first...last]) : [])
                current = nil
            } else if !line.hasPrefix("import ") {
                current!.append(line)
            }
        }
        return blocks
    }

    /// This file's marked regions, each without the indentation its lines share.
    static func regions() throws -> [[String]] {
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        var regions: [[String]] = [], current: [String]?
        for line in source.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "// --- README ---" {
                current = []
            } else if trimmed == "// --- end ---", let lines = current {
                let indent = lines.filter { !$0.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
                regions.append(lines.map { String($0.dropFirst(min(indent, $0.count))) })
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return regions
    }

    /// The package root: two folders above this file (Tests/ShrinkTests/).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The compiled regions are the README's blocks: the examples cannot drift from the code.
    /// Each block is matched to the region that starts with its first line, then line by line.
    func testRegionsAreTheReadmeBlocks() throws {
        let (blocks, regions) = (try Self.readmeBlocks(), try Self.regions())
        XCTAssertEqual(blocks.count, 3, "README.md's ```swift blocks")
        XCTAssertEqual(regions.count, blocks.count, "one marked region per README block")
        for (i, block) in blocks.enumerated() {
            guard let region = regions.first(where: { $0.first == block.first }) else {
                XCTFail("README.md's swift block \(i + 1) (\"\(block.first ?? "")\") is in no marked region")
                continue
            }
            if let (ours, readme) = zip(region, block).first(where: { $0 != $1 }) {
                XCTFail("swift block \(i + 1): README.md has \"\(readme)\" where the test has \"\(ours)\"")
            }
            XCTAssertEqual(region.count, block.count, "swift block \(i + 1): lines in README.md vs in the test")
        }
    }

    func testReadmeExample() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shrink-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(folder.path))  // model.safetensors goes there
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }

        // --- README ---
        let device = try DeviceSelection.gpu.makeDevice()          // OpenCL GPU, else CPU with a notice
        let data = SyntheticData.seedDefault()                       // the reference PyTorch script's randn(1000, 10) + labels
        let (train, test) = try data.split(testFraction: 0.2, seed: 0)
        let configuration = TrainingConfiguration(
            architecture: .mlp([50]), loss: .bce, optimizer: .sgd(), learningRate: 0.01,
            penalty: Penalty(l1: 0.01), epochs: 20, batchSize: 32)
        let trainer = try Trainer(device: device, configuration: configuration, train: train, test: test)
        for try await epoch in trainer.epochs() {
            print(epoch.epoch, epoch.loss, epoch.testAccuracy ?? .nan, epoch.nearZero)
        }
        try SafeTensors.write(try trainer.model.stateDict(), to: URL(fileURLWithPath: "model.safetensors"))
        // --- end ---

        XCTAssertEqual(trainer.epoch, 20)
        XCTAssertFalse(trainer.hasEpochsLeft)
        XCTAssertEqual(train.rows, 800)
        let saved = try SafeTensors.read(folder.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(saved["0.weight"]?.shape, [50, 10])
        XCTAssertEqual(saved["2.weight"]?.shape, [1, 50])
    }

    /// The README's second example: fit, path and variants.
    func testReadmeSolverExample() throws {
        let device = try DeviceSelection.gpu.makeDevice()
        let (train, test) = try SyntheticData.seedDefault().split(testFraction: 0.2, seed: 0)
        let configuration = TrainingConfiguration(architecture: .mlp([50]), loss: .bce, optimizer: .sgd(), learningRate: 0.01,
                                                  epochs: 3, batchSize: 32)
        var losses: [[Double]] = []

        // --- README ---
        let classes = try SyntheticData.make("classification:600:20:4", seed: 1)
        let fit = try CoordinateDescentSolver.solve(LinearProblem(loss: .ce, alpha: 0.02, l1Ratio: 1), data: classes,
                                                    device: device)
        print(fit.nonzeros, fit.intercepts, fit.converged)           // of 4×20 coefficients; 4 centered intercepts
        let path = try RegularizationPath.compute(
            loss: .ce, l1Ratio: 1, standardize: true, train: classes, validation: nil,
            epsilon: 1e-2, count: 20, folds: 5, seed: 0, device: device)
        print(path.crossValidation!.alphaMin, path.crossValidation!.alpha1SE, path.misses.isEmpty)
        let three = try Trainer(device: device, configuration: configuration, variants: [
            ModelVariant(), ModelVariant(penalty: Penalty(l1: 0.01)), ModelVariant(penalty: Penalty(l2: 0.01))],
            train: train, test: test)                                // three models, one stacked model
        try three.runAll { epoch in print(epoch.map(\.loss)) }
        // --- end ---

        try three.runAll { losses.append($0.map(\.loss)) }  // already finished: no more epochs
        XCTAssertTrue(losses.isEmpty)
        XCTAssertEqual(fit.coefficients.count, 80)
        XCTAssertEqual(fit.intercepts.reduce(0, +), 0, accuracy: 1e-6)
        XCTAssertGreaterThan(fit.nonzeros, 0)
        XCTAssertTrue(fit.converged)
        XCTAssertTrue(path.misses.isEmpty)
        XCTAssertEqual(path.points.count, 20)
        XCTAssertGreaterThanOrEqual(path.crossValidation!.alpha1SE, path.crossValidation!.alphaMin)
        XCTAssertEqual(try three.model.stateDict(model: 1).map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
    }

    /// The README's third example: labels from a CSV, a model file, predict and evaluate.
    func testReadmePredictExample() throws {
        let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("workflow")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shrink-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(fixtures.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        let device = try DeviceSelection.gpu.makeDevice()
        let saveTo = folder.appendingPathComponent("wine.safetensors")

        // --- README ---
        let wine = try CSVLoader.load(URL(fileURLWithPath: "wine_train.csv"), targetColumn: "cultivar")
            .encodingClasses(for: .ce)                               // labels 1, 2, 3 → classes 0, 1, 2
        let solution = try CoordinateDescentSolver(loss: .ce, data: wine, standardize: true, device: device)
            .solve(alpha: 0.01, l1Ratio: 0)
        let model = try ModelFile(tensors: solution.stateDict, loss: .ce, classNames: wine.classNames,
                                  featureNames: wine.featureNames, targetName: wine.targetName)
        try model.write(to: saveTo)                                  // what `shrink fit --save` writes
        let rows = try CSVLoader.load(URL(fileURLWithPath: "wine_test.csv"), targetColumn: "cultivar")
        let saved = try ModelFile.read(saveTo)
        let prediction = try saved.predict(rows, device: device)
        print(prediction.labels.prefix(5), prediction.probabilities.prefix(3))  // "1", "3", ...: the file's labels
        let evaluation = try saved.evaluate(rows, device: device)
        print(evaluation["accuracy"]!, evaluation["log_loss"]!)
        print(evaluation.table)                                      // metrics, then the confusion matrix
        // --- end ---

        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
            as! [String: [String: Any]]
        let wineExpected = expected["wine"]!
        XCTAssertEqual(prediction.labels, wineExpected["predictions"] as! [String])
        XCTAssertEqual(evaluation["accuracy"]!, (wineExpected["metrics"] as! [String: Double])["accuracy"]!)
        XCTAssertEqual(evaluation["log_loss"]!, (wineExpected["metrics"] as! [String: Double])["log_loss"]!, accuracy: 1e-6)
        XCTAssertEqual(evaluation.confusionMatrix, wineExpected["confusion_matrix"] as? [[Int]])
    }
}

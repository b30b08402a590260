import ArgumentParser
import Foundation
import Shrink

/// `shrink evaluate`: a saved model's metrics on labelled rows.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "A saved model's metrics on labelled rows: mse: MSE, R², MAE; bce: log-loss, accuracy, ROC AUC, confusion matrix; ce: log-loss, accuracy, confusion matrix.",
        discussion: """
            The targets are matched to the model's classes by value, as the training data had them \
            (numbers or text). Values are scikit-learn's sklearn.metrics on the same predictions.
            """)

    @OptionGroup var input: ModelInputOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func run() throws {
        if try otherRanksStandAside("evaluate") { return }
        try reportingErrors {
            let file = try input.loadModel()
            let (data, _) = try input.loadRows(for: file, needTargets: true)
            let device = try deviceOptions.open()
            let evaluation = try file.evaluate(data, device: device)
            if json {
                print(evaluation.json)
            } else {
                print("device: \(device.name) [\(device.kind.rawValue)]")
                print("model: \(file.architecture), \(file.loss!), \(file.inputs) features; data: \(input.data)")
                print(evaluation.table, terminator: "")
            }
        }
    }
}

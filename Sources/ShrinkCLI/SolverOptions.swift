import ArgumentParser
import Foundation
import Shrink

/// Which exact solver `fit` and `path` use.
enum SolverKind: String, CaseIterable, ExpressibleByArgument {
    /// Working sets, coordinate descent in Double, proximal Newton for bce/ce (the default).
    case cd
    /// FISTA on the device (`BatchedProximalSolver`): many α at once (`path --batched`).
    case fista
}

/// Exit status of `fit` and `path` when a solution misses the KKT tolerance (outputs are
/// still written, marked "converged": false).
let notConvergedExitCode: Int32 = 3

/// Elapsed seconds since `start`.
func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// Progress on standard error, on one rewritten line, only when standard error is a terminal.
final class ProgressLine: @unchecked Sendable {
    private let enabled = isatty(2) == 1
    private let start = DispatchTime.now()
    private var shown = false

    func update(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(String(format: "\r\u{1B}[K%@  %.1f s", text, seconds(since: start)).utf8))
        shown = true
    }

    func finish() {
        guard enabled, shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}

/// Writes a model file: `tensors` with the metadata `predict` needs (loss, the class labels,
/// the feature and target names of `data`, the standardization when inputs are standardized).
func saveModel(_ tensors: [(name: String, tensor: Tensor)], loss: LossKind, data: Dataset,
               standardization: Standardization? = nil, info: [String: String], to path: String) throws {
    let file = try ModelFile(tensors: tensors, loss: loss, classNames: loss == .mse ? nil : data.classNames,
                             featureNames: data.featureNames, targetName: data.targetName,
                             standardization: standardization, info: info)
    try file.write(to: URL(fileURLWithPath: path))
    print("saved \(path)")
}

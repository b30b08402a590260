import ArgumentParser
import Foundation
import Shrink

/// `shrink bench compare`: the L1-vs-L2 experiment (or K L1 strengths) trained run by run and
/// as one stacked model, timed in the same process; prints the ratio.
struct CompareBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Time K penalties trained one by one against the same K as one batched model.")

    @Option(help: "Models: 5 = the reference PyTorch script's five runs (none, L1, L2, elastic net, weight decay); other K = L1 strengths λ·2^-i.")
    var models: Int = 5
    @Option(help: "Hidden widths.") var model: String = "mlp:50"
    @Option var epochs: Int = 20
    @Option(name: .customLong("batch-size")) var batchSize: Int = 32
    @Option(name: .customLong("repeat"), help: "Timed runs of each (the best is kept).") var repeats: Int = 3
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard models > 0, epochs > 0, batchSize >= 0, repeats > 0 else {
            throw ValidationError("--models, --epochs and --repeat must be > 0, --batch-size ≥ 0")
        }
    }

    func run() throws {
        let architecture = try validated { try Architecture(parsing: model) }
        try reportingErrors {
            let device = try deviceOptions.open()
            let (train, test) = try SyntheticData.seedDefault().split(testFraction: 0.2, seed: 0)
            let runs = models == 5 ? CompareCommand.runs(lambda: 0.01, penalize: .all)
                : (0..<models).map { ("L1 \($0)", ModelVariant(penalty: Penalty(l1: 0.01 * pow(2, -Float($0))))) }
            let base = TrainingConfiguration(architecture: architecture, loss: .bce, optimizer: .sgd(), learningRate: 0.01,
                                             epochs: epochs, batchSize: batchSize, shuffle: true, seed: 0)
            func best(_ body: () throws -> Void) rethrows -> Double {
                try body()  // warm-up: kernels built, caches filled
                var seconds = Double.infinity
                for _ in 0..<repeats {
                    let start = DispatchTime.now().uptimeNanoseconds
                    try body()
                    seconds = min(seconds, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
                return seconds
            }
            var separate: [CompareCommand.Run] = [], batched = separate
            var launches: [Int] = []
            let one = try best { separate = try CompareCommand.trainSeparately(base, runs, train, test, device) }
            let all = try best { batched = try CompareCommand.trainBatched(base, runs, train, test, device) }
            for batch in [false, true] {  // device launches per optimizer step, all models together
                let before = device.counters
                _ = try batch ? CompareCommand.trainBatched(base, runs, train, test, device)
                    : CompareCommand.trainSeparately(base, runs, train, test, device)
                launches.append((device.counters - before).launches)
            }
            let steps = epochs * (batchSize == 0 ? 1 : (train.rows + batchSize - 1) / batchSize)
            let drift = zip(separate, batched).map { abs(($0.epochs.last?.loss ?? 0) - ($1.epochs.last?.loss ?? 0)) }.max() ?? 0
            print(String(format: "%@: %d × %@ (bce, sgd, %d epochs, batch %d, 800 rows): one by one %.4f s, batched %.4f s → %.2f×" +
                         "  (launches per step %.0f vs %.0f; final losses agree within %.1e)",
                         device.name, models, architecture.description, epochs, batchSize, one, all, one / all,
                         Double(launches[0]) / Double(steps), Double(launches[1]) / Double(steps), drift))
        }
    }
}

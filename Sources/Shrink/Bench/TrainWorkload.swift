import Foundation

/// The training workloads benchmarked against PyTorch: small MLP and linear programs. Each has
/// a PyTorch twin in Benchmarks/torch_workloads.py (same shapes, optimizer and penalty).
public enum TrainWorkload: String, Sendable, CaseIterable {
    /// linear, mse, SGD 0.01, 1000×10 full batch, 100 epochs, --l1 0.01 --l2-norm 0.01
    case A
    /// mlp:50, bce, SGD 0.01, 800×10, batch 32 shuffled, 20 epochs, --l1 0.01
    case B
    /// linear, ce, 10 classes, 10,000×100, Adam 1e-3, full batch, 1000 epochs, --l1 0.01 --penalize weights
    case C
    /// mlp:1024, bce, 100,000×256, batch 1024 shuffled, 3 epochs, --l1 0.01
    case D

    /// The name of the matching line in torch_workloads.py's output.
    public var torchLabel: String {
        switch self {
        case .A: return "A linear+MSE+L1norm+L2norm SGD"
        case .B: return "B MLP10-50-1 BCE L1 bs32"
        case .C: return "C logreg n1e4 p100 k10 Adam L1"
        case .D: return "D MLP256-1024-1 BCE L1 bs1024"
        }
    }

    public var configuration: TrainingConfiguration {
        switch self {
        case .A:
            return TrainingConfiguration(architecture: .linear, loss: .mse, optimizer: .sgd(), learningRate: 0.01,
                                         penalty: Penalty(l1: 0.01, l2Norm: 0.01), epochs: 100, batchSize: 0,
                                         shuffle: false)
        case .B:
            return TrainingConfiguration(architecture: .mlp([50]), loss: .bce, optimizer: .sgd(), learningRate: 0.01,
                                         penalty: Penalty(l1: 0.01), epochs: 20, batchSize: 32, shuffle: true)
        case .C:
            return TrainingConfiguration(architecture: .linear, loss: .ce, optimizer: .adam(), learningRate: 1e-3,
                                         penalty: Penalty(l1: 0.01, scope: .weights), epochs: 1000, batchSize: 0,
                                         shuffle: false)
        case .D:
            return TrainingConfiguration(architecture: .mlp([1024]), loss: .bce, optimizer: .sgd(), learningRate: 0.01,
                                         penalty: Penalty(l1: 0.01), epochs: 3, batchSize: 1024, shuffle: true)
        }
    }

    /// The workload's data, generated as the PyTorch peer does (shapes and distributions).
    public func dataset() throws -> Dataset {
        var rng = SeededGenerator(seed: 0)
        func normals(_ count: Int) -> [Float] { (0..<count).map { _ in Float(rng.normal()) } }
        switch self {
        case .A:
            return try Dataset(features: normals(1000 * 10), targets: normals(1000), rows: 1000, columns: 10)
        case .B:
            let x = normals(800 * 10)
            return try Dataset(features: x, targets: normals(800).map { $0 > 0 ? 1 : 0 }, rows: 800, columns: 10)
        case .C:
            let (n, p, k) = (10_000, 100, 10)
            let x = normals(n * p)
            var w = [Float](repeating: 0, count: p * k)
            for row in rng.permutation(p).prefix(10) { for c in 0..<k { w[row * k + c] = Float(rng.normal()) } }
            let y = (0..<n).map { r -> Float in
                let scores = (0..<k).map { c in
                    (0..<p).reduce(Float(0)) { $0 + x[r * p + $1] * w[$1 * k + c] } + 0.5 * Float(rng.normal())
                }
                return Float(scores.indices.max { scores[$0] < scores[$1] }!)
            }
            return try Dataset(features: x, targets: y, rows: n, columns: p)
        case .D:
            let (n, p) = (100_000, 256)
            let x = normals(n * p)
            let w = normals(p)
            let y = (0..<n).map { r -> Float in
                var s = Float(rng.normal())
                for j in 0..<p { s += x[r * p + j] * w[j] }
                return s > 0 ? 1 : 0
            }
            return try Dataset(features: x, targets: y, rows: n, columns: p)
        }
    }
}

/// One workload timed on one device.
public struct TrainBenchResult: Sendable {
    public let workload: TrainWorkload
    public let device: String
    public let steps: Int
    /// Wall time of each timed run (training loop only: data already on the device).
    public let seconds: [Double]
    /// Data-parallel: each timed run's seconds in the gradient reduction (`DataParallel`).
    public let reductionSeconds: [Double]?
    /// The processes of the run (1 without mpirun).
    public let ranks: Int
    public let launchesPerStep: Double
    public let transfersPerStep: Double
    public let finalLoss: Double

    public var minMicrosecondsPerStep: Double { (seconds.min() ?? .nan) / Double(steps) * 1e6 }
    public var medianMicrosecondsPerStep: Double {
        let s = seconds.sorted()
        return s.isEmpty ? .nan : s[s.count / 2] / Double(steps) * 1e6
    }
    /// The fastest run's share of its time in the gradient reduction, or nil (one process).
    public var reductionShare: Double? {
        guard let reductionSeconds, let best = seconds.indices.min(by: { seconds[$0] < seconds[$1] }) else { return nil }
        return reductionSeconds[best] / seconds[best]
    }
}

public enum TrainBench {
    /// Runs `workload` once to warm up (kernel builds, specializations) and then `repeats`
    /// times from the same seed, timing the training loop only.
    ///
    /// Under mpirun (`communicator` with several ranks) it trains data-parallel, each rank on an
    /// even share of the rows, and reports the share of the time spent reducing gradients.
    public static func run(_ workload: TrainWorkload, on device: any Device, data: Dataset,
                           repeats: Int = 3, communicator: Communicator = .single) throws -> TrainBenchResult {
        let configuration = workload.configuration
        var seconds: [Double] = []
        var reductions: [Double] = []
        var launches = 0, transfers = 0, steps = 0
        var finalLoss = Double.nan
        let rows = RowShards.evenRange(part: communicator.rank, of: communicator.size, count: data.rows)
        let parallel = communicator.size > 1
            ? try DataParallel(communicator: communicator, globalRows: data.rows, positions: Array(rows), globalTestRows: 0)
            : nil
        let local = parallel == nil ? data : data.subset(Array(rows))
        for run in 0...max(repeats, 1) {
            let trainer = try Trainer(device: device, configuration: configuration, variants: nil, train: local,
                                      parallel: parallel)
            try communicator.barrier()
            parallel?.reductionClock.reset()
            try device.synchronize()
            let before = device.counters
            let start = DispatchTime.now().uptimeNanoseconds
            var last: EpochMetrics?
            try trainer.run { last = $0 }
            try device.synchronize()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let delta = device.counters - before
            steps = trainer.step
            finalLoss = last?.loss ?? .nan
            if run > 0 {
                seconds.append(elapsed)
                reductions.append(parallel?.reductionClock.seconds ?? 0)
                launches = delta.launches
                transfers = delta.transfers
            }
        }
        return TrainBenchResult(workload: workload, device: device.name, steps: steps, seconds: seconds,
                                reductionSeconds: parallel == nil ? nil : reductions, ranks: communicator.size,
                                launchesPerStep: Double(launches) / Double(max(steps, 1)),
                                transfersPerStep: Double(transfers) / Double(max(steps, 1)), finalLoss: finalLoss)
    }
}

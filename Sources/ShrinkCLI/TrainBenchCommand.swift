import ArgumentParser
import Foundation
import Shrink

/// `shrink bench train`: µs per training step of workloads A–D, with launches and transfers
/// per step, next to PyTorch CPU measured in the same run (when torch is importable).
struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Time the training workloads A–D (µs per step) against PyTorch CPU.")

    @Option(help: "Workloads to run, e.g. A,B (default: all).") var workload: String = "A,B,C,D"
    @OptionGroup var deviceOptions: DeviceOptions
    @Option(name: .customLong("repeat"), help: "Timed runs after one warm-up run.") var repeats: Int = 3
    @Option(help: "The PyTorch peer script, skipped when python3 cannot import torch (default: Benchmarks/torch_workloads.py, found as bench solvers' script).")
    var torchScript: String?
    @Flag(help: "Skip the PyTorch peer.") var noTorch = false
    @Flag(help: "One JSON object per workload.") var json = false

    func validate() throws {
        guard repeats > 0 else { throw ValidationError("--repeat must be > 0") }
        _ = try workloads
    }

    var workloads: [TrainWorkload] {
        get throws {
            try workload.split(separator: ",").map { name in
                guard let w = TrainWorkload(rawValue: name.trimmingCharacters(in: .whitespaces).uppercased()) else {
                    throw ValidationError("unknown workload '\(name)': expected A, B, C or D")
                }
                return w
            }
        }
    }

    func run() throws {
        try reportingErrors {
            let world = try Communicator.world()
            world.silencingOtherRanks()
            let device = try deviceOptions.open(localRank: world.localRank)
            if !json {
                print("device: \(device.name) [\(device.kind.rawValue)]" +
                      (world.size > 1 ? " on each of \(world.size) ranks, data-parallel (each an even share of the rows)" : ""))
            }
            for w in try workloads {
                let result = try TrainBench.run(w, on: device, data: try w.dataset(), repeats: repeats, communicator: world)
                let torch = noTorch || !world.isRoot ? nil
                    : TorchPeer.microsecondsPerStep(script: torchScript, workload: w, repeats: repeats)
                print(json ? Self.json(result, torch: torch) : Self.line(result, torch: torch))
            }
        }
    }

    static func line(_ r: TrainBenchResult, torch: Double?) -> String {
        var s = String(format: "%@  steps %6d  µs/step min %9.1f med %9.1f  launches/step %5.1f  transfers/step %5.2f  loss %.5f",
                       r.workload.rawValue, r.steps, r.minMicrosecondsPerStep, r.medianMicrosecondsPerStep,
                       r.launchesPerStep, r.transfersPerStep, r.finalLoss)
        if let share = r.reductionShare {
            s += String(format: "  allreduce %4.1f%% of the step (%d ranks)", share * 100, r.ranks)
        }
        if let torch {
            s += String(format: "  | torch µs/step min %9.1f  → %.2f× faster", torch, torch / r.minMicrosecondsPerStep)
        }
        return s
    }

    static func json(_ r: TrainBenchResult, torch: Double?) -> String {
        var fields = ["\"workload\":\"\(r.workload.rawValue)\"", "\"device\":\"\(r.device)\"", "\"steps\":\(r.steps)",
                      "\"us_per_step_min\":\(r.minMicrosecondsPerStep)", "\"us_per_step_median\":\(r.medianMicrosecondsPerStep)",
                      "\"launches_per_step\":\(r.launchesPerStep)", "\"transfers_per_step\":\(r.transfersPerStep)"]
        if let share = r.reductionShare { fields += ["\"ranks\":\(r.ranks)", "\"allreduce_share\":\(share)"] }
        if let torch { fields += ["\"torch_us_per_step_min\":\(torch)", "\"speedup\":\(torch / r.minMicrosecondsPerStep)"] }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// Runs the PyTorch peer script for one workload and parses its min µs per step.
enum TorchPeer {
    static let defaultScript = "Benchmarks/torch_workloads.py"

    static func microsecondsPerStep(script: String?, workload: TrainWorkload, repeats: Int) -> Double? {
        guard let script = script ?? PeerScripts.locate(defaultScript), FileManager.default.fileExists(atPath: script) else {
            printNotice("PyTorch peer skipped: " + (script.map { "\($0) not found" }
                ?? PeerScripts.notFound(defaultScript, flag: "--torch-script")))
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, workload.rawValue]
        var env = ProcessInfo.processInfo.environment
        env["REPS"] = String(repeats)
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        guard (try? process.run()) != nil else { return nil }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            printNotice("PyTorch peer skipped: python3 \(script) failed (is torch installed?)")
            return nil
        }
        for line in text.split(separator: "\n") where line.hasPrefix(workload.torchLabel) {
            guard let range = line.range(of: "us/step min=") else { continue }
            let rest = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            return Double(rest.split(separator: " ").first ?? "")
        }
        return nil
    }
}

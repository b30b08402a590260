import ArgumentParser

/// `shrink bench`: kernel and training benchmarks, each printing its peer measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks with their peers measured in the same run.",
        subcommands: [MatmulBenchCommand.self, TrainBenchCommand.self, PathBenchCommand.self, CompareBenchCommand.self,
                      SolversBenchCommand.self, SparseBenchCommand.self])
}

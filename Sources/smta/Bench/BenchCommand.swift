import ArgumentParser

/// `smta bench`: reproducible measurements, printed as a table and optionally written as JSON.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure SMTA: adapters, the bridge against direct SQL, the tenancy gate, faults.",
        discussion: "Build with -c release for figures worth comparing; BENCHMARKS.md records the runs.",
        subcommands: [AdapterBenchmark.self, BridgeBenchmark.self, TenancyBenchmark.self, FaultBenchmark.self, SoakBenchmark.self]
    )
}

import ArgumentParser

/// `gatehouse policy ...`: the network-policy engine.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Explain, tabulate, lint and diff Kubernetes, Calico and ClusterNetworkPolicy policies.",
        subcommands: [
            ExplainCommand.self, MatrixCommand.self, LintCommand.self, DiffCommand.self, ConformanceCommand.self,
            RecommendCommand.self, WatchCommand.self, ApplyCommand.self,
        ]
    )
}

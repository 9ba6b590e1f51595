import ArgumentParser
import GatehouseCore
import GatehousePolicy

/// `gatehouse policy diff`: which verdicts change if NEW replaces OLD.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show which (source, destination, port) verdicts change between two policy sets.",
        discussion: """
            Cluster state (namespaces, pods, network sets) may come from either side; the newer side wins.
            Exit status: 0 when nothing changes, 1 when verdicts change, 2 on bad input.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(
        name: .customLong("against"),
        parsing: .upToNextOption,
        help: "The new policy set: files or folders; repeatable."
    )
    var against: [String] = []

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !against.isEmpty else { throw ValidationError("give the new policy set with --against") }
    }

    func run() throws {
        let old = try input.load()
        let new = try InputOptions.load(against, strict: input.strict)
        let cluster = old.cluster.merging(new.cluster)
        let diff = PolicyDiff(cluster: cluster, old: old.policySet, new: new.policySet)
        switch output.output {
        case .table:
            if !diff.changedPolicies.isEmpty {
                print("changed policies: \(diff.changedPolicies.joined(separator: ", "))")
            }
            let rows = diff.changes.map {
                [$0.from, $0.to, "\($0.protocol)/\($0.ports)", $0.before.rawValue, $0.after.rawValue, $0.afterReason]
            }
            print(
                TableText.render(header: ["FROM", "TO", "PORT", "BEFORE", "AFTER", "BECAUSE"], rows: rows),
                terminator: ""
            )
            print("\(diff.changes.count) change(s) in \(diff.checkedFlows) flows checked")
        case .json, .yaml:
            print(try StructuredOutput.render(diff.changes, as: output.output), terminator: "")
        }
        if !diff.changes.isEmpty { throw ExitCode(1) }
    }
}

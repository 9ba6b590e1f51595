import ArgumentParser
import GatehouseCore
import GatehousePolicy

/// `gatehouse policy diff`: which verdicts change if NEW replaces OLD.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show which (source, destination, port) verdicts change between two policy sets.",
        discussion: """
            --against gives the whole new set; --apply gives changes to apply to the old one, as kubectl apply \
            would (objects of the same kind, namespace and name are replaced, others added).
            Cluster state (namespaces, pods, network sets) may come from either side; the newer side wins. With a \
            live cluster on the new side (--against k8s://CONTEXT), each side is evaluated on its own state.
            Exit status: 0 when nothing changes, 1 when verdicts change, 2 on bad input.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(
        name: .customLong("against"),
        parsing: .upToNextOption,
        help: "The new policy set: files, folders or k8s://[CONTEXT]; repeatable."
    )
    var against: [String] = []

    @Option(
        name: .customLong("apply"),
        parsing: .upToNextOption,
        help: "Changes to apply to the old set (files or folders); repeatable."
    )
    var apply: [String] = []

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard against.isEmpty != apply.isEmpty else {
            throw ValidationError("give either the new policy set with --against or the changes with --apply")
        }
    }

    func run() async throws {
        let old = try await input.load()
        let new = try await InputOptions.load(against + apply, strict: input.strict, cluster: input.cluster)
        let newPolicies = apply.isEmpty ? new.policySet : old.policySet.applying(new.policySet)
        // A live cluster on the new side is a whole state of its own (another cluster, or the same one
        // later): the two states are compared. Files bring policies, and any cluster state they hold adds to
        // the old side's.
        let diff =
            (against + apply).contains { $0.hasPrefix(ClusterOptions.scheme) }
            ? PolicyDiff(old: (old.cluster, old.policySet), new: (new.cluster, newPolicies), touched: nil)
            : PolicyDiff(cluster: old.cluster.merging(new.cluster), old: old.policySet, new: newPolicies)
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

import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseFlows
import GatehousePolicy
import GatehouseStore

/// `gatehouse policy recommend -f cluster/ [--calico]` and `gatehouse policy recommend --models`.
struct RecommendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Recommend least-privilege policies from the stored flows (or model access from the audit trail).",
        discussion: """
            Network policies: from the allowed flows in the data directory (gatehouse flows import, or the
            gateway's own), one policy per workload allowing exactly the connections it accepted and opened,
            and a default deny per namespace. The pods come from the cluster state given with -f. Kubernetes
            NetworkPolicies by default, Calico NetworkPolicies with --calico; YAML on standard output that
            gatehouse policy explain and matrix read.
            Model access (--models): from the audit trail, one access policy per identity group (--group-by
            LABEL, or each identity) allowing the models it used, as gatehouse.yaml's access section.
            """
    )

    @Option(
        name: [.customShort("f"), .customLong("filename")],
        parsing: .upToNextOption,
        help: "Cluster state (pods, namespaces): files, folders or k8s://[CONTEXT]."
    )
    var files: [String] = []

    @OptionGroup var cluster: ClusterOptions

    @Flag(help: "Write Calico NetworkPolicies instead of Kubernetes ones.")
    var calico = false

    @Option(name: [.customShort("n"), .long], help: "Only workloads in this namespace (repeatable).")
    var namespace: [String] = []

    @Flag(help: "Recommend model-access policies from the gateway's audit trail instead.")
    var models = false

    @Option(name: .customLong("group-by"), help: "With --models: the identity label that makes a group.")
    var groupBy: String?

    @OptionGroup var range: TimeRangeOptions
    @OptionGroup var data: DataDirectoryOption

    func validate() throws {
        if models {
            guard files.isEmpty, !cluster.cluster, !calico, namespace.isEmpty else {
                throw ValidationError(
                    "--models reads the audit trail: -f, --cluster, --calico and --namespace do not apply"
                )
            }
        } else {
            guard !files.isEmpty || cluster.cluster else {
                throw ValidationError("give the cluster state with -f or --cluster")
            }
            if groupBy != nil { throw ValidationError("--group-by goes with --models") }
        }
    }

    func run() async throws {
        do {
            let store = try data.open()
            if models {
                var query = AuditQuery()
                query.since = range.start
                query.until = range.end
                query.limit = 1_000_000
                let records = try store.auditRecords(query).map(\.entry)
                let recommendation = ModelAccessRecommendation(records: records, groupBy: groupBy)
                FileHandle.standardError.write(
                    Data("# \(recommendation.groups.count) groups from \(records.count) audit records\n".utf8)
                )
                print(recommendation.yaml, terminator: "")
                return
            }
            let bundle = try await InputOptions.load(files + cluster.sources, strict: false, cluster: cluster)
            var filter = FlowFilter()
            filter.since = range.start
            filter.until = range.end
            filter.actions = [.allow]
            let limit = 1_000_000
            let flows = try store.flows(FlowQuery(filter: filter, limit: limit)).map(\.flow)
            if flows.count == limit {
                Console.warning(
                    "only the newest \(limit) allowed flows were read: narrow with --since, or older traffic is denied"
                )
            }
            let traffic = ObservedTraffic(flows: flows, cluster: bundle.cluster, namespaces: Set(namespace))
            let summary =
                "# \(traffic.workloads.count) workloads from \(flows.count) allowed flows"
                + (traffic.unplaced.isEmpty
                    ? "" : "; \(traffic.unplaced.count) could not be placed in the cluster state")
            FileHandle.standardError.write(Data((summary + "\n").utf8))
            print(PolicyRecommendation(traffic: traffic).yaml(calico ? .calico : .kubernetes), terminator: "")
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(1)
        }
    }
}

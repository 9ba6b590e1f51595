import ArgumentParser
import Foundation
import GatehouseCluster
import GatehouseCore
import GatehousePolicy

/// How policies reach the cluster, for `policy apply` and `blueprint apply`: the flows they open and
/// close first (the engine's diff against the live cluster), a server-side dry run of every object, a
/// question unless --yes, then `kubectl apply --server-side --field-manager=gatehouse`; staged Calico
/// policies promoted to the enforced kinds with --promote.
struct ApplyOptions: ParsableArguments {
    @Option(name: [.customShort("n"), .long], help: "Apply only the objects of this namespace.")
    var namespace: String?

    @Flag(help: "Apply staged Calico policies as enforced ones, and delete the staged ones.")
    var promote = false

    @Flag(name: .customLong("dry-run"), help: "Show the flows and run the server-side dry run; apply nothing.")
    var dryRun = false

    @Flag(name: [.customShort("y"), .long], help: "Apply without asking.")
    var yes = false

    @Option(name: .customLong("field-manager"), help: "The field manager that owns what is applied.")
    var fieldManager = "gatehouse"

    /// Applies `documents` (each sent as written) to the cluster `cluster` names; exits 1 when declined
    /// or refused by the server, 2 on bad input.
    func apply(_ documents: [ManifestDocument], to cluster: ClusterOptions) async throws {
        var documents = documents
        var errors: [ResourceError] = []
        if let namespace { documents = documents.filter { $0.namespace == namespace } }
        var staged: [ManifestDocument] = []
        if promote {
            var promoted: [ManifestDocument] = []
            for document in documents {
                if let enforced = document.promoted() {
                    promoted.append(enforced)
                    staged.append(document)
                } else if document.kind.hasPrefix("Staged") {
                    errors.append(
                        ResourceError(
                            .invalidValue,
                            "\(document.kind) \(document.name) cannot be promoted (a stagedAction, or a kind with no enforced twin)",
                            at: document.location
                        )
                    )
                } else {
                    promoted.append(document)
                }
            }
            documents = promoted
        }
        guard errors.isEmpty else {
            for error in errors { Console.error(error.description) }
            throw ExitCode(2)
        }
        guard !documents.isEmpty else {
            Console.error("nothing to apply\(namespace.map { " in namespace \($0)" } ?? "")")
            throw ExitCode(2)
        }

        let client = try cluster.client(ClusterOptions.scheme)
        do {
            try await apply(documents, staged: staged, client: client)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    private func apply(
        _ documents: [ManifestDocument],
        staged: [ManifestDocument],
        client: KubernetesClient
    ) async throws {
        let reader = ClusterReader(client: client)
        let targets: [(ManifestDocument, String)]
        let snapshot: ClusterSnapshot
        do {
            snapshot = try await reader.read()
            targets = try documents.map { document throws(ClusterError) in
                (document, try ApplyOptions.path(of: document, among: Array(snapshot.resourceVersions.keys)))
            }
        } catch {
            Console.error(error.reason)
            throw ExitCode(2)
        }

        // What changes, as flows: the live policies, and the same with these applied.
        let live: ResourceBundle
        let change: ResourceBundle
        do {
            live = try ResourceLoader().load(paths: [], texts: snapshot.pages.map { ($0.text, $0.location) })
            change = try ResourceLoader().load(
                paths: [],
                texts: documents.map { ($0.text, $0.location.fileAndLine) }
            )
        } catch {
            for problem in error.errors { Console.error(problem.description) }
            throw ExitCode(2)
        }
        var after = live.policySet.applying(change.policySet)
        if !staged.isEmpty {
            let removed = Set(staged.map { "\($0.namespace ?? "")/\($0.name)" })
            after = PolicySet(
                policies: after.policies.filter {
                    !($0.kind.isStaged && removed.contains("\($0.namespace ?? "")/\($0.name)"))
                },
                tiers: after.declaredTiers
            )
        }
        // Network sets change the cluster state, and can matter to any flow; policies only to their subjects'.
        let diff =
            change.cluster.networkSets.isEmpty
            ? PolicyDiff(cluster: live.cluster, old: live.policySet, new: after, listing: 50)
            : PolicyDiff(
                old: (live.cluster, live.policySet),
                new: (live.cluster.merging(change.cluster), after),
                touched: nil,
                listing: 50
            )
        Console.line("\(diff.openedCount) flow(s) opened, \(diff.closedCount) closed (as ranges of ports):")
        for flow in diff.changes {
            Console.line(
                "  \(flow.after == .allow ? "opened" : "closed")  \(flow.from) -> \(flow.to) \(flow.protocol)/\(flow.ports): \(flow.afterReason)"
            )
        }
        if diff.openedCount + diff.closedCount > diff.changes.count {
            Console.line("  … and \(diff.openedCount + diff.closedCount - diff.changes.count) more")
        }

        // Every object as a dry run first: nothing is applied unless the server takes them all.
        let refused = await ApplyOptions.send(targets, client: client, fieldManager: fieldManager, dryRun: true)
        if refused { throw ExitCode(1) }
        Console.line("dry run: the server accepts all \(targets.count) object(s)")
        if dryRun { return }
        if !yes {
            FileHandle.standardOutput.write(
                Data("apply \(targets.count) object(s) to \(client.connection.description)? [y/N] ".utf8)
            )
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else {
                Console.line("nothing applied")
                throw ExitCode(1)
            }
        }
        if await ApplyOptions.send(targets, client: client, fieldManager: fieldManager, dryRun: false) {
            throw ExitCode(1)
        }
        for document in staged {
            do {
                let path = try ApplyOptions.path(of: document, among: Array(snapshot.resourceVersions.keys))
                try await client.delete(path, action: "delete \(ApplyOptions.describe(document))")
                Console.line("\(ApplyOptions.describe(document)) deleted (promoted)")
            } catch {
                Console.error(error.reason)
                throw ExitCode(1)
            }
        }
    }

    /// Sends each object as a server-side apply; true when the server refused any. A dry run tries them
    /// all, so every refusal is shown; a real apply stops at the first.
    private static func send(
        _ targets: [(ManifestDocument, String)],
        client: KubernetesClient,
        fieldManager: String,
        dryRun: Bool
    ) async -> Bool {
        var refused = false
        for (document, path) in targets {
            do {
                _ = try await client.apply(
                    document.text,
                    at: path,
                    fieldManager: fieldManager,
                    dryRun: dryRun,
                    action: "apply \(describe(document))\(dryRun ? " (dry run)" : "")"
                )
                if !dryRun { Console.line("\(describe(document)) serverside-applied") }
            } catch {
                Console.error(error.reason)
                refused = true
                if !dryRun { break }
            }
        }
        return refused
    }

    /// `networkpolicy.networking.k8s.io/NAME`, as kubectl names what it applies.
    private static func describe(_ document: ManifestDocument) -> String {
        "\(document.kind.lowercased())\(document.group.isEmpty ? "" : ".\(document.group)")/\(document.name)"
    }

    /// The object's URL, from the resources the cluster serves; only policy kinds, tiers and network sets.
    private static func path(of document: ManifestDocument, among served: [APIResource]) throws(ClusterError) -> String
    {
        guard
            let resource = served.first(where: {
                $0.group == document.group && $0.kind == document.kind && $0.apiVersion == document.apiVersion
            }),
            !["Namespace", "Pod", "ServiceAccount", "Service", "EndpointSlice"].contains(document.kind)
        else {
            throw ClusterError(
                .configuration,
                "\(document.location): \(document.kind) (\(document.apiVersion)) is not a policy kind this cluster serves"
            )
        }
        if !resource.namespaced && document.namespace != nil {
            throw ClusterError(
                .configuration,
                "\(document.location): \(document.kind) is cluster-scoped: give no namespace"
            )
        }
        return resource.path(of: document.name, namespace: document.namespace)
    }
}

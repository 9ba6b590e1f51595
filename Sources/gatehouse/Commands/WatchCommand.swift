import ArgumentParser
import Foundation
import GatehouseCluster

/// `gatehouse policy watch --cluster`: the cluster's policies kept evaluated, each change printed with
/// the flows it opened and closed.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch the cluster and print each change with the flows it opens and closes.",
        discussion: """
            Lists every kind the policy engine reads, then watches them (resourceVersion, bookmarks; a 410 Gone \
            answered by a fresh list; reconnects with backoff). The first line is SYNCED with the lint findings \
            of the whole cluster; then one event per change: the policy or pod that changed, the flows it \
            opened and closed (as policy diff would show them) and the lint findings it added or resolved. \
            -o json writes one JSON object per line. Runs until interrupted; exit 2 when the first list fails.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Option(
        name: .customLong("watch-timeout"),
        help: "Seconds the server keeps one watch request open before it is renewed (timeoutSeconds)."
    )
    var watchTimeout = 300

    @Option(
        name: .customLong("max-flows"),
        help: "List at most this many of the flows each change opens, and of those it closes; 0 lists all."
    )
    var maxFlows = 50

    @Option(name: [.customShort("o"), .long], help: "Output format: table, or json (one object per line).")
    var output: OutputOptions.Format = .table

    func validate() throws {
        guard cluster.cluster else { throw ValidationError("policy watch reads a live cluster: give --cluster") }
        guard output != .yaml else { throw ValidationError("-o yaml does not stream: use -o json") }
        guard maxFlows >= 0 else { throw ValidationError("--max-flows must be 0 or more") }
        guard (1...3600).contains(watchTimeout) else { throw ValidationError("--watch-timeout must be 1-3600") }
    }

    func run() async throws {
        // A watch may be quiet for its whole timeout: a read timeout longer than that.
        let client = try cluster.client(ClusterOptions.scheme, readTimeout: watchTimeout + 30)
        let resources: [APIResource]
        do {
            let discovered = try await ClusterReader(client: client).discover()
            for note in discovered.notes { Console.note(note) }
            resources = discovered.resources
        } catch {
            await client.shutdown()
            Console.error(error.reason)
            throw ExitCode(2)
        }
        var configured = ClusterWatcher(client: client, resources: resources)
        configured.pageSize = cluster.chunkSize
        configured.watchTimeout = watchTimeout
        let watcher = configured
        let inbox = UpdateInbox()
        let failure = try await withThrowingTaskGroup(of: ClusterError?.self) { group in
            group.addTask {
                defer { inbox.finish() }
                do throws(ClusterError) {
                    try await watcher.run { inbox.put($0) }
                    return nil
                } catch {
                    return error
                }
            }
            var state = PolicyWatch(
                resources: resources,
                origin: "k8s://\(client.connection.name)",
                maximumFlows: maxFlows == 0 ? nil : maxFlows
            )
            for await _ in inbox.arrivals {
                var updates: [ClusterUpdate] = []
                for update in inbox.take() {
                    switch update {
                    case .retrying(let resource, let error, let delay):
                        Console.warning("\(error.reason); watching \(resource) again in \(delay)")
                    case .expired(let resource, let error):
                        // The list that follows is an event only if it changes something.
                        Console.note("\(error.reason); listing \(resource) again")
                    case .listed, .changed:
                        updates.append(update)
                    }
                }
                for run in PolicyWatch.runs(updates) {
                    guard let event = state.handle(run, at: Date()) else { continue }
                    switch output {
                    case .json:
                        Console.line(try WatchEvent.json(event))
                    case .table, .yaml:
                        Console.line(event.text)
                    }
                }
            }
            return try await group.next() ?? nil
        }
        await client.shutdown()
        if let failure {
            Console.error(failure.reason)
            throw ExitCode(2)
        }
    }
}

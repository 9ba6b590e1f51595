import ArgumentParser
import GatehouseCluster
import NIOCore

/// `--cluster`, `--kubeconfig` and `--context`: a live cluster as a source, as kubectl finds it.
struct ClusterOptions: ParsableArguments {
    @Flag(help: "Read the live cluster (the kubeconfig's current context, or the pod's service account).")
    var cluster = false

    @Option(help: "The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: its current-context).")
    var context: String?

    @Option(
        name: .customLong("chunk-size"),
        help: "List the cluster this many objects at a time, as kubectl does; 0 lists each kind at once."
    )
    var chunkSize = 500

    /// The scheme of a source that is a cluster: `k8s://` is the current context, `k8s://NAME` a named one.
    static let scheme = "k8s://"

    func validate() throws {
        if chunkSize < 0 { throw ValidationError("--chunk-size must be 0 or more") }
    }

    /// `k8s://` with --cluster, as if given with -f.
    var sources: [String] { cluster ? [ClusterOptions.scheme] : [] }

    /// A client of the cluster `source` names; on a configuration error prints it and exits 2.
    func client(_ source: String, readTimeout: Int = 330) throws -> KubernetesClient {
        let named = String(source.dropFirst(ClusterOptions.scheme.count))
        do {
            let connection = try ClusterConnection.resolve(
                kubeconfig: kubeconfig,
                context: named.isEmpty ? context : named
            )
            var configuration = KubernetesClient.Configuration()
            configuration.readTimeout = .seconds(Int64(readTimeout))
            return try KubernetesClient(connection: connection, configuration: configuration)
        } catch {
            Console.error(error.reason)
            throw ExitCode(2)
        }
    }

    /// Reads the cluster `source` names; prints its notes, and on error prints it and exits 2.
    func read(_ source: String) async throws -> ClusterSnapshot {
        let client = try self.client(source)
        do {
            var reader = ClusterReader(client: client)
            reader.pageSize = chunkSize
            let snapshot = try await reader.read()
            await client.shutdown()
            for note in snapshot.notes { Console.note(note) }
            return snapshot
        } catch {
            await client.shutdown()
            Console.error(error.reason)
            throw ExitCode(2)
        }
    }
}

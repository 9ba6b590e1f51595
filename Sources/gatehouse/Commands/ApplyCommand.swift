import ArgumentParser
import Foundation
import GatehouseCluster
import GatehouseCore
import GatehousePolicy

/// `gatehouse policy apply -f DIR --cluster`: server-side apply of policies, shown first as the flows
/// they open and close, tried as a dry run, then applied once confirmed.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply policies to the cluster: the flows they change first, a dry run, then server-side apply.",
        discussion: """
            Applies policies, tiers and network sets (Kubernetes, Calico, ClusterNetworkPolicy) as \
            `kubectl apply --server-side --field-manager=gatehouse` would, after printing what they change as flows \
            opened and closed (the engine's diff against the live cluster) and a server-side dry run of every \
            object (dryRun=All). Asks before applying unless --yes. A field another manager owns is reported as \
            a conflict, never forced. --promote applies Calico StagedNetworkPolicies and \
            StagedGlobalNetworkPolicies as the enforced kinds and deletes the staged ones. \
            Exit status: 0 applied, 1 declined or refused by the server, 2 bad input.
            """
    )

    @Option(
        name: [.customShort("f"), .customLong("filename")],
        parsing: .upToNextOption,
        help: "Files or folders of policies to apply."
    )
    var files: [String] = []

    @OptionGroup var cluster: ClusterOptions

    @OptionGroup var options: ApplyOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give the policies to apply with -f") }
        guard cluster.cluster else { throw ValidationError("policy apply writes to a live cluster: give --cluster") }
    }

    func run() async throws {
        var documents: [ManifestDocument] = []
        var errors: [ResourceError] = []
        for path in files {
            do {
                for file in try ResourceLoader.files(in: path) {
                    documents += try ManifestDocument.split(text: try ResourceLoader.read(file), file: file)
                }
            } catch let error as ResourceError {
                errors.append(error)
            } catch let error as ResourceErrors {
                errors += error.errors
            }
        }
        guard errors.isEmpty else {
            for error in errors { Console.error(error.description) }
            throw ExitCode(2)
        }
        try await options.apply(documents, to: cluster)
    }
}

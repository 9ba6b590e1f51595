import ArgumentParser
import GatehousePolicy

/// `gatehouse blueprint apply -f ai.yaml --cluster`: the blueprint's policies, proved on the live
/// cluster, then applied as `policy apply` applies them.
struct BlueprintApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Prove the blueprint's policies on the live cluster, then apply them (staged first).",
        discussion: """
            Writes the policies as `gatehouse blueprint` does and proves them on the live cluster with its \
            own policies; a failed proof applies nothing (exit 1). Then, as `gatehouse policy apply`: the flows \
            they open and close, a server-side dry run, a question unless --yes, and server-side apply with the \
            field manager gatehouse. --staged applies staged policies (Calico); --promote applies the staged \
            set as enforced policies and deletes the staged ones. Exit status: 0 applied, 1 failed proof, \
            declined or refused by the server, 2 bad input.
            """
    )

    @OptionGroup var options: BlueprintOptions

    @OptionGroup var cluster: ClusterOptions

    @OptionGroup var apply: ApplyOptions

    func validate() throws {
        guard cluster.cluster else { throw ValidationError("blueprint apply writes to a live cluster: give --cluster") }
        if apply.promote && options.flavor == .admin {
            throw ValidationError("--promote goes with --flavor calico or kubernetes: the admin flavor is never staged")
        }
    }

    func run() async throws {
        // Promotion turns the staged set into the enforced one, so the staged set is what is written.
        let (policies, check) = try await options.prove(cluster: cluster, staged: options.staged || apply.promote)
        guard check.failures.isEmpty else {
            Console.error("the proof failed on the live cluster: nothing applied")
            throw ExitCode(1)
        }
        let documents: [ManifestDocument]
        do {
            documents = try ManifestDocument.split(
                text: policies.yaml,
                file: "blueprint \(policies.blueprint.name) (\(options.flavor.rawValue))"
            )
        } catch {
            for problem in error.errors { Console.error(problem.description) }
            throw ExitCode(1)
        }
        try await apply.apply(documents, to: cluster)
    }
}

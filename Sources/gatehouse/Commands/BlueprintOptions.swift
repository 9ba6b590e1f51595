import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseGateway
import GatehousePolicy

/// The blueprint, its flavor and what it is proved on: shared by `blueprint` and `blueprint apply`.
struct BlueprintOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("filename")], help: "The blueprint (YAML).")
    var file: String

    @Option(
        name: .customLong("gateway-config"),
        help: """
            The gateway's gatehouse.yaml: its upstreams in the cluster become model servers only the gateway \
            reaches (their Services read from --cluster or --state), the others its egress.
            """
    )
    var gatewayConfiguration: String?

    @Option(help: "kubernetes (NetworkPolicy), calico (a tier of its own) or admin (ClusterNetworkPolicy guard rails).")
    var flavor: BlueprintPolicies.Flavor = .kubernetes

    @Flag(
        help: """
            Staged policies, to see in flow logs what they would do: StagedNetworkPolicies with --flavor calico, \
            Calico's StagedKubernetesNetworkPolicies with --flavor kubernetes.
            """
    )
    var staged = false

    @Option(
        name: .customLong("state"),
        parsing: .upToNextOption,
        help: "Cluster state to prove the policies on (files or folders) instead of example pods."
    )
    var state: [String] = []

    func validate() throws {
        if staged && flavor == .admin { throw ValidationError("--staged goes with --flavor calico or kubernetes") }
    }

    /// Decodes the blueprint, writes its policies and proves them on the cluster (live with --cluster, or
    /// --state, else example pods); prints the warnings, each flow that differs and a summary. Exits 2 on
    /// bad input; a failed proof is for the caller to act on.
    func prove(cluster: ClusterOptions, staged: Bool) async throws -> (BlueprintPolicies, BlueprintCheck) {
        let sources = state + cluster.sources
        let live = sources.isEmpty ? nil : try await InputOptions.load(sources, strict: false, cluster: cluster)
        let blueprint: Blueprint
        do {
            blueprint = try Blueprint.decode(
                text: try ResourceLoader.read(file),
                file: file,
                gateway: try gateway(),
                cluster: live?.cluster
            )
        } catch let error as ResourceError {
            Console.error(error.description)
            throw ExitCode(2)
        } catch let errors as ResourceErrors {
            for error in errors.errors { Console.error(error.description) }
            throw ExitCode(2)
        }
        let policies = BlueprintPolicies(blueprint, flavor: flavor, staged: staged)
        for warning in policies.warnings { Console.warning(warning) }
        let check: BlueprintCheck
        do {
            check = try BlueprintCheck(
                blueprint,
                flavor: flavor,
                policies: policies.yaml,
                cluster: live,
                staged: staged
            )
        } catch {
            for problem in error.errors { Console.error(problem.description) }
            throw ExitCode(live == nil ? 1 : 2)
        }
        for probe in check.failures {
            Console.error(
                "proof failed: \(probe.from) -> \(probe.to) \(probe.protocol)/\(probe.port) is \(probe.actual), "
                    + "the blueprint says \(probe.expected)"
            )
        }
        let allowed = check.probes.filter { $0.expected == .allow }.count
        FileHandle.standardError.write(
            Data(
                ("# \(check.probes.count) flows checked on \(live == nil ? "example pods" : "the given cluster"): "
                    + "\(allowed) allowed as declared, \(check.probes.count - allowed) denied; "
                    + "\(check.failures.count) differ\n").utf8
            )
        )
        return (policies, check)
    }

    /// The gateway's listen port and upstreams, from its configuration read for its structure only: the
    /// pod's secrets are not where the blueprint is written.
    private func gateway() throws(ResourceErrors) -> BlueprintGateway? {
        guard let path = gatewayConfiguration else { return nil }
        let configuration = try GatewayConfiguration.load(file: path, environment: nil)
        var upstreams: [BlueprintGateway.Upstream] = []
        for model in configuration.models {
            for (index, upstream) in model.upstreams.enumerated() {
                upstreams.append(
                    BlueprintGateway.Upstream(
                        model: model.name,
                        index: index,
                        url: upstream.origin,
                        host: upstream.host,
                        port: UInt16(upstream.port)
                    )
                )
            }
        }
        return BlueprintGateway(file: path, listenPort: UInt16(configuration.listen.port), upstreams: upstreams)
    }
}

extension BlueprintPolicies.Flavor: ExpressibleByArgument {}

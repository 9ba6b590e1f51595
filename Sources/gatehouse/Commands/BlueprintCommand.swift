import ArgumentParser
import Foundation
import GatehouseCore
import GatehousePolicy

/// `gatehouse blueprint -f ai.yaml`: the policies that make AI namespaces RSVP only, proved before printed.
struct BlueprintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blueprint",
        abstract: "Write the policies that make AI namespaces RSVP only, proved with the engine first.",
        discussion: """
            The blueprint (see examples/blueprint/) names the AI namespaces, the gateway and who may call it, \
            the model servers (reached only from the gateway), the apps and their flows, and the outside \
            addresses each may call. The policies are loaded back into the engine with the cluster (--cluster or \
            --state) or with one example pod per workload, and every flow between the workloads, the cluster \
            DNS, a pod outside and outside addresses is checked: declared flows allowed, the rest denied. A \
            difference is a bug: the flows are printed and the exit status is 1. Exit 2 on bad input.
            """
    )

    @Option(name: [.customShort("f"), .customLong("filename")], help: "The blueprint (YAML).")
    var file: String

    @Option(help: "kubernetes (NetworkPolicy), calico (a tier of its own) or admin (ClusterNetworkPolicy guard rails).")
    var flavor: BlueprintPolicies.Flavor = .kubernetes

    @Flag(help: "With --flavor calico: StagedNetworkPolicies, to see in flow logs what they would do.")
    var staged = false

    @Option(
        name: .customLong("state"),
        parsing: .upToNextOption,
        help: "Cluster state to prove the policies on (files or folders) instead of example pods."
    )
    var state: [String] = []

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .customLong("output-dir"), help: "Write the policies to DIR/BLUEPRINT-FLAVOR.yaml instead of stdout.")
    var outputDirectory: String?

    @Flag(help: "Print the proof (a matrix per port) instead of the policies.")
    var explain = false

    func validate() throws {
        if staged && flavor != .calico { throw ValidationError("--staged goes with --flavor calico") }
    }

    func run() async throws {
        let blueprint: Blueprint
        do {
            blueprint = try Blueprint.decode(text: try ResourceLoader.read(file), file: file)
        } catch let error as ResourceError {
            Console.error(error.description)
            throw ExitCode(2)
        } catch let errors as ResourceErrors {
            for error in errors.errors { Console.error(error.description) }
            throw ExitCode(2)
        }
        let policies = BlueprintPolicies(blueprint, flavor: flavor, staged: staged)
        for warning in policies.warnings { Console.warning(warning) }
        let sources = state + cluster.sources
        let live = sources.isEmpty ? nil : try await InputOptions.load(sources, strict: false, cluster: cluster)
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
        let failures = check.failures
        for probe in failures {
            Console.error(
                "proof failed: \(probe.from) -> \(probe.to) \(probe.protocol)/\(probe.port) is \(probe.actual), "
                    + "the blueprint says \(probe.expected)"
            )
        }
        let allowed = check.probes.filter { $0.expected == .allow }.count
        FileHandle.standardError.write(
            Data(
                ("# \(check.probes.count) flows checked on \(live == nil ? "example pods" : "the given cluster"): "
                    + "\(allowed) allowed as declared, \(check.probes.count - allowed) denied; \(failures.count) differ\n")
                    .utf8
            )
        )
        if explain {
            var writer = OutputWriter()
            let engine = PolicyEngine(cluster: check.bundle.cluster, policySet: check.bundle.policySet)
            var ports: [(IPProtocol, UInt16)] = []
            for probe in check.probes where !ports.contains(where: { $0 == (probe.protocol, probe.port) }) {
                ports.append((probe.protocol, probe.port))
            }
            for (index, (proto, port)) in ports.enumerated() {
                if index > 0 { writer.write("\n") }
                MatrixText.table(
                    ReachabilityMatrix(engine: engine, port: port, protocol: proto, staged: staged),
                    into: &writer
                )
            }
            writer.flush()
        } else if let outputDirectory {
            let path = (outputDirectory as NSString).appendingPathComponent("\(blueprint.name)-\(flavor.rawValue).yaml")
            do {
                try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
                try policies.yaml.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                Console.error("\(path): cannot write the file")
                throw ExitCode(2)
            }
            FileHandle.standardError.write(Data("# wrote \(path)\n".utf8))
        } else {
            print(policies.yaml, terminator: "")
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

extension BlueprintPolicies.Flavor: ExpressibleByArgument {}

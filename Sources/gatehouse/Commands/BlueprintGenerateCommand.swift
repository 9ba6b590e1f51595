import ArgumentParser
import Foundation
import GatehouseCore
import GatehousePolicy

/// `gatehouse blueprint -f ai.yaml`: the policies that make AI namespaces RSVP only, proved before printed.
struct BlueprintGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the policies that make AI namespaces RSVP only, proved with the engine first.",
        discussion: """
            The blueprint (see examples/blueprint/) names the AI namespaces, the gateway and who may call it, \
            the model servers (reached only from the gateway), the apps and their flows, and the outside \
            addresses each may call; --gateway-config adds the gateway's own upstreams. The policies are loaded \
            back into the engine with the cluster (--cluster or --state) or with one example pod per workload, \
            and every flow between the workloads, the cluster DNS, a pod outside and outside addresses is \
            checked: declared flows allowed, the rest denied. A difference is a bug: the flows are printed and \
            the exit status is 1. Exit 2 on bad input.
            """
    )

    @OptionGroup var options: BlueprintOptions

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .customLong("output-dir"), help: "Write the policies to DIR/BLUEPRINT-FLAVOR.yaml instead of stdout.")
    var outputDirectory: String?

    @Flag(help: "Print the proof (a matrix per port) instead of the policies.")
    var explain = false

    func run() async throws {
        let (policies, check) = try await options.prove(cluster: cluster, staged: options.staged)
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
                    ReachabilityMatrix(engine: engine, port: port, protocol: proto, staged: options.staged),
                    into: &writer
                )
            }
            writer.flush()
        } else if let outputDirectory {
            let path = (outputDirectory as NSString).appendingPathComponent(
                "\(policies.blueprint.name)-\(options.flavor.rawValue).yaml"
            )
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
        if !check.failures.isEmpty { throw ExitCode(1) }
    }
}

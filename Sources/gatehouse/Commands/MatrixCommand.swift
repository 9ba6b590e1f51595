import ArgumentParser
import Foundation
import GatehouseCore
import GatehousePolicy

/// `gatehouse policy matrix`: the reachability truth table of all pods and listed external addresses.
struct MatrixCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Print who can reach whom on a port: every pod and listed external address, both ways.",
        discussion: """
            Rows are sources, columns destinations; '.' allowed, 'X' denied (as in the Kubernetes e2e truth tables).
            Without --port, one table for each port the pods declare (80/TCP when none does).
            """
    )

    @OptionGroup var input: InputOptions

    @Option(help: "The destination port (default: every declared container port).")
    var port: UInt16?

    @Option(
        name: .customLong("protocol"),
        help: "TCP, UDP or SCTP (default: TCP with --port, every declared protocol without)."
    )
    var proto: IPProtocol?

    @Option(
        name: .customLong("external"),
        help: "An address outside the cluster to include (ADDRESS or ip:ADDRESS); repeatable."
    )
    var external: [String] = []

    @Flag(help: "Evaluate with staged policies in force.")
    var staged = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if port == 0 { throw ValidationError("--port must be 1-65535") }
        for address in external where MatrixCommand.address(address) == nil {
            throw ValidationError("--external \(address) is not an IP address")
        }
    }

    private static func address(_ text: String) -> IPAddress? {
        IPAddress(text.hasPrefix("ip:") ? text.dropFirst(3) : Substring(text))
    }

    func run() async throws {
        var bundle = try await input.load()
        bundle.cluster.add(external: external.compactMap(MatrixCommand.address))
        let engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
        var ports: [(IPProtocol, UInt16)] = []
        if let port {
            ports = [(proto ?? .tcp, port)]
        } else {
            for pod in bundle.cluster.pods {
                for declared in pod.ports where proto == nil || declared.protocol == proto {
                    if !ports.contains(where: { $0 == (declared.protocol, declared.port) }) {
                        ports.append((declared.protocol, declared.port))
                    }
                }
            }
            ports.sort { ($0.0, $0.1) < ($1.0, $1.1) }
            if ports.isEmpty { ports = [(proto ?? .tcp, 80)] }
        }
        var writer = OutputWriter()
        if output.output != .table && ports.count > 1 { writer.write(output.output == .json ? "[\n" : "") }
        for (index, (proto, port)) in ports.enumerated() {
            let matrix = ReachabilityMatrix(engine: engine, port: port, protocol: proto, staged: staged)
            switch output.output {
            case .table:
                if index > 0 { writer.write("\n") }
                MatrixText.table(matrix, into: &writer)
            case .json:
                if index > 0 { writer.write(",\n") }
                MatrixText.json(matrix, into: &writer)
            case .yaml:
                MatrixText.yaml(matrix, inList: ports.count > 1, into: &writer)
            }
        }
        if output.output == .json && ports.count > 1 { writer.write("]\n") }
        writer.flush()
    }
}

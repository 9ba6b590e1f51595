import ArgumentParser
import GatehouseCore
import GatehousePolicy

/// `gatehouse policy explain`: one flow's verdict with the trace of both directions.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain why one flow is allowed or denied.",
        discussion: """
            Exit status: 0 when the flow is allowed, 1 when it is denied, 2 on bad input.
            Example: gatehouse policy explain -f examples/ai-namespace --from ai/rag-api --to ai/vector-db --port 6333
            """
    )

    @OptionGroup var input: InputOptions

    @Option(help: "The source: NAMESPACE/POD or ip:ADDRESS.")
    var from: String

    @Option(help: "The destination: NAMESPACE/POD or ip:ADDRESS.")
    var to: String

    @Option(help: "The destination port.")
    var port: UInt16

    @Option(name: .customLong("protocol"), help: "TCP, UDP or SCTP.")
    var proto: IPProtocol = .tcp

    @Option(help: "The source port (default: an ephemeral port chosen by the client).")
    var sourcePort: UInt16?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard port > 0 else { throw ValidationError("--port must be 1-65535") }
        if sourcePort == 0 { throw ValidationError("--source-port must be 1-65535") }
    }

    func run() async throws {
        let bundle = try await input.load()
        let engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
        let flow: Flow
        do {
            flow = Flow(
                source: try engine.resolve(from),
                destination: try engine.resolve(to),
                protocol: proto,
                port: port,
                sourcePort: sourcePort
            )
        } catch {
            Console.error(error.description)
            throw ExitCode(2)
        }
        let decision = engine.decide(flow)
        switch output.output {
        case .table: print(DecisionText.render(decision), terminator: "")
        case .json, .yaml: print(try StructuredOutput.render(decision, as: output.output), terminator: "")
        }
        if decision.verdict == .deny { throw ExitCode(1) }
    }
}

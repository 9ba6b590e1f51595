import GatehouseCore
import GatehousePolicy

/// Builds engines from inline YAML in tests: `try PolicyFixture(yaml).engine.decide(...)`.
public struct PolicyFixture: Sendable {
    public let bundle: ResourceBundle
    public let engine: PolicyEngine

    /// Loads YAML as if read from `file`; throws the loader's errors.
    public init(_ yaml: String, file: String = "test.yaml", strict: Bool = false) throws {
        self.bundle = try ResourceLoader(strict: strict).load(text: yaml, file: file)
        self.engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
    }

    /// An engine over resources already loaded (a folder, generated text).
    public init(bundle: ResourceBundle) {
        self.bundle = bundle
        self.engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
    }

    /// The verdict of one flow; `from` and `to` are `ns/pod` or `ip:ADDRESS`.
    public func verdict(
        _ from: String,
        _ to: String,
        port: UInt16,
        protocol proto: IPProtocol = .tcp,
        sourcePort: UInt16? = nil
    ) throws -> Verdict {
        try decide(from, to, port: port, protocol: proto, sourcePort: sourcePort).verdict
    }

    public func decide(
        _ from: String,
        _ to: String,
        port: UInt16,
        protocol proto: IPProtocol = .tcp,
        sourcePort: UInt16? = nil
    ) throws -> Decision {
        let flow = Flow(
            source: try engine.resolve(from),
            destination: try engine.resolve(to),
            protocol: proto,
            port: port,
            sourcePort: sourcePort
        )
        let decision = engine.decide(flow)
        precondition(engine.allows(flow) == (decision.verdict == .allow), "fast path and traced path disagree")
        return decision
    }
}

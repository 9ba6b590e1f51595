import ArgumentParser
import GatehouseFlows

/// The filters of `gatehouse flows`, named as `hubble observe` names them. Each may be given more than
/// once (values are ORed); different filters are ANDed.
struct FlowFilterOptions: ParsableArguments {
    @Option(name: .customLong("from-namespace"), help: "Source namespace.")
    var fromNamespace: [String] = []
    @Option(name: .customLong("to-namespace"), help: "Destination namespace.")
    var toNamespace: [String] = []
    @Option(name: [.customShort("n"), .long], help: "Either end's namespace.")
    var namespace: [String] = []
    @Option(name: .customLong("from-pod"), help: "Source name prefix, or namespace/prefix.")
    var fromPod: [String] = []
    @Option(name: .customLong("to-pod"), help: "Destination name prefix, or namespace/prefix.")
    var toPod: [String] = []
    @Option(help: "Either end's name prefix, or namespace/prefix.")
    var pod: [String] = []
    @Option(name: .customLong("from-label"), help: "Source labels: app=web,tier!=db or a Calico selector.")
    var fromLabel: [String] = []
    @Option(name: .customLong("to-label"), help: "Destination labels.")
    var toLabel: [String] = []
    @Option(name: [.customShort("l"), .long], help: "Either end's labels.")
    var label: [String] = []
    @Option(name: [.customLong("identity"), .customLong("from-identity")], help: "Gateway caller (name prefix).")
    var identity: [String] = []
    @Option(name: [.customLong("model"), .customLong("to-model")], help: "Gateway model (name prefix).")
    var model: [String] = []
    @Option(name: .customLong("from-kind"), help: "Source kind: workload, host, networkset, network, identity, model.")
    var fromKind: [String] = []
    @Option(name: .customLong("to-kind"), help: "Destination kind.")
    var toKind: [String] = []
    @Option(help: "allow, deny or pass (Hubble's FORWARDED and DROPPED too).")
    var verdict: [String] = []
    @Option(help: "A policy in the trace, enforced or pending: name, namespace/name or tier.name.")
    var policy: [String] = []
    @Option(help: "Deny reason, such as forbidden, budget_exceeded, rate_limit_exceeded.")
    var reason: [String] = []
    @Option(help: "src, dst or gateway.")
    var reporter: [String] = []
    @Option(name: .customLong("protocol"), help: "TCP, UDP, SCTP, ICMP or HTTP.")
    var protocols: [String] = []
    @Option(help: "Destination port.")
    var port: [String] = []
    @Option(help: "Gateway route, such as /v1/chat/completions.")
    var route: [String] = []

    /// The filters as name-value pairs, as `FlowParameters` reads them.
    var pairs: [(String, String)] {
        let all: [(String, [String])] = [
            ("from-namespace", fromNamespace), ("to-namespace", toNamespace), ("namespace", namespace),
            ("from-pod", fromPod), ("to-pod", toPod), ("pod", pod), ("from-label", fromLabel), ("to-label", toLabel),
            ("label", label), ("identity", identity), ("model", model), ("from-kind", fromKind), ("to-kind", toKind),
            ("verdict", verdict), ("policy", policy), ("reason", reason), ("reporter", reporter),
            ("protocol", protocols), ("port", port), ("route", route),
        ]
        return all.flatMap { name, values in values.map { (name, $0) } }
    }
}

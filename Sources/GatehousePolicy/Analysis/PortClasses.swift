import GatehouseCore

/// Splits each protocol's port space into ranges on which no rule of the given policy sets can tell two
/// ports apart, so checking one port per range checks them all.
public struct PortClasses: Sendable {
    public struct PortClass: Sendable, Hashable {
        public let `protocol`: IPProtocol
        public let range: PortRange
    }

    public let classes: [PortClass]

    public init(policySets: [PolicySet], cluster: Cluster, protocols: [IPProtocol] = [.tcp, .udp, .sctp]) {
        var cuts: [IPProtocol: Set<UInt32>] = [:]
        func cut(_ proto: IPProtocol?, _ range: PortRange) {
            for target in proto.map({ [$0] }) ?? protocols {
                cuts[target, default: []].insert(UInt32(range.lower))
                cuts[target, default: []].insert(UInt32(range.upper) + 1)
            }
        }
        func add(_ match: PortMatch) {
            switch match.ports {
            case .any:
                break
            case .range(let range):
                cut(match.protocol, range)
            case .named(let name):
                for pod in cluster.pods {
                    for port in pod.ports where port.name == name { cut(port.protocol, PortRange(port.port)) }
                }
            }
        }
        for set in policySets {
            for policy in set.policies {
                for rule in policy.ingress + policy.egress {
                    for match in rule.source.ports + rule.source.notPorts + rule.destination.ports
                        + rule.destination.notPorts
                    {
                        add(match)
                    }
                }
            }
        }
        for pod in cluster.pods {
            for port in pod.ports { cut(port.protocol, PortRange(port.port)) }
        }
        var classes: [PortClass] = []
        for proto in protocols {
            var points = (cuts[proto] ?? []).filter { $0 > 1 && $0 <= 65535 }
            points.insert(1)
            let sorted = points.sorted()
            for (index, start) in sorted.enumerated() {
                let end = index + 1 < sorted.count ? sorted[index + 1] - 1 : 65535
                classes.append(PortClass(protocol: proto, range: PortRange(UInt16(start), UInt16(end))))
            }
        }
        self.classes = classes
    }
}

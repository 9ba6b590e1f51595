import GatehouseCore

/// Numbers the (protocol, port) space into classes that no rule of the policy sets tells apart, so that a
/// rule's protocol and destination-port criteria become one bit set over classes, tested in one step, and
/// so that checking one port per class (diff, lint) checks them all.
struct PortClassIndex: Sendable {
    /// One class: a protocol and a range of destination ports.
    struct PortClass: Sendable, Hashable {
        let `protocol`: IPProtocol
        let range: PortRange
    }

    static let protocols: [IPProtocol] = [.tcp, .udp, .sctp]

    /// Per protocol, the sorted lower bounds of its classes (the first is 0).
    private let lowerBounds: [[UInt16]]
    private let offsets: [Int]
    /// The number of classes.
    let count: Int

    init(policySets: [PolicySet], cluster: Cluster) {
        self.init(policySets: policySets, clusters: [cluster])
    }

    /// The classes no rule or declared port of any of the sets and clusters tells apart.
    init(policySets: [PolicySet], clusters: [Cluster]) {
        var cuts: [Set<UInt32>] = Array(repeating: [0, 1], count: Self.protocols.count)
        func cut(_ proto: IPProtocol?, _ range: PortRange) {
            for (position, candidate) in Self.protocols.enumerated() where proto == nil || proto == candidate {
                cuts[position].insert(UInt32(range.lower))
                cuts[position].insert(UInt32(range.upper) + 1)
            }
        }
        for policy in policySets.flatMap(\.policies) {
            for rule in policy.ingress + policy.egress {
                for match in rule.destination.ports + rule.destination.notPorts {
                    if case .range(let range) = match.ports { cut(match.protocol, range) }
                }
            }
        }
        for cluster in clusters {
            for pod in cluster.pods {
                for port in pod.ports { cut(port.protocol, PortRange(port.port)) }
            }
            for slice in cluster.endpointSlices {
                for port in slice.ports { if let number = port.port { cut(port.protocol, PortRange(number)) } }
            }
            for service in cluster.services.values {
                for port in service.ports { cut(port.protocol, PortRange(port.targetNumber ?? port.port)) }
            }
        }
        var lowerBounds: [[UInt16]] = []
        var offsets: [Int] = []
        var total = 0
        for set in cuts {
            let bounds = set.filter { $0 <= 65535 }.sorted().map { UInt16($0) }
            offsets.append(total)
            lowerBounds.append(bounds)
            total += bounds.count
        }
        self.lowerBounds = lowerBounds
        self.offsets = offsets
        self.count = total
    }

    /// The class of a flow's protocol and destination port; nil for protocols without ports.
    @inline(__always)
    func classID(_ proto: IPProtocol, _ port: UInt16) -> Int? {
        let position: Int
        switch proto {
        case .tcp: position = 0
        case .udp: position = 1
        case .sctp: position = 2
        default: return nil
        }
        let bounds = lowerBounds[position]
        var low = 0
        var high = bounds.count - 1
        while low < high {
            let middle = (low + high + 1) >> 1
            if bounds[middle] <= port { low = middle } else { high = middle - 1 }
        }
        return offsets[position] + low
    }

    /// Every class, by protocol and then port.
    var classes: [PortClass] {
        var result: [PortClass] = []
        for (position, proto) in Self.protocols.enumerated() {
            let bounds = lowerBounds[position]
            for (index, lower) in bounds.enumerated() {
                let upper = index + 1 < bounds.count ? bounds[index + 1] - 1 : 65535
                result.append(PortClass(protocol: proto, range: PortRange(lower, upper)))
            }
        }
        return result
    }

    /// The classes a connection can use (port 0 is never a destination): one port of each checks them all.
    var probeClasses: [PortClass] { classes.filter { $0.range.lower > 0 } }

    /// Adds the classes of `proto` that overlap `range` (classes never straddle a rule's range bounds).
    func insertClasses(of proto: IPProtocol, in range: PortRange, into mask: inout BitSet) {
        guard let first = classID(proto, range.lower), let last = classID(proto, range.upper) else { return }
        for id in first...last { mask.insert(id) }
    }
}

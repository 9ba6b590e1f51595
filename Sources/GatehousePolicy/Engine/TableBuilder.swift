import GatehouseCore

/// Builds the engine's flat tables: rules, class masks and peer bit sets, each distinct one stored once.
struct TableBuilder {
    var index: MemberIndex
    let classIndex: PortClassIndex
    var rules: [RuleRecord] = []
    var details: [RuleDetail] = []
    var ruleBounds: [Int32] = []
    var policyMasks: [Int32] = []
    var masks: [UInt64] = []
    let maskStride: Int
    var peerWords: [UInt64] = []
    /// For peer set id and family f: where its words start in `peerWords` (at `2 id + f`).
    var peerOffsets: [Int32] = []
    private var wordOffsets: [BitSet: Int32] = [:]
    var externalPeers: [[CompiledPeer]] = []
    /// Per direction and policy: the far-end peers any of its rules can match (-1: any endpoint).
    var policyPeers: [Int32] = []
    private var policyUnions: [BitSet] = []
    private var policyPeerUnions: [PeerBits?] = []
    private var peerSets: [PeerBits] = []
    private var unionIDs: [PeerBits: Int32] = [:]
    private var maskIDs: [BitSet: Int32] = [:]
    /// The port numbers some pod declares under each name and protocol.
    private let namedPorts: [NamedPortKey: [UInt16]]
    private var maskCache: [MaskKey: BitSet] = [:]
    private var sliceMaskCache: [[Int32]: Int32] = [:]
    private var slicePeerCache: [[Int32]: Int32] = [:]
    private var peerIDs: [[Peer]: Int32] = [:]

    init(cluster: Cluster, classIndex: PortClassIndex) {
        self.index = MemberIndex(cluster: cluster)
        self.classIndex = classIndex
        var namedPorts: [NamedPortKey: Set<UInt16>] = [:]
        for pod in cluster.pods {
            for port in pod.ports {
                namedPorts[NamedPortKey(name: port.name, protocol: port.protocol), default: []].insert(port.port)
            }
        }
        self.namedPorts = namedPorts.mapValues { $0.sorted() }
        self.maskStride = (classIndex.count + 63) / 64
    }

    /// Adds one policy's rules for one direction (directions are added in order: ingress, then egress).
    mutating func add(_ policyRules: [PolicyRule], policy: Int, direction: TrafficDirection) {
        let start = Int32(rules.count)
        var union = BitSet(count: classIndex.count)
        var peerUnion: PeerBits? = PeerBits(BitSet(count: index.allPods.count))
        for rule in policyRules {
            let namedDestination = (rule.destination.ports + rule.destination.notPorts).contains {
                if case .named = $0.ports { return true }
                return false
            }
            let services = rule.destination.peers.compactMap(\.service)
            let serviceTargets = services.isEmpty ? nil : Set(services.flatMap { index.cluster.targets(of: $0) })
            let mask = serviceTargets.map { targetMask(rule, $0) } ?? classMask(rule)
            union.formUnion(mask)
            let sourcePorts = !rule.source.ports.isEmpty || !rule.source.notPorts.isEmpty
            let sourcePeers = peerID(rule.source.peers)
            let destinationPeers = peerID(rule.destination.peers)
            let far = direction == .ingress ? sourcePeers : destinationPeers
            if far < 0 { peerUnion = nil } else { peerUnion?.formUnion(peerSets[Int(far)]) }
            rules.append(
                RuleRecord(
                    policy: Int32(policy),
                    index: Int32(rule.index),
                    action: rule.action,
                    ipVersion: UInt8(rule.ipVersion?.rawValue ?? 0),
                    classMask: maskID(mask),
                    sourcePeers: sourcePeers,
                    destinationPeers: destinationPeers,
                    slowPorts: namedDestination || sourcePorts || serviceTargets != nil
                )
            )
            details.append(
                RuleDetail(
                    protocols: rule.protocols,
                    source: rule.source,
                    destination: rule.destination,
                    serviceTargets: serviceTargets
                )
            )
        }
        ruleBounds += [start, Int32(rules.count)]
        policyMasks.append(maskID(union))
        policyUnions.append(union)
        policyPeerUnions.append(peerUnion)
        policyPeers.append(peerUnion.map { unionID($0) } ?? -1)
    }

    /// The far-end peers any of the given policies can match in one direction; -1 when any endpoint can.
    mutating func slicePeers(_ policies: [Int32], direction: Int, policyCount: Int) -> Int32 {
        let key = [Int32(direction)] + policies
        if let cached = slicePeerCache[key] { return cached }
        var union: PeerBits? = PeerBits(BitSet(count: index.allPods.count))
        for policy in policies {
            guard let bits = policyPeerUnions[direction * policyCount + Int(policy)] else {
                union = nil
                break
            }
            union?.formUnion(bits)
        }
        let id = union.map { unionID($0) } ?? -1
        slicePeerCache[key] = id
        return id
    }

    /// Stores pod bit sets in the peer table (with no external peers: unions are tested for pods only).
    private mutating func unionID(_ bits: PeerBits) -> Int32 {
        if let id = unionIDs[bits] { return id }
        let id = Int32(externalPeers.count)
        store(bits)
        externalPeers.append([])
        unionIDs[bits] = id
        return id
    }

    /// The union of the class masks of the given policies in one direction (0 ingress, 1 egress).
    mutating func sliceMask(_ policies: [Int32], direction: Int, policyCount: Int) -> Int32 {
        let key = [Int32(direction)] + policies
        if let cached = sliceMaskCache[key] { return cached }
        var union = BitSet(count: classIndex.count)
        for policy in policies { union.formUnion(policyUnions[direction * policyCount + Int(policy)]) }
        let id = maskID(union)
        sliceMaskCache[key] = id
        return id
    }

    /// The classes a rule's protocol and destination ports can match. A named port counts on every port some
    /// pod declares under that name (each is a class of its own); which pod is checked at decision time. A
    /// named port in notPorts never narrows the mask, since whether it excludes depends on the pod.
    private mutating func classMask(_ rule: PolicyRule) -> BitSet {
        let key = MaskKey(protocols: rule.protocols, ports: rule.destination.ports, notPorts: rule.destination.notPorts)
        if let cached = maskCache[key] { return cached }
        var protocols = BitSet(count: classIndex.count)
        for proto in PortClassIndex.protocols where rule.protocols.matches(proto) {
            classIndex.insertClasses(of: proto, in: .all, into: &protocols)
        }
        var mask = protocols
        if !rule.destination.ports.isEmpty {
            mask = BitSet(count: classIndex.count)
            for match in rule.destination.ports { insert(match, into: &mask) }
            mask.formIntersection(protocols)
        }
        for match in rule.destination.notPorts {
            if case .named = match.ports { continue }
            var excluded = BitSet(count: classIndex.count)
            insert(match, into: &excluded)
            mask.subtract(excluded)
        }
        maskCache[key] = mask
        return mask
    }

    /// The classes of the ports a Service sends to, within the rule's protocols.
    private func targetMask(_ rule: PolicyRule, _ targets: Set<ServiceTarget>) -> BitSet {
        var mask = BitSet(count: classIndex.count)
        for target in targets where rule.protocols.matches(target.protocol) {
            classIndex.insertClasses(of: target.protocol, in: target.port.map { PortRange($0) } ?? .all, into: &mask)
        }
        return mask
    }

    private func insert(_ match: PortMatch, into mask: inout BitSet) {
        for proto in PortClassIndex.protocols where match.protocol == nil || match.protocol == proto {
            switch match.ports {
            case .any:
                classIndex.insertClasses(of: proto, in: .all, into: &mask)
            case .range(let range):
                classIndex.insertClasses(of: proto, in: range, into: &mask)
            case .named(let name):
                for port in namedPorts[NamedPortKey(name: name, protocol: proto)] ?? [] {
                    classIndex.insertClasses(of: proto, in: PortRange(port), into: &mask)
                }
            }
        }
    }

    /// The id of a class mask, storing it the first time (also used for tier slices).
    mutating func maskID(_ mask: BitSet) -> Int32 {
        if let id = maskIDs[mask] { return id }
        let id = Int32(maskIDs.count)
        masks += mask.words + Array(repeating: 0, count: maskStride - mask.words.count)
        maskIDs[mask] = id
        return id
    }

    /// -1 for no peer criterion; otherwise the id of the peers' pod bit set and external peers.
    private mutating func peerID(_ peers: [Peer]) -> Int32 {
        guard !peers.isEmpty else { return -1 }
        if let id = peerIDs[peers] { return id }
        var pods = PeerBits(BitSet(count: index.allPods.count))
        var external: [CompiledPeer] = []
        for peer in peers {
            let bits = index.peerBits(peer)
            let nets = peer.service.map { index.serviceNets($0) } ?? peer.nets
            pods.formUnion(bits)
            external.append(
                CompiledPeer(
                    memberNets: peer.members.map { index.members($0).nets },
                    notMemberNets: peer.notMembers.map { index.members($0).nets } ?? [],
                    nets: nets,
                    notNets: peer.notNets
                )
            )
        }
        let id = Int32(externalPeers.count)
        store(pods)
        externalPeers.append(external)
        peerIDs[peers] = id
        return id
    }

    /// Appends a peer's two bit sets to the table. Equal bit sets share their words (a peer with no address
    /// criterion has the same pods for both families), which keeps the table small enough for the cache.
    private mutating func store(_ bits: PeerBits) {
        peerSets.append(bits)
        for family in [IPAddress.Family.v4, .v6] {
            let set = bits[family]
            if let offset = wordOffsets[set] {
                peerOffsets.append(offset)
            } else {
                let offset = Int32(peerWords.count)
                peerWords += set.words
                wordOffsets[set] = offset
                peerOffsets.append(offset)
            }
        }
    }
}

import GatehouseCore

/// A policy set compiled against a cluster: decides any flow, allow or deny, and says why.
///
/// Compilation resolves every selector once into bit sets over the pods and lists, for each pod and
/// direction, the policies that apply to it tier by tier; a decision then only walks those lists.
public struct PolicyEngine: Sendable {
    /// The policies applying to one pod in one tier, in evaluation order.
    struct TierSlice: Sendable {
        let tier: Int
        let enforced: [Int]
        /// Enforced and staged together, as the staged ("pending") evaluation sees them; nil when no staged one.
        let pending: [Int]?
    }

    public let cluster: Cluster
    public let tiers: [Tier]
    /// Every policy in evaluation order: by tier, then by order and name.
    public let policies: [Policy]
    let ingressRules: [[CompiledRule]]
    let egressRules: [[CompiledRule]]
    /// Per direction (ingress 0, egress 1), per pod.
    let slices: [[[TierSlice]]]
    /// For each policy, the pods it applies to (by its subject, whatever its types).
    public let subjects: [BitSet]

    public init(cluster: Cluster, policySet: PolicySet) {
        self.cluster = cluster
        let tiers = policySet.tiers
        self.tiers = tiers
        let tierPosition = Dictionary(uniqueKeysWithValues: tiers.enumerated().map { ($0.element.name, $0.offset) })
        let policies = policySet.policies.sorted { lhs, rhs in
            let left = tierPosition[lhs.tier] ?? Int.max
            let right = tierPosition[rhs.tier] ?? Int.max
            return left != right ? left < right : Policy.precedes(lhs, rhs)
        }
        self.policies = policies

        var index = MemberIndex(cluster: cluster)
        var ingressRules: [[CompiledRule]] = []
        var egressRules: [[CompiledRule]] = []
        var subjects: [BitSet] = []
        for policy in policies {
            ingressRules.append(policy.ingress.map { PolicyEngine.compile($0, index: &index) })
            egressRules.append(policy.egress.map { PolicyEngine.compile($0, index: &index) })
            subjects.append(index.members(policy.subject).pods)
        }
        self.ingressRules = ingressRules
        self.egressRules = egressRules
        self.subjects = subjects

        var slices: [[[TierSlice]]] = []
        for direction in [TrafficDirection.ingress, .egress] {
            var perPod: [[(tier: Int, enforced: [Int], staged: [Int])]] = Array(
                repeating: [],
                count: cluster.pods.count
            )
            for (policyIndex, policy) in policies.enumerated() where policy.types.contains(direction) {
                if policy.stagedAction == .delete { continue }
                let tier = tierPosition[policy.tier] ?? 0
                for pod in subjects[policyIndex].members {
                    if perPod[pod].last?.tier != tier { perPod[pod].append((tier, [], [])) }
                    if policy.isStaged {
                        perPod[pod][perPod[pod].count - 1].staged.append(policyIndex)
                    } else {
                        perPod[pod][perPod[pod].count - 1].enforced.append(policyIndex)
                    }
                }
            }
            slices.append(
                perPod.map { podSlices in
                    podSlices.map { slice in
                        TierSlice(
                            tier: slice.tier,
                            enforced: slice.enforced,
                            pending: slice.staged.isEmpty ? nil : (slice.enforced + slice.staged).sorted()
                        )
                    }
                }
            )
        }
        self.slices = slices
    }

    private static func compile(_ rule: PolicyRule, index: inout MemberIndex) -> CompiledRule {
        CompiledRule(
            index: rule.index,
            action: rule.action,
            protocols: rule.protocols,
            ipVersion: rule.ipVersion,
            source: compile(rule.source, index: &index),
            destination: compile(rule.destination, index: &index)
        )
    }

    private static func compile(_ entity: EntityMatch, index: inout MemberIndex) -> CompiledEntity {
        guard entity.constrainsPeer else {
            return CompiledEntity(
                anyPeer: true,
                pods: index.allPods,
                peers: [],
                ports: entity.ports,
                notPorts: entity.notPorts
            )
        }
        var pods = BitSet(count: index.allPods.count)
        var peers: [CompiledPeer] = []
        for peer in entity.peers {
            var bits = index.allPods
            var memberNets: [CIDR]?
            var notMemberNets: [CIDR] = []
            if let members = peer.members {
                let resolved = index.members(members)
                bits.formIntersection(resolved.pods)
                memberNets = resolved.nets
            }
            if let notMembers = peer.notMembers {
                let resolved = index.members(notMembers)
                bits.subtract(resolved.pods)
                notMemberNets = resolved.nets
            }
            if let nets = peer.nets { bits.formIntersection(index.podsIn(nets)) }
            if !peer.notNets.isEmpty { bits.subtract(index.podsIn(peer.notNets)) }
            pods.formUnion(bits)
            peers.append(
                CompiledPeer(
                    memberNets: memberNets,
                    notMemberNets: notMemberNets,
                    nets: peer.nets,
                    notNets: peer.notNets
                )
            )
        }
        return CompiledEntity(anyPeer: false, pods: pods, peers: peers, ports: entity.ports, notPorts: entity.notPorts)
    }
}

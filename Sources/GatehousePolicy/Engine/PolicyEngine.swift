import GatehouseCore

/// A policy set compiled against a cluster: decides any flow, allow or deny, and says why.
///
/// Compilation resolves every selector once into bit sets over the pods, every rule's protocol and
/// destination-port criteria into a bit set over port classes, and lists for each pod and direction the
/// policies that apply to it, tier by tier. A decision then walks those lists testing bits, in flat
/// tables with no allocation.
public struct PolicyEngine: Sendable {
    /// The policies applying to one pod in one tier: ranges of `policyLists`.
    struct SliceRecord: Sendable {
        let tier: Int32
        let enforcedStart: Int32
        let enforcedEnd: Int32
        /// Enforced and staged together, as the staged ("pending") evaluation sees them; -1 when no staged one.
        let pendingStart: Int32
        let pendingEnd: Int32
        /// The union of the policies' class masks (enforced, and with staged ones): a flow outside it
        /// matches no rule of the tier, so the tier's default action applies at once.
        let enforcedMask: Int32
        let pendingMask: Int32
        /// Likewise the far-end pods any rule can match (-1: any endpoint); another pod skips the tier.
        let enforcedPeers: Int32
        let pendingPeers: Int32
    }

    public let cluster: Cluster
    public let tiers: [Tier]
    /// Every policy in evaluation order: by tier, then by order and name.
    public let policies: [Policy]
    /// For each policy, the pods it applies to (by its subject, whatever its types).
    public let subjects: [BitSet]
    /// For traces, made once: each policy's reference and `file:line`, and each rule record's `file:line`.
    let references: [PolicyReference]
    let policySources: [String?]
    let ruleSources: [String?]

    let classIndex: PortClassIndex
    /// Per tier: whether its default action is Deny.
    let tierDenies: [Bool]
    /// Per pod: which address families it has (1 IPv4, 2 IPv6, 3 both, 0 none).
    let podFamilies: [UInt8]
    let rules: [RuleRecord]
    let details: [RuleDetail]
    /// For direction d (0 ingress, 1 egress) and policy p: rules `[ruleBounds[2(dP+p)], ruleBounds[2(dP+p)+1])`.
    let ruleBounds: [Int32]
    /// For direction d and policy p: the union of its rules' class masks, to skip it in one test.
    let policyMasks: [Int32]
    /// For direction d and policy p: the far-end pods its rules can match (-1: any endpoint).
    let policyPeers: [Int32]
    let masks: [UInt64]
    let maskStride: Int
    let peerWords: [UInt64]
    /// Per peer set and family (`2 id + family`): the offset of its pod bits in `peerWords`.
    let peerOffsets: [Int32]
    let externalPeers: [[CompiledPeer]]
    /// For direction d and pod i (slot dN+i): slices `[sliceRanges[2 slot], sliceRanges[2 slot + 1])`. Pods to
    /// which the same policies apply (replicas, mostly) share their slices.
    let sliceRanges: [Int32]
    let sliceRecords: [SliceRecord]
    let policyLists: [Int32]

    public init(cluster: Cluster, policySet: PolicySet) {
        self.cluster = cluster
        let tiers = policySet.tiers
        self.tiers = tiers
        self.tierDenies = tiers.map { $0.defaultAction == .deny }
        self.podFamilies = cluster.pods.map { pod in
            pod.addresses.reduce(UInt8(0)) { $0 | ($1.family == .v4 ? 1 : 2) }
        }
        let tierPosition = Dictionary(uniqueKeysWithValues: tiers.enumerated().map { ($0.element.name, $0.offset) })
        let policies = policySet.policies.sorted { lhs, rhs in
            let left = tierPosition[lhs.tier] ?? Int.max
            let right = tierPosition[rhs.tier] ?? Int.max
            return left != right ? left < right : Policy.precedes(lhs, rhs)
        }
        self.policies = policies
        self.references = policies.map(\.reference)
        self.policySources = policies.map { $0.location?.fileAndLine }
        var ruleSources: [String?] = []
        for direction in [TrafficDirection.ingress, .egress] {
            for policy in policies {
                ruleSources += policy.rules(direction).map { $0.location?.fileAndLine }
            }
        }
        self.ruleSources = ruleSources

        var builder = TableBuilder(
            cluster: cluster,
            classIndex: PortClassIndex(policySets: [policySet], cluster: cluster)
        )
        var subjects: [BitSet] = []
        for policy in policies { subjects.append(builder.index.members(policy.subject).pods) }
        for direction in [TrafficDirection.ingress, .egress] {
            for (position, policy) in policies.enumerated() {
                builder.add(policy.rules(direction), policy: position, direction: direction)
            }
        }
        self.subjects = subjects
        var sliceRanges: [Int32] = []
        var sliceRecords: [SliceRecord] = []
        var policyLists: [Int32] = []
        for (directionIndex, direction) in [TrafficDirection.ingress, .egress].enumerated() {
            var perPod: [[(tier: Int, enforced: [Int32], staged: [Int32])]] = Array(
                repeating: [],
                count: cluster.pods.count
            )
            for (position, policy) in policies.enumerated() where policy.types.contains(direction) {
                if policy.stagedAction == .delete { continue }
                let tier = tierPosition[policy.tier] ?? 0
                for pod in subjects[position].members {
                    if perPod[pod].last?.tier != tier { perPod[pod].append((tier, [], [])) }
                    if policy.isStaged {
                        perPod[pod][perPod[pod].count - 1].staged.append(Int32(position))
                    } else {
                        perPod[pod][perPod[pod].count - 1].enforced.append(Int32(position))
                    }
                }
            }
            var shared: [[Int32]: (Int32, Int32)] = [:]
            for podSlices in perPod {
                // The pod's slices as one flat key: tier, enforced policies, a separator, staged policies.
                var key: [Int32] = []
                for slice in podSlices {
                    key.append(Int32(slice.tier))
                    key += slice.enforced
                    key.append(-1)
                    key += slice.staged
                    key.append(-2)
                }
                if let (start, end) = shared[key] {
                    sliceRanges += [start, end]
                    continue
                }
                let start = Int32(sliceRecords.count)
                for slice in podSlices {
                    let enforcedStart = Int32(policyLists.count)
                    policyLists += slice.enforced
                    let enforcedEnd = Int32(policyLists.count)
                    var pendingStart: Int32 = -1
                    var pendingEnd: Int32 = -1
                    let pending = (slice.enforced + slice.staged).sorted()
                    if !slice.staged.isEmpty {
                        pendingStart = Int32(policyLists.count)
                        policyLists += pending
                        pendingEnd = Int32(policyLists.count)
                    }
                    sliceRecords.append(
                        SliceRecord(
                            tier: Int32(slice.tier),
                            enforcedStart: enforcedStart,
                            enforcedEnd: enforcedEnd,
                            pendingStart: pendingStart,
                            pendingEnd: pendingEnd,
                            enforcedMask: builder.sliceMask(
                                slice.enforced,
                                direction: directionIndex,
                                policyCount: policies.count
                            ),
                            pendingMask: builder.sliceMask(
                                pending,
                                direction: directionIndex,
                                policyCount: policies.count
                            ),
                            enforcedPeers: builder.slicePeers(
                                slice.enforced,
                                direction: directionIndex,
                                policyCount: policies.count
                            ),
                            pendingPeers: builder.slicePeers(
                                pending,
                                direction: directionIndex,
                                policyCount: policies.count
                            )
                        )
                    )
                }
                sliceRanges += [start, Int32(sliceRecords.count)]
                shared[key] = (start, Int32(sliceRecords.count))
            }
        }
        self.classIndex = builder.classIndex
        self.rules = builder.rules
        self.details = builder.details
        self.ruleBounds = builder.ruleBounds
        self.policyMasks = builder.policyMasks
        self.policyPeers = builder.policyPeers
        self.masks = builder.masks
        self.maskStride = builder.maskStride
        self.peerWords = builder.peerWords
        self.peerOffsets = builder.peerOffsets
        self.externalPeers = builder.externalPeers
        self.sliceRanges = sliceRanges
        self.sliceRecords = sliceRecords
        self.policyLists = policyLists
    }
}

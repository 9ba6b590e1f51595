/// The kinds of policy the engine reads, named as Calico's flow API (Goldmane `PolicyKind`) names them.
public enum PolicyKind: String, Sendable, Hashable, Codable, CaseIterable {
    case kubernetesNetworkPolicy = "NetworkPolicy"
    case calicoNetworkPolicy = "CalicoNetworkPolicy"
    case globalNetworkPolicy = "GlobalNetworkPolicy"
    case stagedNetworkPolicy = "StagedNetworkPolicy"
    case stagedGlobalNetworkPolicy = "StagedGlobalNetworkPolicy"
    case stagedKubernetesNetworkPolicy = "StagedKubernetesNetworkPolicy"
    case adminNetworkPolicy = "AdminNetworkPolicy"
    case baselineAdminNetworkPolicy = "BaselineAdminNetworkPolicy"
    case clusterNetworkPolicy = "ClusterNetworkPolicy"
    /// A gateway policy of callers towards models (`gatehouse.yaml`'s `access`), evaluated by the same engine.
    case modelAccessPolicy = "ModelAccessPolicy"

    public var isStaged: Bool { enforcedKind != self }

    /// The kind a staged policy would become when enforced; the kind itself for the others.
    public var enforcedKind: PolicyKind {
        switch self {
        case .stagedNetworkPolicy: return .calicoNetworkPolicy
        case .stagedGlobalNetworkPolicy: return .globalNetworkPolicy
        case .stagedKubernetesNetworkPolicy: return .kubernetesNetworkPolicy
        default: return self
        }
    }
}

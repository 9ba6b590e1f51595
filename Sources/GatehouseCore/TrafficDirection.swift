/// Which side of a flow a policy rule list guards: a pod's incoming or outgoing connections.
public enum TrafficDirection: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case ingress = "Ingress"
    case egress = "Egress"

    public var description: String { rawValue }
}

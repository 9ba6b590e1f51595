import GatehouseCore

/// Calico `protocol` / `notProtocol`.
public struct ProtocolMatch: Sendable, Hashable {
    public let only: IPProtocol?
    public let except: IPProtocol?

    public init(only: IPProtocol? = nil, except: IPProtocol? = nil) {
        self.only = only
        self.except = except
    }

    public static let any = ProtocolMatch()

    public func matches(_ proto: IPProtocol) -> Bool {
        (only == nil || only == proto) && except != proto
    }
}

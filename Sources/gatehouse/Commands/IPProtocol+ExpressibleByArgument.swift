import ArgumentParser
import GatehouseCore

extension IPProtocol: ExpressibleByArgument {
    /// `TCP`, `UDP` or `SCTP` on the command line, in any case.
    public init?(argument: String) {
        guard let proto = IPProtocol(name: argument), proto == .tcp || proto == .udp || proto == .sctp else {
            return nil
        }
        self = proto
    }

    public static var allValueStrings: [String] { ["TCP", "UDP", "SCTP"] }
}

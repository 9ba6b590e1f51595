import Foundation
import GatehouseStore

/// The API or admin key a connection's last request authenticated with. The next request on the same
/// connection that sends the same `Authorization` value is identified without parsing, hashing or a
/// directory lookup, but only while nothing the identity rests on changed: the key directory (a revocation
/// or any other change reloads it), the configuration, and the key's expiry, all checked on every use.
/// A connection remembers only what its own client sent.
struct RememberedKey: Sendable {
    let authorization: String
    let kind: StoredKey.Kind
    let identity: Identity
    let expiresAt: Date?
    let directoryVersion: Int64
    let runtime: GatewayRuntime

    /// The remembered identity, if `authorization` is the remembered value and it still holds.
    func identity(
        for authorization: String,
        kind: StoredKey.Kind,
        runtime: GatewayRuntime,
        directoryVersion: Int64,
        now: Date
    ) -> Identity? {
        guard kind == self.kind, runtime === self.runtime, directoryVersion == self.directoryVersion,
            expiresAt.map({ now < $0 }) ?? true, authorization == self.authorization
        else { return nil }
        return identity
    }
}

import Foundation
import GatehouseCore
import GatehouseStore
import NIOHTTP1

/// Turns a request's credentials into an identity. Exactly one bearer credential or a verified client
/// certificate; anything else, or anything odd, is "not authenticated", with no fallback path.
struct Authenticator: Sendable {
    enum Result: Sendable {
        case identified(Identity)
        /// A bearer token whose signature is checked asynchronously, before the request goes anywhere.
        case token(String, JWTVerifier.Header, JWTVerifier)
        case rejected
    }

    let keys: KeyDirectory

    /// A key is remembered on `connection` (see `RememberedKey`).
    func authenticate(
        headers: HTTPHeaders,
        connection: inout ConnectionFacts,
        runtime: GatewayRuntime,
        kind: StoredKey.Kind,
        now: Date
    ) -> Result {
        let authorizations = headers["authorization"]
        guard authorizations.count <= 1 else { return .rejected }
        if let authorization = authorizations.first {
            let version = keys.version
            if let identity = connection.rememberedKey?.identity(
                for: authorization,
                kind: kind,
                runtime: runtime,
                directoryVersion: version,
                now: now
            ) {
                return .identified(identity)
            }
            guard let token = Self.bearerToken(Substring(authorization)) else { return .rejected }
            if kind == .admin || token.hasPrefix(KeySecret.apiPrefix) || token.hasPrefix(KeySecret.adminPrefix) {
                guard kind == .admin || runtime.configuration.apiKeys,
                    let entry = keys.entry(for: token, kind: kind, now: now)
                else { return .rejected }
                connection.rememberedKey = RememberedKey(
                    authorization: authorization,
                    kind: kind,
                    identity: entry.identity,
                    expiresAt: entry.key.expiresAt,
                    directoryVersion: version,
                    runtime: runtime
                )
                return .identified(entry.identity)
            }
            guard kind == .api, let header = JWTVerifier.header(of: token),
                let verifier = Self.verifier(for: token, runtime: runtime), verifier.accepts(header)
            else { return .rejected }
            return .token(String(token), header, verifier)
        }
        guard kind == .api else { return .rejected }
        for san in connection.certificateNames {
            let text = san.description
            if let rule = runtime.configuration.certificateIdentities.first(where: { $0.matches(text) }),
                let name = rule.identityName(for: san)
            {
                return .identified(Identity(name: name, method: .clientCertificate, labels: rule.labels))
            }
        }
        return .rejected
    }

    /// The token of `Bearer <token>`: visible ASCII only, no quotes or spaces, bounded in length.
    static func bearerToken(_ value: Substring) -> Substring? {
        let bytes = value.utf8
        guard bytes.count > 7, bytes.count <= JWTVerifier.maximumTokenLength + 7 else { return nil }
        // The scheme compared byte by byte, ASCII letters in any case (no Unicode case mapping).
        let scheme = bytes.prefix(7).lazy.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        guard scheme.elementsEqual("bearer ".utf8) else { return nil }
        let start = bytes.index(bytes.startIndex, offsetBy: 7)
        guard
            bytes[start...].allSatisfy({
                $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'")
            })
        else { return nil }
        return value[start...]
    }

    /// The verifier of the issuer the token's (still unverified) `iss` names.
    private static func verifier(for token: Substring, runtime: GatewayRuntime) -> JWTVerifier? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: parts[1]),
            let payload = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let issuer = payload["iss"] as? String
        else { return nil }
        return runtime.verifiers.first { $0.settings.issuer == issuer }
    }
}

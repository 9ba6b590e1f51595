import AsyncHTTPClient
import Foundation
import GatehouseCore
import JWTKit
import NIOCore
import NIOHTTP1
import Synchronization

/// Verifies bearer tokens of one issuer. Before the signature is checked, the header must name a
/// pinned algorithm and a `kid` present in the issuer's JWKS (jwt-kit alone would fall back to a
/// default key for an unknown `kid`); an unknown `kid` triggers one JWKS refresh, at most every
/// `jwksMinimumRefresh`. `iss`, `aud` and `exp` are required; `exp`, `nbf` and `iat` allow `leeway`.
final class JWTVerifier: Sendable {
    /// Tokens longer than this are refused before parsing.
    static let maximumTokenLength = 8192

    private struct KeySet: Sendable {
        let collection: JWTKeyCollection
        let kids: Set<String>
        let fileModified: Date?
    }

    let settings: JWTIssuerSettings
    private let keySet = Mutex<KeySet?>(nil)
    private let lastRefresh = Mutex<ContinuousClock.Instant?>(nil)
    private let httpClient: HTTPClient

    init(settings: JWTIssuerSettings, httpClient: HTTPClient) {
        self.settings = settings
        self.httpClient = httpClient
    }

    /// The header fields read before verification.
    struct Header: Decodable {
        let alg: String?
        let kid: String?
        let typ: String?
    }

    /// Reads the unverified header of a compact JWT, or nil when the token is not one.
    static func header(of token: Substring) -> Header? {
        guard token.utf8.count <= maximumTokenLength else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        guard let data = Data(base64URLEncoded: parts[0]) else { return nil }
        return try? JSONDecoder().decode(Header.self, from: data)
    }

    /// Whether a token with this header could be this issuer's: its algorithm is pinned here.
    func accepts(_ header: Header) -> Bool {
        guard let alg = header.alg, let kid = header.kid, !kid.isEmpty else { return false }
        return settings.algorithms.contains(alg)
    }

    /// The identity in a valid token, or nil. Never throws: every failure is "not authenticated".
    func identify(token: String, header: Header, now: Date) async -> Identity? {
        guard accepts(header), let kid = header.kid else { return nil }
        var keys = await currentKeys()
        if keys.map({ !$0.kids.contains(kid) }) ?? true {
            keys = await refreshedKeys()
        }
        guard let keys, keys.kids.contains(kid) else { return nil }
        guard let claims = try? await keys.collection.verify(token, as: TokenClaims.self) else { return nil }
        return identity(from: claims, now: now)
    }

    func identity(from claims: TokenClaims, now: Date) -> Identity? {
        let leeway = Double(settings.leeway.components.seconds)
        let time = now.timeIntervalSince1970
        guard claims.string("iss") == settings.issuer else { return nil }
        guard claims.audiences.contains(where: settings.audiences.contains) else { return nil }
        guard let exp = claims.number("exp"), time <= exp + leeway else { return nil }
        if let nbf = claims.number("nbf"), time < nbf - leeway { return nil }
        if let iat = claims.number("iat"), iat > time + leeway { return nil }
        guard let subject = claims.string(settings.subjectClaim), !subject.isEmpty else { return nil }
        var labels = Labels(settings.labels)
        for (claim, labelKey) in settings.claimLabels.sorted(by: { $0.key < $1.key }) {
            switch claims.values[claim] {
            case .string(let text) where Labels.problem(key: labelKey, value: text) == nil:
                labels[labelKey] = text
            case .number(let number):
                let whole = number == number.rounded() ? Int64(exactly: number) : nil
                labels[labelKey] = whole.map(String.init) ?? String(number)
            case .bool(let flag):
                labels[labelKey] = String(flag)
            case .strings(let items):
                for item in items where Labels.problem(key: "\(labelKey)/\(item)", value: "true") == nil {
                    labels["\(labelKey)/\(item)"] = "true"
                }
            default:
                continue
            }
        }
        // Named `issuer#subject`: a token's subject never takes the name (and so the grants, limits and
        // budgets) of an API key, whose names have no `#`, nor of another issuer's subject, since an
        // issuer has no `#` (an OIDC issuer has no fragment; the configuration refuses one).
        return Identity(name: "\(settings.issuer)#\(subject)", method: .jwt, labels: labels)
    }

    // MARK: Keys

    private func currentKeys() async -> KeySet? {
        if let keys = keySet.withLock({ $0 }) {
            guard let file = settings.jwksFile, Self.modified(file) != keys.fileModified else { return keys }
        }
        return await refreshedKeys(force: true)
    }

    /// Loads the JWKS again, unless that was done less than `jwksMinimumRefresh` ago.
    private func refreshedKeys(force: Bool = false) async -> KeySet? {
        let now = ContinuousClock.now
        let allowed = lastRefresh.withLock { last -> Bool in
            if !force, let last, now - last < settings.jwksMinimumRefresh { return false }
            last = now
            return true
        }
        guard allowed else { return keySet.withLock { $0 } }
        guard let fresh = await loadKeys() else { return keySet.withLock { $0 } }
        keySet.withLock { $0 = fresh }
        return fresh
    }

    private func loadKeys() async -> KeySet? {
        let text: String
        var modified: Date?
        if let file = settings.jwksFile {
            guard let data = FileManager.default.contents(atPath: file) else { return nil }
            text = String(decoding: data, as: UTF8.self)
            modified = Self.modified(file)
        } else if let url = settings.jwksURL {
            do {
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "accept", value: "application/json")
                let response = try await httpClient.execute(request, timeout: .seconds(5))
                guard response.status == .ok else { return nil }
                let body = try await response.body.collect(upTo: 1 << 20)
                text = String(buffer: body)
            } catch {
                return nil
            }
        } else {
            return nil
        }
        guard let jwks = try? JSONDecoder().decode(JWKS.self, from: Data(text.utf8)) else { return nil }
        let collection = JWTKeyCollection()
        var kids: Set<String> = []
        for key in jwks.keys {
            guard let kid = key.keyIdentifier?.string else { continue }
            if (try? await collection.add(jwk: key, isDefault: false)) != nil { kids.insert(kid) }
        }
        return KeySet(collection: collection, kids: kids, fileModified: modified)
    }

    private static func modified(_ file: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date
    }
}

extension Data {
    /// Decodes base64url without padding, as JWTs use it.
    init?(base64URLEncoded text: Substring) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}

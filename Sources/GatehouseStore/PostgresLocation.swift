import Foundation

/// A PostgreSQL database and how to reach it: the parts of a libpq connection URI the store uses.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// libpq's `sslmode`, with its meaning: `prefer` (libpq's default) and `allow` try TLS without
    /// checking the server; `require` insists on TLS without checking; `verify-ca` checks the chain;
    /// `verify-full` checks the chain and that the certificate names the host.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var tls: TLSMode
    /// The CA certificates (PEM) that sign the server's certificate; the system's roots when nil.
    public var rootCertificates: URL?
    /// Never shown: `description` leaves it out, and it is not `Hashable`'s business.
    public var password: String?

    init(_ text: String, passwordFile: String?, environment: [String: String], base: URL) throws(StoreError) {
        let shown = Self.redacted(text)
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw StoreError(.invalid, "the store \(shown) is not a URL of the form postgres://user@host:port/database")
        }
        if components.password != nil {
            throw StoreError(
                .invalid,
                "the store \(shown) holds a password, which would show in ps, logs and shell history; "
                    + "give it in a password file (passwordFile:, --store-password-file) or PGPASSWORD"
            )
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError(.invalid, "the store \(shown) names no user (postgres://USER@host/database)")
        }
        self.host = host
        self.user = user
        port = components.port ?? 5432
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : path
        tls = .prefer
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    let modes = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw StoreError(.invalid, "the store \(shown): sslmode \"\(value)\" is not one of \(modes)")
                }
                tls = mode
            case "sslrootcert":
                rootCertificates = URL(filePath: value, relativeTo: base).standardizedFileURL
            default:
                throw StoreError(
                    .invalid,
                    "the store \(shown): the parameter \"\(item.name)\" is not known (sslmode and sslrootcert are)"
                )
            }
        }
        if rootCertificates != nil && (tls == .disable || tls == .allow || tls == .prefer) {
            throw StoreError(
                .invalid,
                "the store \(shown) gives sslrootcert with sslmode \(tls.rawValue), which never checks the server; "
                    + "use sslmode=verify-full"
            )
        }
        if let passwordFile {
            let url = URL(filePath: passwordFile, relativeTo: base)
            guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
                throw StoreError(.invalid, "the store's password file \(url.path) cannot be read")
            }
            password = text.trimmingCharacters(in: .newlines)
        } else {
            password = environment["PGPASSWORD"]
        }
    }

    public var description: String {
        var text = "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
        if let rootCertificates { text += "&sslrootcert=\(rootCertificates.path)" }
        return text
    }

    public static func == (lhs: PostgresLocation, rhs: PostgresLocation) -> Bool {
        lhs.description == rhs.description
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    /// `text` with anything between "://" and "@" past a colon (a password) masked, for error messages.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
            let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }
}

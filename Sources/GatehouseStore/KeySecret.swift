import Crypto
import Foundation

/// The text of an API or admin key: a recognisable prefix, a public id and a 256-bit secret, all in
/// base62 so that the key survives shells, headers and secret scanners unchanged.
///
/// `ghk_` + 8-character id + `_` + 43-character secret (API keys); `gha_` for admin keys.
public struct KeySecret: Sendable, Hashable {
    public static let idLength = 8
    public static let secretLength = 43
    public static let apiPrefix = "ghk_"
    public static let adminPrefix = "gha_"
    /// The longest key text worth looking at; anything longer is rejected before any lookup.
    public static let maximumLength = 4 + idLength + 1 + secretLength

    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    public let kind: StoredKey.Kind
    public let id: String
    /// The whole key text, to be shown once and never stored.
    public let text: String

    /// A new random key.
    public static func generate(kind: StoredKey.Kind) -> KeySecret {
        var generator = SystemRandomNumberGenerator()
        let id = randomBase62(count: idLength, using: &generator)
        let secret = randomBase62(count: secretLength, using: &generator)
        let prefix = kind == .api ? apiPrefix : adminPrefix
        return KeySecret(kind: kind, id: id, text: prefix + id + "_" + secret)
    }

    /// Parses presented key text strictly: the exact shape or nothing. Never logs, never throws.
    public static func parse(_ text: Substring) -> KeySecret? {
        let utf8 = text.utf8
        guard utf8.count == maximumLength else { return nil }
        let kind: StoredKey.Kind
        if text.hasPrefix(apiPrefix) {
            kind = .api
        } else if text.hasPrefix(adminPrefix) {
            kind = .admin
        } else {
            return nil
        }
        let body = utf8.dropFirst(4)
        for (offset, byte) in body.enumerated() {
            if offset == idLength {
                guard byte == UInt8(ascii: "_") else { return nil }
            } else if !isBase62(byte) {
                return nil
            }
        }
        let id = String(decoding: body.prefix(idLength), as: UTF8.self)
        return KeySecret(kind: kind, id: id, text: String(text))
    }

    /// SHA-256 of the key text: what the store keeps.
    public var digest: [UInt8] { Self.digest(of: text) }

    static func digest(of text: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// Compares two digests in time independent of where they differ.
    public static func digestsEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }

    private static func isBase62(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"):
            return true
        default:
            return false
        }
    }

    private static func randomBase62(count: Int, using generator: inout SystemRandomNumberGenerator) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            // Rejection sampling keeps every character equally likely.
            let value = UInt8.random(in: 0...255, using: &generator)
            if value < 248 { bytes.append(alphabet[Int(value % 62)]) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

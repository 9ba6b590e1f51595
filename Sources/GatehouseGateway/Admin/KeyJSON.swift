import Foundation
import GatehouseCore
import GatehouseStore
import NIOCore

/// The JSON shapes of keys in the admin API and in `gatehouse keys ... -o json`.
public enum KeyJSON {
    struct Creation {
        let name: String
        let labels: [String: String]
        let expiresAt: Date?
    }

    /// One key; `secret` only in the answer that creates it.
    public static func render(_ key: StoredKey, secret: String?, now: Date = Date()) -> String {
        var fields: [String] = [
            "\"id\":\(GatewayError.quoted(key.id))",
            "\"name\":\(GatewayError.quoted(key.name))",
            "\"labels\":{\(key.labels.sorted { $0.key < $1.key }.map { "\(GatewayError.quoted($0.key)):\(GatewayError.quoted($0.value))" }.joined(separator: ","))}",
            "\"status\":\(GatewayError.quoted(key.status(at: now)))",
            "\"createdAt\":\(GatewayError.quoted(key.createdAt.ISO8601Format()))",
        ]
        if let expiresAt = key.expiresAt {
            fields.append("\"expiresAt\":\(GatewayError.quoted(expiresAt.ISO8601Format()))")
        }
        if let revokedAt = key.revokedAt {
            fields.append("\"revokedAt\":\(GatewayError.quoted(revokedAt.ISO8601Format()))")
        }
        if let secret { fields.append("\"key\":\(GatewayError.quoted(secret))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    public static func list(_ keys: [StoredKey], now: Date = Date()) -> String {
        "{\"items\":[" + keys.map { render($0, secret: nil, now: now) }.joined(separator: ",") + "]}"
    }

    /// `{"name": "...", "labels": {...}, "expiresAt": "2027-01-01T00:00:00Z" | "expiresIn": "30d"}`.
    static func creation(from body: ByteBuffer) throws -> Creation {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        else {
            throw GatewayError.badRequest("invalid_json", "send a JSON object with name, labels and an optional expiry")
        }
        guard let name = object["name"] as? String else {
            throw GatewayError.badRequest("missing_name", "the key needs a \"name\" string")
        }
        var labels: [String: String] = [:]
        if let raw = object["labels"] {
            guard let map = raw as? [String: String] else {
                throw GatewayError.badRequest("invalid_labels", "\"labels\" must map strings to strings")
            }
            labels = map
        }
        var expiresAt: Date?
        if let text = object["expiresAt"] as? String {
            guard let date = ExpiryParser.date(text, now: Date()) else {
                throw GatewayError.badRequest("invalid_expiry", "\"expiresAt\" must be an RFC 3339 time")
            }
            expiresAt = date
        } else if let text = object["expiresIn"] as? String {
            guard let date = ExpiryParser.date(text, now: Date()) else {
                throw GatewayError.badRequest("invalid_expiry", "\"expiresIn\" must be a duration such as 12h or 30d")
            }
            expiresAt = date
        }
        return Creation(name: name, labels: labels, expiresAt: expiresAt)
    }
}

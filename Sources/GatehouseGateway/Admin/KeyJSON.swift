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
        let quota: KeyQuota
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
        if !key.quota.isEmpty { fields.append("\"quota\":\(quota(key.quota))") }
        if let secret { fields.append("\"key\":\(GatewayError.quoted(secret))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// `{"requestsPerMinute":60,"budgetUSD":"5.000000","budgetPeriod":"month"}` (fields set only).
    static func quota(_ quota: KeyQuota) -> String {
        var fields: [String] = []
        if let value = quota.requestsPerMinute { fields.append("\"requestsPerMinute\":\(value)") }
        if let value = quota.tokensPerMinute { fields.append("\"tokensPerMinute\":\(value)") }
        if let value = quota.maxConcurrent { fields.append("\"maxConcurrent\":\(value)") }
        if let budget = quota.budget {
            fields.append("\"budgetUSD\":\(GatewayError.quoted(budget.dollars(decimals: 6)))")
            fields.append("\"budgetPeriod\":\(GatewayError.quoted((quota.budgetPeriod ?? .month).rawValue))")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    public static func list(_ keys: [StoredKey], now: Date = Date()) -> String {
        "{\"items\":[" + keys.map { render($0, secret: nil, now: now) }.joined(separator: ",") + "]}"
    }

    /// `{"name": "...", "labels": {...}, "expiresAt": "2027-01-01T00:00:00Z" | "expiresIn": "30d"}`.
    static func creation(from body: ByteBuffer) throws -> Creation {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        else {
            throw GatewayError.badRequest(.invalidJSON, "send a JSON object with name, labels and an optional expiry")
        }
        guard let name = object["name"] as? String else {
            throw GatewayError.badRequest(.missingName, "the key needs a \"name\" string")
        }
        var labels: [String: String] = [:]
        if let raw = object["labels"] {
            guard let map = raw as? [String: String] else {
                throw GatewayError.badRequest(.invalidLabels, "\"labels\" must map strings to strings")
            }
            labels = map
        }
        var expiresAt: Date?
        if let text = object["expiresAt"] as? String {
            guard let date = TimeExpression.date(text, now: Date()) else {
                throw GatewayError.badRequest(.invalidExpiry, "\"expiresAt\" must be an RFC 3339 time")
            }
            expiresAt = date
        } else if let text = object["expiresIn"] as? String {
            guard let date = TimeExpression.date(text, now: Date()) else {
                throw GatewayError.badRequest(.invalidExpiry, "\"expiresIn\" must be a duration such as 12h or 30d")
            }
            expiresAt = date
        }
        var quota = KeyQuota()
        for (field, path) in [
            ("requestsPerMinute", \KeyQuota.requestsPerMinute), ("tokensPerMinute", \KeyQuota.tokensPerMinute),
            ("maxConcurrent", \KeyQuota.maxConcurrent),
        ] {
            guard let raw = object[field] else { continue }
            guard let value = raw as? Int, value > 0, !(raw is Bool) else {
                throw GatewayError.badRequest(.invalidQuota, "\"\(field)\" must be a positive whole number")
            }
            quota[keyPath: path] = value
        }
        if let raw = object["budgetUSD"] {
            guard let text = (raw as? String) ?? (raw as? NSNumber).map({ "\($0)" }), let budget = Cost(dollars: text)
            else {
                throw GatewayError.badRequest(
                    .invalidQuota,
                    "\"budgetUSD\" must be a dollar amount such as \"25.00\""
                )
            }
            quota.budget = budget
            quota.budgetPeriod = .month
        }
        if let raw = object["budgetPeriod"] {
            guard let period = (raw as? String).flatMap(BudgetPeriod.init(rawValue:)), quota.budget != nil else {
                throw GatewayError.badRequest(
                    .invalidQuota,
                    "\"budgetPeriod\" must be day, week, month or total, with a budgetUSD"
                )
            }
            quota.budgetPeriod = period
        }
        return Creation(name: name, labels: labels, expiresAt: expiresAt, quota: quota)
    }
}

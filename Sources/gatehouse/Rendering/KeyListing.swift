import Foundation
import GatehouseGateway
import GatehouseStore
import Yams

/// Keys as a table, JSON (the admin API's shape) or YAML.
enum KeyListing {
    static func render(_ keys: [StoredKey], format: OutputOptions.Format, single: Bool = false) throws -> String {
        let now = Date()
        switch format {
        case .table:
            return TableText.render(
                header: ["NAME", "ID", "STATUS", "LABELS", "CREATED", "EXPIRES"],
                rows: keys.map { key in
                    [
                        key.name, key.id, key.status(at: now),
                        key.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                        key.createdAt.ISO8601Format(), key.expiresAt?.ISO8601Format() ?? "never",
                    ]
                }
            )
        case .json:
            return single && keys.count == 1
                ? KeyJSON.render(keys[0], secret: nil, now: now) : KeyJSON.list(keys, now: now)
        case .yaml:
            let json =
                single && keys.count == 1
                ? KeyJSON.render(keys[0], secret: nil, now: now) : KeyJSON.list(keys, now: now)
            return try yaml(fromJSON: json)
        }
    }

    static func yaml(fromJSON json: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return try Yams.dump(object: object, sortKeys: true).trimmingCharacters(in: .newlines)
    }
}

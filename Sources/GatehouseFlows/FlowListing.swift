import Foundation
import GatehouseCore
import GatehouseStore

/// The JSON shape of flows, the same from `gatehouse flows -o json` and the admin API: each item is
/// the flow record with its stored `id` (live items have none).
public struct FlowListing: Encodable, Sendable {
    public struct Item: Encodable, Sendable {
        private enum Key: String, CodingKey { case id }
        public let id: Int64?
        public let flow: FlowRecord

        public init(id: Int64?, flow: FlowRecord) {
            self.id = id
            self.flow = flow
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encodeIfPresent(id, forKey: .id)
            try flow.encode(to: encoder)
        }
    }

    public let items: [Item]

    public init(_ flows: [StoredFlow]) {
        items = flows.map { Item(id: $0.id, flow: $0.flow) }
    }

    public init(items: [Item]) {
        self.items = items
    }

    /// The encoder every flow JSON goes through: RFC 3339 times, sorted keys.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

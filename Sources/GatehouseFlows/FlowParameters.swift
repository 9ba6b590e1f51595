import Foundation
import GatehouseCore

/// A flow query as named parameters, the same for `gatehouse flows` flags and the admin API's query
/// string (`/v1/flows?from-namespace=web&verdict=deny&since=1h`), in the spirit of `hubble observe`.
/// A parameter given twice is ORed; different parameters are ANDed.
public struct FlowParameters: Sendable {
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public let parameter: String
        public let reason: String
        public var description: String { "\(parameter): \(reason)" }
    }

    /// Every parameter understood, for help texts and errors.
    public static let names = [
        "from-namespace", "to-namespace", "namespace", "from-pod", "to-pod", "pod", "from-label", "to-label", "label",
        "from-identity", "identity", "to-model", "model", "from-kind", "to-kind", "verdict", "policy", "reason",
        "reporter", "protocol", "port", "route", "since", "until", "last", "after", "follow",
    ]

    public var query: FlowFilter = FlowFilter()
    /// How many flows to list (`last`), 100 unless given.
    public var limit = 100
    /// List what was stored after this row id (`after`).
    public var after: Int64?
    /// Keep the answer open and send new flows as they come (`follow`).
    public var follow = false

    public init() {}

    public init(_ pairs: [(String, String)], now: Date = Date()) throws(Problem) {
        for (name, value) in pairs { try apply(name, value, now: now) }
    }

    private mutating func apply(_ name: String, _ value: String, now: Date) throws(Problem) {
        func fail(_ reason: String) -> Problem { Problem(parameter: name, reason: reason) }
        func selector() throws(Problem) -> Selector {
            do {
                return try Selector(parsingLabelFilter: value)
            } catch {
                throw fail("\(error)")
            }
        }
        func kind() throws(Problem) -> FlowPeer.Kind {
            guard let kind = FlowPeer.Kind(rawValue: value.lowercased()) else {
                throw fail("expected one of \(FlowPeer.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
        func time() throws(Problem) -> Date {
            guard let date = TimeExpression.pastDate(value, now: now) else {
                throw fail("expected a duration ago (30s, 90m, 12h, 7d) or an RFC 3339 time, found \"\(value)\"")
            }
            return date
        }
        guard !value.isEmpty || name == "follow" else { throw fail("needs a value") }
        switch name {
        case "from-namespace": query.sourceNamespaces.insert(value)
        case "to-namespace": query.destinationNamespaces.insert(value)
        case "namespace": query.namespaces.insert(value)
        case "from-pod": query.sourceNames.append(value)
        case "to-pod": query.destinationNames.append(value)
        case "pod": query.names.append(value)
        case "from-label": query.sourceSelector = combined(query.sourceSelector, try selector())
        case "to-label": query.destinationSelector = combined(query.destinationSelector, try selector())
        case "label": query.selector = combined(query.selector, try selector())
        case "from-identity", "identity":
            query.sourceKinds.insert(.identity)
            query.sourceNames.append(value)
        case "to-model", "model":
            query.destinationKinds.insert(.model)
            query.destinationNames.append(value)
        case "from-kind": query.sourceKinds.insert(try kind())
        case "to-kind": query.destinationKinds.insert(try kind())
        case "verdict":
            // Hubble's verdict names are understood too.
            switch value.lowercased() {
            case "allow", "forwarded": query.actions.insert(.allow)
            case "deny", "dropped": query.actions.insert(.deny)
            case "pass": query.actions.insert(.pass)
            default: throw fail("expected allow, deny or pass (or Hubble's FORWARDED, DROPPED)")
            }
        case "policy": query.policies.append(value)
        case "reason": query.reasons.insert(value)
        case "reporter":
            guard let reporter = FlowReporter(rawValue: value.lowercased()) else {
                throw fail("expected src, dst or gateway")
            }
            query.reporters.insert(reporter)
        case "protocol": query.protocols.insert(value.uppercased())
        case "port":
            guard let port = UInt16(value), port > 0 else { throw fail("expected a port number 1-65535") }
            query.ports.insert(port)
        case "route": query.routes.insert(value)
        case "since": query.since = try time()
        case "until": query.until = try time()
        case "last":
            // 0 lists nothing: with `follow`, only what happens from now on.
            guard let count = Int(value), (0...100_000).contains(count) else { throw fail("expected 0 to 100000") }
            limit = count
        case "after":
            guard let id = Int64(value), id >= 0 else { throw fail("expected a flow id") }
            after = id
        case "follow":
            guard ["", "true", "1"].contains(value.lowercased()) || ["false", "0"].contains(value.lowercased()) else {
                throw fail("expected true or false")
            }
            follow = ["", "true", "1"].contains(value.lowercased())
        default:
            throw fail("unknown parameter; known: \(Self.names.joined(separator: ", "))")
        }
    }

    /// A label parameter given twice: either selector may match (values of one parameter are ORed).
    private func combined(_ existing: Selector?, _ new: Selector) -> Selector {
        existing.map { .or([$0, new]) } ?? new
    }
}

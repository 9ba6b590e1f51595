import Foundation
import GatehousePolicy

/// One line of `policy watch`: what changed in the cluster, the flows it opened and closed, and the lint
/// findings it brought or resolved.
struct WatchEvent: Encodable {
    struct FlowChange: Encodable {
        let from: String
        let to: String
        let `protocol`: String
        let ports: String
        /// What decides the flow now.
        let reason: String
    }

    struct Findings: Encodable {
        let added: [LintFinding]
        let resolved: [LintFinding]
    }

    enum Change: String, Encodable {
        /// Every kind listed: the state the next events are compared with.
        case synced = "SYNCED"
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// A kind listed again after 410 Gone.
        case relisted = "RELISTED"
        /// The change cannot be loaded: the last good state stays in force.
        case invalid = "INVALID"
        /// Pods, namespaces or service accounts that changed together (`objects` names them).
        case changes = "CHANGES"
    }

    let type: Change
    let time: Date
    let kind: String?
    let namespace: String?
    let name: String?
    let resourceVersion: String?
    /// With `CHANGES`: every object that changed (`ADDED Pod ai/x`).
    let objects: [String]?
    /// The flows opened and closed, the first `--max-flows` of each.
    let opened: [FlowChange]
    let closed: [FlowChange]
    /// How many flows were opened and closed in all.
    let openedTotal: Int
    let closedTotal: Int
    let lint: Findings
    /// Flows checked for this change.
    let checkedFlows: Int
    /// With `SYNCED`: the objects read; with `CHANGES`: the objects changed.
    let objectCount: Int?
    /// With `INVALID`: the errors.
    let errors: [String]?

    var subject: String {
        guard let kind else { return "\(objectCount ?? 0) objects" }
        return "\(kind) \(namespace.map { "\($0)/" } ?? "")\(name ?? "")"
    }

    /// The table form: a headline, then one line per opened or closed flow and per finding.
    var text: String {
        let clock = WatchEvent.clock.string(from: time)
        var lines: [String] = []
        switch type {
        case .synced:
            lines.append("\(clock)  SYNCED    \(objectCount ?? 0) objects; \(lint.added.count) lint finding(s)")
        case .invalid:
            lines.append("\(clock)  INVALID   \(subject): not loaded, the last good state stays in force")
            lines += (errors ?? []).map { "    error  \($0)" }
        default:
            let padded = type.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            lines.append("\(clock)  \(padded) \(subject): \(openedTotal) flow(s) opened, \(closedTotal) closed")
        }
        for object in objects ?? [] { lines.append("    object  \(object)") }
        for change in opened { lines.append("    opened  \(change.line)") }
        if openedTotal > opened.count { lines.append("    opened  … and \(openedTotal - opened.count) more") }
        for change in closed { lines.append("    closed  \(change.line)") }
        if closedTotal > closed.count { lines.append("    closed  … and \(closedTotal - closed.count) more") }
        if type != .synced {
            for finding in lint.added { lines.append("    lint +  \(WatchEvent.line(finding))") }
            for finding in lint.resolved { lines.append("    lint -  \(WatchEvent.line(finding))") }
        }
        return lines.joined(separator: "\n")
    }

    /// One line of JSON, keys sorted, times in RFC 3339.
    static func json(_ event: WatchEvent) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(event), as: UTF8.self)
    }

    static func line(_ finding: LintFinding) -> String {
        "\(finding.severity.rawValue.uppercased()) \(finding.code): \(finding.object)\(finding.field.map { " \($0)" } ?? ""): \(finding.message)"
    }

    private static let clock: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "HH:mm:ss"
        return formatter
    }()
}

extension WatchEvent.FlowChange {
    fileprivate var line: String { "\(from) -> \(to) \(self.protocol)/\(ports): \(reason)" }
}

import Foundation
import GatehouseCore

/// The stored text of an audit entry: JSON with keys in sorted order, dates as Unix seconds, money as
/// exact dollar strings, absent fields left out. Written by hand because it runs once per request;
/// `JSONDecoder` reads it back.
enum AuditEntryJSON {
    static func encode(_ entry: AuditEntry) -> String {
        var text: [UInt8] = [UInt8(ascii: "{")]
        text.reserveCapacity(512)
        var first = true
        func key(_ name: StaticString) {
            if !first { text.append(UInt8(ascii: ",")) }
            first = false
            text.append(UInt8(ascii: "\""))
            text.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            text.append(contentsOf: "\":".utf8)
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONText.appendQuoted(value.utf8, to: &text)
        }
        func number(_ name: StaticString, _ value: (some CustomStringConvertible)?) {
            guard let value else { return }
            key(name)
            text.append(contentsOf: value.description.utf8)
        }
        // Sorted by key.
        string("authentication", entry.authentication)
        string("client", entry.client)
        if let cost = entry.cost { string("cost", cost.exactDollars) }
        string("decision", entry.decision)
        if let findings = entry.findings {
            key("findings")
            text.append(UInt8(ascii: "["))
            for (index, finding) in findings.enumerated() {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(finding.utf8, to: &text)
            }
            text.append(UInt8(ascii: "]"))
        }
        string("identity", entry.identity)
        if let labels = entry.identityLabels {
            key("identityLabels")
            text.append(UInt8(ascii: "{"))
            for (index, label) in labels.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(label.key.utf8, to: &text)
                text.append(UInt8(ascii: ":"))
                JSONText.appendQuoted(label.value.utf8, to: &text)
            }
            text.append(UInt8(ascii: "}"))
        }
        string("keyID", entry.keyID)
        number("latencyMilliseconds", entry.latencyMilliseconds.map(rounded))
        string("model", entry.model)
        string("reason", entry.reason)
        string("requestID", entry.requestID)
        string("route", entry.route)
        number("status", entry.status)
        number("time", entry.time.timeIntervalSince1970)
        number("timeToFirstTokenMilliseconds", entry.timeToFirstTokenMilliseconds.map(rounded))
        number("tokensEstimated", entry.tokensEstimated)
        number("tokensIn", entry.tokensIn)
        number("tokensOut", entry.tokensOut)
        string("trace", entry.trace)
        string("upstream", entry.upstream)
        text.append(UInt8(ascii: "}"))
        return String(decoding: text, as: UTF8.self)
    }

    /// Milliseconds to the microsecond.
    private static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

import Foundation
import GatehouseCore

/// The stored text of an audit entry: JSON with keys in sorted order, dates as Unix seconds, money as
/// exact dollar strings, absent fields left out. Written by hand because it runs once per request;
/// `JSONDecoder` reads it back.
enum AuditEntryJSON {
    static func encode(_ entry: AuditEntry) -> String {
        var object = ObjectWriter()
        // Sorted by key.
        object.string("authentication", entry.authentication)
        object.string("budget", entry.budget)
        object.string("client", entry.client)
        if let cost = entry.cost { object.string("cost", cost.exactDollars) }
        object.string("decision", entry.decision.rawValue)
        if let findings = entry.findings {
            object.key("findings")
            object.bytes.append(UInt8(ascii: "["))
            for (index, finding) in findings.enumerated() {
                if index > 0 { object.bytes.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(finding.description.utf8, to: &object.bytes)
            }
            object.bytes.append(UInt8(ascii: "]"))
        }
        object.string("identity", entry.identity)
        if let labels = entry.identityLabels {
            object.key("identityLabels")
            object.bytes.append(UInt8(ascii: "{"))
            // Most callers carry one label or two: no sorted copy is made for one.
            let sorted = labels.count < 2 ? Array(labels) : labels.sorted(by: { $0.key < $1.key })
            for (index, label) in sorted.enumerated() {
                if index > 0 { object.bytes.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(label.key.utf8, to: &object.bytes)
                object.bytes.append(UInt8(ascii: ":"))
                JSONText.appendQuoted(label.value.utf8, to: &object.bytes)
            }
            object.bytes.append(UInt8(ascii: "}"))
        }
        object.string("keyID", entry.keyID)
        object.number("latencyMilliseconds", entry.latencyMilliseconds.map(rounded))
        object.string("model", entry.model)
        object.string("reason", entry.reason?.code)
        object.string("requestID", entry.requestID)
        object.string("route", entry.route)
        object.number("status", entry.status)
        object.number("time", entry.time.timeIntervalSince1970)
        object.number("timeToFirstTokenMilliseconds", entry.timeToFirstTokenMilliseconds.map(rounded))
        object.number("tokensEstimated", entry.tokensEstimated)
        object.number("tokensIn", entry.tokensIn)
        object.number("tokensOut", entry.tokensOut)
        object.string("trace", entry.trace)
        object.string("upstream", entry.upstream)
        object.bytes.append(UInt8(ascii: "}"))
        return String(decoding: object.bytes, as: UTF8.self)
    }

    /// A JSON object written member by member (a struct's methods, not closures over the buffer: this
    /// runs once per request).
    private struct ObjectWriter {
        var bytes: [UInt8]
        private var first = true

        init() {
            bytes = [UInt8(ascii: "{")]
            bytes.reserveCapacity(768)
        }

        mutating func key(_ name: StaticString) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            bytes.append(UInt8(ascii: "\""))
            bytes.append(UInt8(ascii: ":"))
        }

        mutating func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONText.appendQuoted(value.utf8, to: &bytes)
        }

        mutating func number(_ name: StaticString, _ value: (some CustomStringConvertible)?) {
            guard let value else { return }
            key(name)
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// Milliseconds to the microsecond.
    private static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

extension AuditEntry {
    /// The record's stored text (`AuditEntryJSON`), for a caller to encode on its own thread what the
    /// ledger's one thread would otherwise encode for every request.
    public var storedText: String { AuditEntryJSON.encode(self) }
}

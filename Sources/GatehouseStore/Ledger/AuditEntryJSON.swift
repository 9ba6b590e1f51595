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
            quote(value, into: &text)
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
                quote(finding, into: &text)
            }
            text.append(UInt8(ascii: "]"))
        }
        string("identity", entry.identity)
        if let labels = entry.identityLabels {
            key("identityLabels")
            text.append(UInt8(ascii: "{"))
            for (index, label) in labels.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                quote(label.key, into: &text)
                text.append(UInt8(ascii: ":"))
                quote(label.value, into: &text)
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

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func quote(_ value: String, into text: inout [UInt8]) {
        text.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                text.append(UInt8(ascii: "\\"))
                text.append(byte)
            case UInt8(ascii: "\n"): text.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): text.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): text.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                text.append(contentsOf: "\\u00".utf8)
                text.append(hexDigits[Int(byte >> 4)])
                text.append(hexDigits[Int(byte & 0xF)])
            default: text.append(byte)
            }
        }
        text.append(UInt8(ascii: "\""))
    }
}

import GatehouseCore
import GatehouseGuard
import NIOCore

/// Applies guardrail policies to a request body before it is forwarded: every string value at every
/// depth (each message of each role, prompts, embedding inputs, tool arguments) is scanned; a finding
/// blocks the request, is redacted in place, or is only recorded, as each policy says.
package enum PromptGuard {
    package enum Verdict {
        case pass(findings: [GuardrailFinding])
        /// The body with findings replaced by `[REDACTED:<rule>]`.
        case redacted(ByteBuffer, findings: [GuardrailFinding])
        case blocked(rules: [String], findings: [GuardrailFinding])

        package var findings: [GuardrailFinding] {
            switch self {
            case .pass(let findings), .redacted(_, let findings), .blocked(_, let findings): findings
            }
        }
    }

    package static func check(_ body: ByteBuffer, policies: [GuardrailPolicy]) -> Verdict {
        let bytes = Array(body.readableBytesView)
        let values = JSONFields.stringValues(in: bytes[...])
        var texts = values.map { String(decoding: $0.text, as: UTF8.self) }
        var changed = Array(repeating: false, count: values.count)
        var findings: [GuardrailFinding] = []
        for policy in policies {
            var blockedRules: [String] = []
            for index in texts.indices {
                let found = policy.scanner.scan(texts[index])
                guard !found.isEmpty else { continue }
                for finding in found.prefix(max(0, GuardrailPolicy.mostFindingsRecorded - findings.count)) {
                    findings.append(
                        GuardrailFinding(
                            direction: .prompt,
                            detector: finding.rule.name,
                            // The value's range starts at its opening quote.
                            offset: values[index].range.lowerBound + 1 + finding.range.lowerBound
                        )
                    )
                }
                switch policy.prompts {
                case .block: blockedRules.append(contentsOf: found.map(\.rule.name))
                case .redact:
                    texts[index] = GuardScanner.redact(texts[index], findings: found)
                    changed[index] = true
                case .log: break
                }
            }
            if !blockedRules.isEmpty {
                var unique: [String] = []
                for rule in blockedRules where !unique.contains(rule) { unique.append(rule) }
                return .blocked(rules: unique, findings: findings)
            }
        }
        guard changed.contains(true) else { return .pass(findings: findings) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 64)
        var cursor = 0
        for (index, value) in values.enumerated() where changed[index] {
            output.append(contentsOf: bytes[cursor..<value.range.lowerBound])
            output.append(contentsOf: JSONFields.quoted(texts[index].utf8))
            cursor = value.range.upperBound
        }
        output.append(contentsOf: bytes[cursor...])
        return .redacted(ByteBuffer(bytes: output), findings: findings)
    }
}

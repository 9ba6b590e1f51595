import GatehouseCore
import GatehouseGuard

/// Applies guardrail policies to an answer: whole (buffered) or as a stream of text deltas per choice,
/// where each policy's `GuardStream` holds back what could still be the start of a match, so nothing
/// is released before it was checked. Plain state, one per answer.
package final class AnswerGuard {
    private struct Stage {
        let action: GuardAction
        var stream: GuardStream
    }

    private let policies: [GuardrailPolicy]
    private var streams: [Int: [Stage]] = [:]
    private(set) var findings: [GuardrailFinding] = []
    /// A `block` policy found something: the answer ends here.
    private(set) var blocked = false

    package init(policies: [GuardrailPolicy]) {
        self.policies = policies
    }

    /// Whether a non-streamed answer must be held whole (something may change it).
    var changesAnswers: Bool { policies.contains { $0.answers != .log } }

    /// The next delta of choice `choice`'s text; returns what may be sent now, or nil when it is blocked.
    func feed(_ delta: String, choice: Int) -> String? {
        guard !blocked else { return nil }
        var stages =
            streams[choice]
            ?? policies.map { policy in
                Stage(
                    action: policy.answers,
                    stream: GuardStream(scanner: policy.scanner, mode: policy.answers == .redact ? .redact : .detect)
                )
            }
        defer { streams[choice] = stages }
        var text = delta
        for index in stages.indices {
            let release = stages[index].stream.feed(text)
            guard record(release.findings, action: stages[index].action) else { return nil }
            text = release.text
        }
        return text
    }

    /// The end of choice `choice`'s text: releases what is still held (nil when blocked).
    func finish(choice: Int) -> String? {
        guard !blocked, var stages = streams.removeValue(forKey: choice) else { return blocked ? nil : "" }
        var carry = ""
        for index in stages.indices {
            var text = ""
            if !carry.isEmpty {
                let release = stages[index].stream.feed(carry)
                guard record(release.findings, action: stages[index].action) else { return nil }
                text = release.text
            }
            let rest = stages[index].stream.finish()
            guard record(rest.findings, action: stages[index].action) else { return nil }
            carry = text + rest.text
        }
        return carry
    }

    /// A whole answer's text: what to send instead (redacted), or nil when it is blocked.
    func check(_ text: String) -> String? {
        var text = text
        for policy in policies {
            let found = policy.scanner.scan(text)
            guard record(found, action: policy.answers) else { return nil }
            if policy.answers == .redact && !found.isEmpty { text = GuardScanner.redact(text, findings: found) }
        }
        return text
    }

    /// Keeps the findings; false when they block the answer.
    private func record(_ found: [GuardFinding], action: GuardAction) -> Bool {
        guard !found.isEmpty else { return true }
        let room = max(0, GuardrailPolicy.mostFindingsRecorded - findings.count)
        findings.append(
            contentsOf: found.prefix(room).map {
                GuardrailFinding(direction: .answer, detector: $0.rule.name, offset: $0.range.lowerBound)
            }
        )
        if action == .block { blocked = true }
        return !blocked
    }
}

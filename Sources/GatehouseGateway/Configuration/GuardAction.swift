/// What a guardrail does when it finds something.
public enum GuardAction: String, Sendable, Hashable {
    /// Refuse the prompt (400 `guardrail_blocked`), or end the answer there (`finish_reason` `content_filter`).
    case block
    /// Replace what was found with `[REDACTED:<detector>]` before it goes on.
    case redact
    /// Let it through; record the findings.
    case log
}

import Foundation
import GatehouseCore
import GatehouseStore
import NIOHTTP1

extension GatewayError {
    /// A rate or concurrency limit: retry after the given time. (OpenAI's SDKs retry 429s by themselves.)
    static func rateLimited(_ limit: String, retryAfter: Int, headers: [(String, String)]) -> GatewayError {
        GatewayError(
            .tooManyRequests,
            type: "rate_limit_error",
            code: .rateLimitExceeded,
            message: "limit reached: \(limit); retry in \(retryAfter)s",
            headers: [("retry-after", String(retryAfter))] + headers
        )
    }

    /// A request asking for more than a cap allows. 400, not 429: asking again does not help.
    static func capExceeded(_ field: String, asked: Int, cap: Int, quota: String) -> GatewayError {
        badRequest(.limitExceeded, "\(field) is \(asked); quota \(quota) allows at most \(cap)")
    }

    static func budgetExceeded(_ refusal: BudgetRefusal, needed: Cost) -> GatewayError {
        var headers: [(String, String)] = []
        var when = ""
        if let resetsAt = refusal.resetsAt {
            let seconds = max(Int(resetsAt - Int64(Date().timeIntervalSince1970)), 1)
            headers.append(("retry-after", String(seconds)))
            when = "; it renews in \(seconds)s"
        }
        return GatewayError(
            .tooManyRequests,
            type: "insufficient_quota",
            code: .budgetExceeded,
            message:
                "the budget \(refusal.scope) has \(refusal.remaining) of \(refusal.limit) left; this request may cost up to \(needed)\(when)",
            headers: headers
        )
    }

    /// A prompt a guardrail refused; names the detectors, never what they found.
    static func guardrailBlocked(_ rules: [String]) -> GatewayError {
        GatewayError(
            .badRequest,
            type: "invalid_request_error",
            code: .guardrailBlocked,
            message: "the request was refused by a guardrail: it contains \(rules.joined(separator: ", "))"
        )
    }

    /// The guardrails could not run on a body (the thread pool stopped, a redacted body unreadable): it
    /// is not forwarded unscanned.
    static let guardrailUnavailable = GatewayError(
        .serviceUnavailable,
        type: "api_error",
        code: .guardrailUnavailable,
        message: "the request could not be inspected, so it was not forwarded; retry later",
        headers: [("retry-after", "1")]
    )

    static let compressedBody = GatewayError(
        .unsupportedMediaType,
        type: "invalid_request_error",
        code: .compressedBody,
        message: "guardrails inspect every request: send the body uncompressed"
    )

    /// The limits replicas share cannot be checked: the store is out of reach (or too slow to answer
    /// within a grant's lease). Nothing is forwarded unaccounted.
    static let quotasUnavailable = GatewayError(
        .serviceUnavailable,
        type: "api_error",
        code: .ledgerUnavailable,
        message: "the limits shared with the other replicas cannot be checked right now, so the request was "
            + "not forwarded; retry later",
        headers: [("retry-after", "1")]
    )

    static let ledgerUnavailable = GatewayError(
        .serviceUnavailable,
        type: "api_error",
        code: .ledgerUnavailable,
        message: "spending cannot be recorded right now, so the request was not forwarded; retry later",
        headers: [("retry-after", "1")]
    )
}

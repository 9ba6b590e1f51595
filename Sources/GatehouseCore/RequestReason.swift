/// Why a request was refused, or why its answer was not the model's whole answer. The raw value is the
/// one spelling that error bodies (`error.code`), audit records, log lines, flow records and metrics
/// share; a set of reasons known at build time keeps the metrics' `reason` label bounded.
public enum RequestReason: Sendable, Hashable {
    // The request as sent.
    case malformedRequest
    case methodNotSupported
    case invalidTarget
    case tooManyHeaders
    case invalidHeader
    case invalidHost
    case invalidFraming
    case expectationFailed
    case bodyTooLarge
    case requestTimeout
    case notFound
    case methodNotAllowed
    case invalidJSON
    case missingModel
    case duplicateField
    /// A field that would choose the upstream (`api_base`, `base_url` ...).
    case routingFieldRefused
    case invalidStream
    case invalidMaxTokens
    case invalidMaxCompletionTokens
    case invalidN
    case invalidBestOf
    /// llama.cpp's `n_predict`, refused in any form.
    case invalidNPredict
    case invalidMessages
    case invalidTools
    case invalidInput
    case invalidStreamOptions
    case compressedBody
    // The caller and what it may do.
    /// The error code of every 401; the audit record says which of the two below it was.
    case invalidAPIKey
    case notAuthenticated
    case tokenNotValid
    case modelNotFound
    case modelAccessDenied
    case guardrailBlocked
    case guardrailUnavailable
    case limitExceeded
    case rateLimitExceeded
    case budgetExceeded
    case ledgerUnavailable
    case shuttingDown
    /// A budget hold charged for a gateway that stopped without settling it: its requests in flight at
    /// their worst case.
    case unsettledHoldCharged
    // The answer.
    /// The caller closed the connection before its answer was complete (recorded with status 499).
    case clientClosed
    case upstreamUnavailable
    case upstreamCredentialRefused
    case upstreamErrorStatus
    case upstreamTimeout
    case upstreamUnreadable
    case upstreamIdentityRefused
    case upstreamTLSTimeout
    case upstreamTLSFailed
    case upstreamConnectFailed
    case streamInterrupted
    case outputOverrun
    // The admin API.
    case missingName
    case invalidLabels
    case invalidExpiry
    case invalidQuota
    case invalidParameter
    /// The object exists already (a key's name).
    case conflict
    case storeUnavailable
    case internalError
    /// A reason an earlier version wrote in its own words, read back as it was stored (audit records are
    /// never rewritten: their hashes cover the text).
    case recorded(String)

    /// Every reason of this version, in the order above.
    public static let known: [RequestReason] = [
        .malformedRequest, .methodNotSupported, .invalidTarget, .tooManyHeaders, .invalidHeader, .invalidHost,
        .invalidFraming, .expectationFailed, .bodyTooLarge, .requestTimeout, .notFound, .methodNotAllowed,
        .invalidJSON, .missingModel, .duplicateField, .routingFieldRefused, .invalidStream, .invalidMaxTokens,
        .invalidMaxCompletionTokens, .invalidN, .invalidBestOf, .invalidNPredict, .invalidMessages, .invalidTools,
        .invalidInput, .invalidStreamOptions, .compressedBody, .invalidAPIKey, .notAuthenticated, .tokenNotValid,
        .modelNotFound, .modelAccessDenied, .guardrailBlocked, .guardrailUnavailable, .limitExceeded,
        .rateLimitExceeded, .budgetExceeded, .ledgerUnavailable, .shuttingDown, .unsettledHoldCharged, .clientClosed,
        .upstreamUnavailable,
        .upstreamCredentialRefused, .upstreamErrorStatus, .upstreamTimeout, .upstreamUnreadable,
        .upstreamIdentityRefused, .upstreamTLSTimeout, .upstreamTLSFailed, .upstreamConnectFailed,
        .streamInterrupted, .outputOverrun, .missingName, .invalidLabels, .invalidExpiry, .invalidQuota,
        .invalidParameter, .conflict, .storeUnavailable, .internalError,
    ]

    private static let byCode = Dictionary(uniqueKeysWithValues: known.map { ($0.code, $0) })

    /// The stable machine code: `model_access_denied`, `budget_exceeded`, `upstream_timeout` ...
    public var code: String {
        switch self {
        case .malformedRequest: return "malformed_request"
        case .methodNotSupported: return "method_not_supported"
        case .invalidTarget: return "invalid_target"
        case .tooManyHeaders: return "too_many_headers"
        case .invalidHeader: return "invalid_header"
        case .invalidHost: return "invalid_host"
        case .invalidFraming: return "invalid_framing"
        case .expectationFailed: return "expectation_failed"
        case .bodyTooLarge: return "body_too_large"
        case .requestTimeout: return "request_timeout"
        case .notFound: return "not_found"
        case .methodNotAllowed: return "method_not_allowed"
        case .invalidJSON: return "invalid_json"
        case .missingModel: return "missing_model"
        case .duplicateField: return "duplicate_field"
        case .routingFieldRefused: return "routing_field_refused"
        case .invalidStream: return "invalid_stream"
        case .invalidMaxTokens: return "invalid_max_tokens"
        case .invalidMaxCompletionTokens: return "invalid_max_completion_tokens"
        case .invalidN: return "invalid_n"
        case .invalidBestOf: return "invalid_best_of"
        case .invalidNPredict: return "invalid_n_predict"
        case .invalidMessages: return "invalid_messages"
        case .invalidTools: return "invalid_tools"
        case .invalidInput: return "invalid_input"
        case .invalidStreamOptions: return "invalid_stream_options"
        case .compressedBody: return "compressed_body"
        case .invalidAPIKey: return "invalid_api_key"
        case .notAuthenticated: return "not_authenticated"
        case .tokenNotValid: return "token_not_valid"
        case .modelNotFound: return "model_not_found"
        case .modelAccessDenied: return "model_access_denied"
        case .guardrailBlocked: return "guardrail_blocked"
        case .guardrailUnavailable: return "guardrail_unavailable"
        case .limitExceeded: return "limit_exceeded"
        case .rateLimitExceeded: return "rate_limit_exceeded"
        case .budgetExceeded: return "budget_exceeded"
        case .ledgerUnavailable: return "ledger_unavailable"
        case .shuttingDown: return "shutting_down"
        case .unsettledHoldCharged: return "unsettled_hold_charged"
        case .clientClosed: return "client_closed"
        case .upstreamUnavailable: return "upstream_unavailable"
        case .upstreamCredentialRefused: return "upstream_credential_refused"
        case .upstreamErrorStatus: return "upstream_error_status"
        case .upstreamTimeout: return "upstream_timeout"
        case .upstreamUnreadable: return "upstream_unreadable"
        case .upstreamIdentityRefused: return "upstream_identity_refused"
        case .upstreamTLSTimeout: return "upstream_tls_timeout"
        case .upstreamTLSFailed: return "upstream_tls_failed"
        case .upstreamConnectFailed: return "upstream_connect_failed"
        case .streamInterrupted: return "stream_interrupted"
        case .outputOverrun: return "output_overrun"
        case .missingName: return "missing_name"
        case .invalidLabels: return "invalid_labels"
        case .invalidExpiry: return "invalid_expiry"
        case .invalidQuota: return "invalid_quota"
        case .invalidParameter: return "invalid_parameter"
        case .conflict: return "conflict"
        case .storeUnavailable: return "store_unavailable"
        case .internalError: return "internal"
        case .recorded(let text): return text
        }
    }

    /// The reason a stored code names; text no version of this enum wrote is kept as `recorded`.
    public init(code: String) {
        self = Self.byCode[code] ?? .recorded(code)
    }
}

extension RequestReason: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(code: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

extension RequestReason: CustomStringConvertible {
    public var description: String { code }
}

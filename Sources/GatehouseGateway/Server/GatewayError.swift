import GatehouseCore
import NIOCore
import NIOHTTP1

/// An answer that ends a request early: an HTTP status and an OpenAI-style JSON error body that names
/// the reason and the request id, never internals.
public struct GatewayError: Error, Sendable, Hashable {
    public let status: HTTPResponseStatus
    /// OpenAI's `error.type`: `invalid_request_error`, `authentication_error`, `permission_error` ...
    public let type: String
    /// The stable machine code: `invalid_api_key`, `model_not_found`, `body_too_large` ...
    public let code: RequestReason
    public let message: String
    /// Extra response headers (`allow` on 405).
    public let headers: [(String, String)]
    /// Whether the connection must close after the answer (framing is in doubt, or the body was not read).
    public let closesConnection: Bool

    public init(
        _ status: HTTPResponseStatus,
        type: String,
        code: RequestReason,
        message: String,
        headers: [(String, String)] = [],
        closesConnection: Bool = false
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.headers = headers
        self.closesConnection = closesConnection
    }

    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(status.code)
        hasher.combine(code)
    }

    /// `{"error": {"message", "type", "code", "request_id"}}`.
    public func body(requestID: String) -> String {
        "{\"error\":{\"message\":\(Self.quoted(message)),\"type\":\(Self.quoted(type)),\"code\":\(Self.quoted(code.code)),"
            + "\"request_id\":\(Self.quoted(requestID))}}"
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String { JSONText.quoted(text) }

    // MARK: The answers the gateway gives

    static func badRequest(_ code: RequestReason, _ message: String, closes: Bool = false) -> GatewayError {
        GatewayError(.badRequest, type: "invalid_request_error", code: code, message: message, closesConnection: closes)
    }

    static let unauthenticated = GatewayError(
        .unauthorized,
        type: "authentication_error",
        code: .invalidAPIKey,
        message: "a valid API key, token or client certificate is required",
        headers: [("www-authenticate", "Bearer realm=\"gatehouse\"")]
    )

    static func forbidden(_ message: String) -> GatewayError {
        GatewayError(.forbidden, type: "permission_error", code: .modelAccessDenied, message: message)
    }

    static let notFound = GatewayError(
        .notFound,
        type: "invalid_request_error",
        code: .notFound,
        message: "no such route"
    )

    static func methodNotAllowed(_ allowed: String) -> GatewayError {
        GatewayError(
            .methodNotAllowed,
            type: "invalid_request_error",
            code: .methodNotAllowed,
            message: "use \(allowed) on this route",
            headers: [("allow", allowed)]
        )
    }

    static func bodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            .payloadTooLarge,
            type: "invalid_request_error",
            code: .bodyTooLarge,
            message: "the request body is larger than \(limit) bytes",
            closesConnection: true
        )
    }

    static func timeout(_ message: String) -> GatewayError {
        GatewayError(
            .requestTimeout,
            type: "invalid_request_error",
            code: .requestTimeout,
            message: message,
            closesConnection: true
        )
    }

    static func upstreamUnavailable(_ message: String) -> GatewayError {
        GatewayError(.badGateway, type: "api_error", code: .upstreamUnavailable, message: message)
    }

    static let shuttingDown = GatewayError(
        .serviceUnavailable,
        type: "api_error",
        code: .shuttingDown,
        message: "the gateway is shutting down; retry",
        closesConnection: true
    )
}

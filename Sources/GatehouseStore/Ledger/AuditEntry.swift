import Foundation
import GatehouseCore

/// One request as the audit trail keeps it: who, what, the decision and why, what it used and cost.
/// Never a key, a token, a prompt or an answer; guardrail findings carry detector and position only.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var time: Date
    public var requestID: String
    public var identity: String?
    public var identityLabels: [String: String]?
    /// `api-key`, `jwt`, `certificate`, or nil when the caller was not identified.
    public var authentication: String?
    /// The key's public id (never the key).
    public var keyID: String?
    public var client: String?
    public var route: String
    public var model: String?
    public var upstream: String?
    /// `allow` or `deny`.
    public var decision: Verdict
    public var reason: RequestReason?
    /// For a budget hold charged after its gateway stopped: the budget's scope.
    public var budget: String?
    /// The access policy trace, compact.
    public var trace: String?
    public var findings: [GuardrailFinding]?
    public var tokensIn: Int?
    public var tokensOut: Int?
    public var tokensEstimated: Bool?
    public var cost: Cost?
    public var latencyMilliseconds: Double?
    public var timeToFirstTokenMilliseconds: Double?
    public var status: Int

    public init(time: Date, requestID: String, route: String, decision: Verdict, status: Int) {
        self.time = time
        self.requestID = requestID
        self.route = route
        self.decision = decision
        self.status = status
    }
}

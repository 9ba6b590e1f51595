import GatehouseCore
import GatehouseGuard

/// Guardrails for the identities a selector picks: which detectors, and what to do on prompts and on
/// answers. Every policy that selects a caller applies, in order.
public struct GuardrailPolicy: Sendable {
    public var name: String
    public var selector: Selector
    /// Compiled once, when the configuration is read.
    public var scanner: GuardScanner
    public var prompts: GuardAction = .block
    public var answers: GuardAction = .redact

    /// The most findings a request's record keeps in each direction: a flood of matches is blocked or
    /// redacted whole, but its record stays small.
    static let mostFindingsRecorded = 64

    public init(name: String, selector: Selector, scanner: GuardScanner) {
        self.name = name
        self.selector = selector
        self.scanner = scanner
    }
}

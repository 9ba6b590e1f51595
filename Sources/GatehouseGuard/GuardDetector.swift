/// A built-in guardrail; the raw value names it in configuration, redaction markers and audit records.
public enum GuardDetector: String, Sendable, Hashable, CaseIterable {
    /// An AWS access key id: `AKIA` or `ASIA` and 16 upper-case letters or digits.
    case awsAccessKey = "aws-access-key"
    /// A PEM or OpenSSH private key, from its BEGIN line through its END line.
    case privateKey = "private-key"
    /// A GitHub token: classic (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) or fine-grained (`github_pat_`).
    case githubToken = "github-token"
    /// A Slack token (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`).
    case slackToken = "slack-token"
    /// An OpenAI-style secret key (`sk-`, `sk-proj-`).
    case openAIKey = "openai-key"
    /// A JSON Web Token: three base64url segments, the first starting with `eyJ`.
    case jwt
    /// A high-entropy value assigned to a key named like a secret (`password`, `token`, `api_key`, ...).
    case genericSecret = "generic-secret"
    /// An email address with a dotted domain.
    case email
    /// A phone number in E.164 form or a common national form.
    case phone
    /// A payment card number with a known issuer prefix and a valid Luhn check digit.
    case creditCard = "credit-card"
    /// An IBAN whose length fits its country and whose check digits verify.
    case iban
    /// Text that tries to override a model's instructions, scored by a phrase heuristic.
    case promptInjection = "prompt-injection"

    /// The detectors that find credentials; where one overlaps a generic secret, it wins.
    var isSpecificSecret: Bool {
        switch self {
        case .awsAccessKey, .privateKey, .githubToken, .slackToken, .openAIKey, .jwt: true
        default: false
        }
    }

    var bit: UInt16 {
        switch self {
        case .awsAccessKey: 1 << 0
        case .privateKey: 1 << 1
        case .githubToken: 1 << 2
        case .slackToken: 1 << 3
        case .openAIKey: 1 << 4
        case .jwt: 1 << 5
        case .genericSecret: 1 << 6
        case .email: 1 << 7
        case .phone: 1 << 8
        case .creditCard: 1 << 9
        case .iban: 1 << 10
        case .promptInjection: 1 << 11
        }
    }
}

/// One trusted token issuer: where its keys are, what its tokens must say, how claims become labels.
public struct JWTIssuerSettings: Sendable, Hashable {
    /// The exact `iss` required.
    public var issuer: String
    /// `aud` must contain one of these.
    public var audiences: [String]
    /// A JWKS document on disk, re-read when it changes.
    public var jwksFile: String?
    /// A JWKS URL, fetched at start, cached, and fetched again (at most every `jwksMinimumRefresh`) when a
    /// token names an unknown `kid`.
    public var jwksURL: String?
    public var jwksMinimumRefresh: Duration = .seconds(30)
    /// The algorithms accepted, pinned: a key is used only with these (RS256, ES256, EdDSA ...).
    public var algorithms: [String]
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    public var leeway: Duration = .seconds(30)
    /// The claim that names the caller.
    public var subjectClaim: String = "sub"
    /// Claims copied to labels: claim name → label key. String and number claims are copied; a list
    /// claim sets one label per item as `key/item: "true"`.
    public var claimLabels: [String: String] = [:]
    /// Labels every caller of this issuer gets.
    public var labels: [String: String] = [:]

    public init(issuer: String, audiences: [String], algorithms: [String]) {
        self.issuer = issuer
        self.audiences = audiences
        self.algorithms = algorithms
    }
}

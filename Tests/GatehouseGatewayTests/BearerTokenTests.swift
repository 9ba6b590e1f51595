import Testing

@testable import GatehouseGateway

/// The `Authorization: Bearer <token>` parse every authenticated request goes through.
@Suite struct BearerTokenTests {
    @Test func theSchemeIsMatchedInAnyASCIICaseAndTheTokenReturnedExactly() {
        for header in ["Bearer gh_abc.DEF-1", "bearer gh_abc.DEF-1", "BEARER gh_abc.DEF-1", "bEaReR gh_abc.DEF-1"] {
            #expect(Authenticator.bearerToken(Substring(header)) == "gh_abc.DEF-1", "\(header)")
        }
    }

    @Test func anythingElseIsRefused() {
        let refused = [
            "", "Bearer", "Bearer ", "Bearer  token", "Basic dXNlcjpwYXNz", "Bearertoken", "Bearer\ttoken",
            "Bearer tok en", "Bearer \"token\"", "Bearer tok'en", "Bearer tökén", "Béarer token", "Bearer token\u{7F}",
            "Bearer " + String(repeating: "a", count: 20_000),
        ]
        for header in refused {
            #expect(Authenticator.bearerToken(Substring(header)) == nil, "\(header.prefix(40))")
        }
    }
}

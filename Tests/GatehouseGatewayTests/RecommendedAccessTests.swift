import Foundation
import GatehouseCore
import GatehouseFlows
import GatehouseGateway
import GatehousePolicy
import GatehouseStore
import Testing

/// What `gatehouse policy recommend --models` writes is an access section the gateway reads.
@Suite struct RecommendedAccessTests {
    @Test func recommendedModelAccessLoadsAsConfiguration() throws {
        var entry = AuditEntry(
            time: Date(),
            requestID: "r",
            route: "/v1/chat/completions",
            decision: .allow,
            status: 200
        )
        entry.identity = "alice"
        entry.identityLabels = ["team": "research"]
        entry.model = "fixture-small"
        let access = ModelAccessRecommendation(records: [entry], groupBy: "team").yaml
        let yaml = "models:\n  - name: fixture-small\n    upstreams: [{url: \"http://127.0.0.1:9\"}]\n" + access
        let configuration = try GatewayConfiguration.decode(text: yaml, file: "recommended.yaml", environment: [:])
        let policy = try #require(configuration.access.policies.first)
        #expect(policy.name == "team-research-models")
        #expect(policy.selector.matches(["team": "research"]))
        #expect(!policy.selector.matches(["team": "sales"]))
    }
}

import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehousePolicy
import NIOCore
import NIOHTTP1
import Testing

/// Model access decided by policies over identity and model labels.
@Suite struct AccessTests {
    static let yaml = """
        models:
          - name: fixture-small
            labels: {size: small}
            upstreams: [{url: FIXTURE}]
          - name: fixture-large
            labels: {size: large}
            upstreams: [{url: FIXTURE}]
        access:
          tiers:
            - name: security
              order: 100
              defaultAction: Pass
          policies:
            - name: banned-callers
              tier: security
              selector: banned == 'true'
              rules:
                - action: Deny
            - name: everyone-small
              order: 200
              selector: all()
              rules:
                - action: Allow
                  models: {selector: size == 'small'}
            - name: research-large
              order: 100
              selector: team == 'research'
              rules:
                - action: Log
                - action: Allow
                  models: {names: [fixture-large]}
        """

    @Test func policiesDecideWhichModelsACallerMayUse() async throws {
        try await GatewayHarness.with(yaml: Self.yaml) { harness in
            let research = try await harness.key("alice", labels: ["team": "research"])
            let sales = try await harness.key("bob", labels: ["team": "sales"])
            let banned = try await harness.key("mallory", labels: ["team": "research", "banned": "true"])
            #expect(
                try await harness.call(
                    "/v1/chat/completions",
                    key: research,
                    json: GatewayHarness.chat("fixture-large")
                ).status == 200
            )
            #expect(
                try await harness.call("/v1/chat/completions", key: sales, json: GatewayHarness.chat("fixture-small"))
                    .status == 200
            )
            let denied = try await harness.call(
                "/v1/chat/completions",
                key: sales,
                json: GatewayHarness.chat("fixture-large")
            )
            #expect(denied.status == 403)
            #expect(denied.body.contains("\"type\":\"permission_error\""))
            #expect(denied.body.contains("\"request_id\":\"") && denied.headers.first(name: "x-request-id") != nil)
            #expect(
                try await harness.call("/v1/chat/completions", key: banned, json: GatewayHarness.chat("fixture-small"))
                    .status == 403
            )
            let listed = try await harness.call(.GET, "/v1/models", key: sales)
            #expect(listed.body.contains("fixture-small") && !listed.body.contains("fixture-large"))
            #expect(
                await harness.logged(
                    "gatehouse.decision=deny by ModelAccessPolicy banned-callers rule 0 in tier security"
                )
            )
            #expect(await harness.logged("gatehouse.trace=security: banned-callers#0 Deny"))
            #expect(await harness.logged("gatehouse.trace=default: everyone-small end Deny"))
        }
    }

    @Test func evaluatorFollowsTierOrderPassLogAndFailsClosed() throws {
        let small = AccessSubject(name: "m-small", labels: ["size": "small"])
        let large = AccessSubject(name: "m-large", labels: ["size": "large"])
        let set = AccessPolicySet(
            tiers: [Tier(name: "first", order: 10, defaultAction: .deny)],
            policies: [
                AccessPolicy(
                    name: "pass-admins",
                    tier: "first",
                    order: 1,
                    selector: try Selector(parsing: "role == 'admin'"),
                    rules: [
                        AccessRule(action: .log, modelNames: nil, modelSelector: nil),
                        AccessRule(action: .pass, modelNames: nil, modelSelector: nil),
                    ]
                ),
                AccessPolicy(
                    name: "small-only",
                    order: 1,
                    selector: .all,
                    rules: [
                        AccessRule(
                            action: .allow,
                            modelNames: nil,
                            modelSelector: try Selector(parsing: "size == 'small'")
                        )
                    ]
                ),
                AccessPolicy(
                    name: "admins-large",
                    order: 2,
                    selector: try Selector(parsing: "role == 'admin'"),
                    rules: [AccessRule(action: .allow, modelNames: ["m-large"], modelSelector: nil)]
                ),
            ]
        )
        let access = ModelAccess(policies: set, models: [small, large])
        let admin = AccessSubject(name: "root", labels: ["role": "admin"])
        let user = AccessSubject(name: "u", labels: [:])
        let adminLarge = access.evaluate(caller: admin, model: 1)
        #expect(adminLarge.verdict == .allow)
        #expect(adminLarge.tiers.map(\.tier) == ["first", "default"])
        #expect(adminLarge.tiers[0].hits.map(\.action) == [.log, .pass])
        #expect(
            adminLarge.outcome.policy
                == PolicyReference(kind: "ModelAccessPolicy", namespace: nil, name: "admins-large", tier: "default")
        )
        // A user in no policy of tier "first" skips it; in "default" only small models are allowed.
        #expect(access.evaluate(caller: user, model: 0).verdict == .allow)
        let userLarge = access.evaluate(caller: user, model: 1)
        #expect(userLarge.verdict == .deny)
        #expect(userLarge.outcome.reason == .endOfTier)
        // With no policy at all the gateway denies (Calico's profiles would allow).
        let empty = ModelAccess(policies: AccessPolicySet(policies: []), models: [small]).evaluate(
            caller: user,
            model: 0
        )
        #expect(empty.verdict == .deny && empty.outcome.reason == .noAllow)
        // The name is a label too.
        #expect(user.labels[AccessSubject.nameLabel] == "u")
    }
}

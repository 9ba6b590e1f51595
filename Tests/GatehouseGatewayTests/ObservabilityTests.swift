import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseFlows
import GatehouseGateway
import GatehouseStore
import NIOCore
import NIOHTTP1
import Testing

/// What the gateway shows of itself: a flow record per request with its policy trace (through the
/// admin API, listed and live), and Prometheus metrics with the GenAI names.
@Suite struct ObservabilityTests {
    static let yaml = """
        models:
          - name: fixture-small
            labels: {size: small}
            upstreams: [{url: FIXTURE}]
          - name: fixture-large
            labels: {size: large}
            upstreams: [{url: FIXTURE}]
        prices:
          default: {input: "1", output: "2"}
        access:
          tiers:
            - name: security
              order: 100
              defaultAction: Pass
          policies:
            - name: banned-callers
              tier: security
              selector: banned == 'true'
              rules: [{action: Deny}]
            - name: everyone-small
              order: 200
              selector: all()
              rules: [{action: Allow, models: {selector: size == 'small'}}]
        guardrails:
          - name: note-emails
            selector: all()
            detectors: [email]
            prompts: log
        quotas:
          - name: research
            selector: team == 'research'
            budget: {usd: "5", period: day}
        metrics:
          identityLabels: [team]
        flows:
          bucket: 1s
        """

    static func chat(_ model: String = "fixture-small", content: String = "hello there", stream: Bool = false) -> String
    {
        "{\"model\":\"\(model)\",\"stream\":\(stream),\"messages\":[{\"role\":\"user\",\"content\":\"\(content)\"}]}"
    }

    /// The flows the admin API lists for `query`, as JSON objects.
    static func flows(_ harness: GatewayHarness, admin: String, _ query: String) async throws -> [[String: Any]] {
        let answer = try await harness.call(.GET, "/v1/flows?\(query)", key: admin, admin: true)
        #expect(answer.status == 200, "\(answer.body)")
        let object = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        return object?["items"] as? [[String: Any]] ?? []
    }

    @Test func everyRequestBecomesAFlowWithItsTraceAndTheAPIFiltersThem() async throws {
        try await GatewayHarness.with(yaml: Self.yaml) { harness in
            let admin = try #require(harness.gateway.newAdminKey)
            let alice = try await harness.key("alice", labels: ["team": "research"])
            let mallory = try await harness.key("mallory", labels: ["team": "research", "banned": "true"])
            for _ in 0..<3 {
                #expect(try await harness.call("/v1/chat/completions", key: alice, json: Self.chat()).status == 200)
            }
            #expect(
                try await harness.call("/v1/chat/completions", key: alice, json: Self.chat("fixture-large")).status
                    == 403
            )
            #expect(try await harness.call("/v1/chat/completions", key: mallory, json: Self.chat()).status == 403)
            #expect(try await harness.call("/v1/chat/completions", key: "not-a-key", json: Self.chat()).status == 401)

            // The three allowed requests are one aggregated flow (same key, same bucket, or two buckets).
            let allowed = try await Self.flows(
                harness,
                admin: admin,
                "identity=alice&verdict=allow&route=/v1/chat/completions"
            )
            #expect(allowed.reduce(0) { $0 + (($1["counters"] as? [String: Any])?["requests"] as? Int ?? 0) } == 3)
            let first = try #require(allowed.first)
            #expect((first["source"] as? [String: Any])?["kind"] as? String == "identity")
            #expect((first["sourceLabels"] as? [String: String])?["team"] == "research")
            #expect((first["destinationLabels"] as? [String: String])?["size"] == "small")
            #expect(first["route"] as? String == "/v1/chat/completions")
            let counters = try #require(first["counters"] as? [String: Any])
            #expect((counters["tokensIn"] as? Int ?? 0) > 0)
            #expect((counters["bytesOut"] as? Int ?? 0) > 0)
            #expect(counters["cost"] as? String != "0")

            // Denials carry the reason and the trace that decided them.
            let banned = try await Self.flows(harness, admin: admin, "policy=security.banned-callers")
            #expect(banned.count == 1)
            #expect((banned.first?["source"] as? [String: Any])?["name"] as? String == "mallory")
            #expect(banned.first?["action"] as? String == "deny")
            #expect(banned.first?["reason"] as? String == "model_access_denied")
            let hits = (banned.first?["policies"] as? [String: Any])?["enforced"] as? [[String: Any]] ?? []
            #expect(hits.first?["action"] as? String == "Deny")
            let noAllow = try await Self.flows(harness, admin: admin, "verdict=deny&model=fixture-large")
            #expect(noAllow.count == 1)
            let unknown = try await Self.flows(harness, admin: admin, "from-kind=network&route=/v1/chat/completions")
            #expect(unknown.count == 1)
            #expect((unknown.first?["source"] as? [String: Any])?["name"] as? String == "127.0.0.1")
            #expect(try await Self.flows(harness, admin: admin, "to-label=size%3D%3D'large'").count == 1)
            #expect(try await Self.flows(harness, admin: admin, "route=/v1/chat/completions&last=2").count == 2)

            // Bad parameters are named; the flow API needs the admin key and is not on the data plane.
            let bad = try await harness.call(.GET, "/v1/flows?verdict=maybe", key: admin, admin: true)
            #expect(bad.status == 400)
            #expect(bad.body.contains("verdict: expected allow, deny or pass"))
            #expect(bad.body.contains("\"request_id\""))
            #expect(try await harness.call(.GET, "/v1/flows?colour=red", key: admin, admin: true).status == 400)
            #expect(try await harness.call(.GET, "/v1/flows", key: alice, admin: true).status == 401)
            #expect(try await harness.call(.GET, "/v1/flows", key: alice).status == 404)

            // Once the 1 s buckets close, the flows are in the store with ids.
            func storedDenial() throws -> StoredFlow? {
                try harness.store.flows(FlowQuery()).first {
                    $0.flow.reason == "model_access_denied" && !$0.flow.policies.enforced.isEmpty
                }
            }
            var denial = try storedDenial()
            for _ in 0..<100 where denial == nil {
                try await Task.sleep(for: .milliseconds(100))
                denial = try storedDenial()
            }
            #expect((denial?.id ?? 0) > 0)
        }
    }

    @Test func aFollowerSeesFlowsAsTheyHappen() async throws {
        try await GatewayHarness.with(yaml: Self.yaml) { harness in
            let admin = try #require(harness.gateway.newAdminKey)
            let alice = try await harness.key("alice", labels: ["team": "research"])
            let bob = try await harness.key("bob", labels: ["team": "sales"])
            var request = HTTPClientRequest(url: harness.adminBase + "/v1/flows?follow=true&identity=alice&last=1")
            request.headers.add(name: "authorization", value: "Bearer \(admin)")
            let response = try await harness.client.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            _ = try await harness.call("/v1/chat/completions", key: bob, json: Self.chat())
            _ = try await harness.call("/v1/chat/completions", key: alice, json: Self.chat(stream: true))
            var received = ""
            for try await chunk in response.body {
                received += String(buffer: chunk)
                if received.contains("\n\n") { break }
            }
            // The first event is alice's request (bob's does not match the filter).
            let event = try #require(received.split(separator: "\n\n").first)
            #expect(event.hasPrefix("data: {"))
            #expect(event.contains("\"name\":\"alice\""))
            #expect(!received.contains("\"name\":\"bob\""))
        }
    }

    @Test func metricsUseTheGenAINamesAndBoundedLabels() async throws {
        try await GatewayHarness.with(yaml: Self.yaml) { harness in
            let admin = try #require(harness.gateway.newAdminKey)
            let alice = try await harness.key("alice", labels: ["team": "research"])
            #expect(try await harness.call("/v1/chat/completions", key: alice, json: Self.chat()).status == 200)
            #expect(
                try await harness.call("/v1/chat/completions", key: alice, json: Self.chat(stream: true)).status == 200
            )
            #expect(
                try await harness.call(
                    "/v1/chat/completions",
                    key: alice,
                    json: Self.chat(content: "mail a@example.com")
                )
                .status == 200
            )
            #expect(
                try await harness.call("/v1/chat/completions", key: alice, json: Self.chat("fixture-large")).status
                    == 403
            )
            // Paths no route serves are counted, never named: a caller cannot add series (or leak a path).
            for index in 0..<3 {
                #expect(try await harness.call(.GET, "/v1/secret-path-\(index)/x", key: alice).status == 404)
            }
            #expect(try await harness.call(.GET, "/metrics", key: alice, admin: true).status == 401)
            let scraped = try await harness.call(.GET, "/metrics", key: admin, admin: true)
            #expect(scraped.status == 200)
            #expect(scraped.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = scraped.body
            let genAI =
                "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"fixture-small\""
            // The token histogram has the convention's buckets.
            for bound in ["1.0", "4.0", "16.0", "1024.0", "67108864.0", "+Inf"] {
                #expect(
                    text.contains(
                        "gen_ai_client_token_usage_bucket{\(genAI),gen_ai_token_type=\"input\",le=\"\(bound)\"}"
                    )
                )
            }
            #expect(text.contains("gen_ai_client_token_usage_count{\(genAI),gen_ai_token_type=\"output\"} 3"))
            #expect(text.contains("gen_ai_server_request_duration_seconds_count{\(genAI)} 3"))
            #expect(text.contains("gen_ai_server_request_duration_seconds_bucket{\(genAI),le=\"81.92\"} 3"))
            // Time to first token is a streaming measure: one streamed request.
            #expect(text.contains("gen_ai_server_time_to_first_token_seconds_count{\(genAI)} 1"))
            #expect(text.contains("gen_ai_server_time_to_first_token_seconds_bucket{\(genAI),le=\"0.001\"}"))
            #expect(text.contains("gen_ai_server_time_per_output_token_seconds_count{\(genAI)} 1"))
            #expect(
                text.contains(
                    "gatehouse_requests_total{route=\"/v1/chat/completions\",model=\"fixture-small\",decision=\"allow\",reason=\"\",identity_team=\"research\"} 3"
                )
            )
            #expect(
                text.contains(
                    "gatehouse_requests_total{route=\"/v1/chat/completions\",model=\"fixture-large\",decision=\"deny\",reason=\"model_access_denied\",identity_team=\"research\"} 1"
                )
            )
            #expect(
                text.contains(
                    "gatehouse_policy_verdicts_total{tier=\"default\",policy=\"everyone-small\",action=\"Allow\"} 3"
                )
            )
            #expect(
                text.contains(
                    "gatehouse_policy_verdicts_total{tier=\"default\",policy=\"everyone-small\",action=\"Deny\"}"
                ) == false
            )
            #expect(text.contains("gatehouse_guardrail_findings_total{direction=\"prompt\",detector=\"email\"} 1"))
            #expect(text.contains("gatehouse_budget_limit_dollars{scope=\"research\",period=\"day\"} 5.0"))
            #expect(text.contains("gatehouse_budget_spent_dollars{scope=\"research\",period=\"day\"}"))
            #expect(
                text.contains(
                    "gatehouse_upstream_healthy{model=\"fixture-small\",upstream=\"\(harness.fixture.baseURL)\"} 1.0"
                )
            )
            #expect(text.contains("gatehouse_cost_dollars_total{model=\"fixture-small\",identity_team=\"research\"}"))
            #expect(!text.contains("secret-path"))
            #expect(
                text.contains(
                    "gatehouse_requests_total{route=\"unmatched\",model=\"\",decision=\"deny\",reason=\"not_found\""
                )
            )
            // No key, email or identity name in any series.
            #expect(!text.contains(alice))
            #expect(!text.contains("a@example.com"))
            #expect(!text.contains("alice"))
        }
    }
}

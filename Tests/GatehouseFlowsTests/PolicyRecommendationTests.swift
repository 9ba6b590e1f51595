import Foundation
import GatehouseCore
import GatehouseFlows
import GatehousePolicy
import GatehouseStore
import GatehouseTesting
import Testing

/// Policies recommended from the example flow logs let exactly the observed traffic through.
@Suite struct PolicyRecommendationTests {
    static let cluster = FlowImportTests.examples.appending(path: "ai-namespace/cluster.yaml").path

    static func observed() throws -> (flows: [FlowRecord], traffic: ObservedTraffic, cluster: Cluster) {
        let bundle = try ResourceLoader().load(paths: [cluster])
        let flows = FlowEvaluation(try FlowImportTests.reader().flows, engine: nil).records
        return (flows, ObservedTraffic(flows: flows, cluster: bundle.cluster), bundle.cluster)
    }

    @Test(arguments: PolicyRecommendation.Flavor.allCases)
    func recommendedPoliciesAllowWhatWasObservedAndNothingElse(flavor: PolicyRecommendation.Flavor) throws {
        let (flows, traffic, _) = try Self.observed()
        let yaml = PolicyRecommendation(traffic: traffic).yaml(flavor)
        let loader = ResourceLoader(strict: true)
        var bundle = try loader.load(paths: [Self.cluster])
        let recommended = try loader.load(text: yaml, file: "recommended.yaml")
        #expect(recommended.warnings.isEmpty)
        bundle.policySet = recommended.policySet
        let fixture = PolicyFixture(bundle: bundle)
        func verdict(_ from: String, _ to: String, _ port: UInt16) throws -> Verdict {
            try fixture.verdict(from, to, port: port)
        }
        // Every allowed flow of the logs between known ends goes through.
        var checked = 0
        for flow in flows where flow.action == .allow && flow.source.kind == .workload {
            let source = "\(flow.source.namespace ?? "")/\(flow.source.name.replacingOccurrences(of: "*", with: ""))"
            let destination =
                flow.destination.kind == .workload
                ? "\(flow.destination.namespace ?? "")/\(flow.destination.name)" : "ip:\(flow.destination.name)"
            #expect(try verdict(source, destination, try #require(flow.port)) == .allow, "\(source) -> \(destination)")
            checked += 1
        }
        #expect(checked >= 5)
        // What was not observed does not.
        #expect(try verdict("web/frontend", "ai/vllm-0", 8000) == .deny)
        #expect(try verdict("web/frontend", "ai/vector-db", 6333) == .deny)
        #expect(try verdict("ai/rag-api", "ai/vllm-0", 8000) == .deny)
        #expect(try verdict("web/frontend", "ai/rag-api", 9999) == .deny)
        #expect(try verdict("ai/rag-api", "kube-system/coredns", 53) == .deny)
        #expect(try verdict("ai/rag-api", "ip:198.51.100.1", 443) == .deny)
    }

    @Test func trafficIsFoldedPerWorkload() throws {
        let (_, traffic, _) = try Self.observed()
        let names = traffic.workloads.map { "\($0.namespace)/\($0.name)" }
        #expect(names == ["ai/qdrant", "ai/rag-api", "ai/vllm", "monitoring/prometheus", "web/frontend"])
        let ragAPI = try #require(traffic.workloads.first { $0.name == "rag-api" })
        #expect(ragAPI.labels == ["app": "rag-api", "role": "app"])
        #expect(traffic.egress[ragAPI]?.count == 3)
        #expect(traffic.ingress[ragAPI]?.values.flatMap { $0 }.map(\.number) == [8080])
    }
}

@Suite struct ModelAccessRecommendationTests {
    static func entry(_ identity: String, team: String, model: String, decision: Verdict = .allow) -> AuditEntry {
        var entry = AuditEntry(
            time: Date(),
            requestID: "r",
            route: "/v1/chat/completions",
            decision: decision,
            status: 200
        )
        entry.identity = identity
        entry.identityLabels = ["team": team]
        entry.model = model
        return entry
    }

    @Test func groupsGetTheModelsTheyWereAllowedToUse() throws {
        let records = [
            Self.entry("alice", team: "research", model: "large"), Self.entry("bob", team: "research", model: "small"),
            Self.entry("carol", team: "sales", model: "small"),
            Self.entry("mallory", team: "guests", model: "large", decision: .deny),
        ]
        let byTeam = ModelAccessRecommendation(records: records, groupBy: "team")
        #expect(byTeam.groups.keys.sorted() == ["team == 'research'", "team == 'sales'"])
        #expect(byTeam.groups["team == 'research'"]?.models == ["large", "small"])
        #expect(byTeam.yaml.contains(#"selector: "team == 'research'""#))
        #expect(byTeam.yaml.contains(#"rules: [{action: Allow, models: {names: ["large", "small"]}}]"#))
        let byName = ModelAccessRecommendation(records: records, groupBy: nil)
        #expect(byName.groups["gatehouse.io/name == 'carol'"]?.name == "identity-carol")
        #expect(!byName.yaml.contains("mallory"))
    }

    /// Identity names are not validated like label values: a name cannot break out of its selector.
    @Test func namesWithQuotesCannotWidenTheSelector() throws {
        let records = [
            Self.entry("x' || all() || a == '", team: "t", model: "large"),
            Self.entry("O'Brien", team: "t", model: "small"), Self.entry("Alice", team: "t", model: "small"),
            Self.entry("alice", team: "t", model: "large"),
            Self.entry("both'\"quotes", team: "t", model: "large"),
        ]
        let recommendation = ModelAccessRecommendation(records: records, groupBy: nil)
        #expect(recommendation.skipped == ["both'\"quotes"])
        for selector in recommendation.groups.keys {
            let parsed = try Selector(parsing: selector)
            #expect(!parsed.matches(["gatehouse.io/name": "someone-else"]), "\(selector)")
        }
        #expect(recommendation.groups.keys.contains("gatehouse.io/name == \"x' || all() || a == '\""))
        #expect(recommendation.groups.keys.contains("gatehouse.io/name == \"O'Brien\""))
        // Alice and alice reduce to one DNS label: the second policy name gets a suffix.
        #expect(recommendation.yaml.contains("\"identity-alice-models\""))
        #expect(recommendation.yaml.contains("\"identity-alice-models-2\""))
    }
}

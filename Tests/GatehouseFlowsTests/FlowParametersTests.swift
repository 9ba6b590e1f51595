import Foundation
import GatehouseCore
import GatehouseFlows
import Testing

@Suite struct FlowParametersTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func parametersBuildTheFilterAsHubbleFlagsWould() throws {
        let parameters = try FlowParameters(
            [
                ("from-namespace", "web"), ("from-namespace", "batch"), ("to-pod", "ai/vllm"), ("verdict", "DROPPED"),
                ("verdict", "allow"), ("identity", "alice"), ("since", "90m"), ("until", "2026-11-27T00:00:00Z"),
                ("last", "20"), ("from-label", "app=web,tier!=db"), ("from-label", "team == 'x'"), ("port", "8000"),
                ("follow", "true"), ("protocol", "tcp"),
            ],
            now: now
        )
        let filter = parameters.query
        #expect(filter.sourceNamespaces == ["web", "batch"])
        #expect(filter.destinationNames == ["ai/vllm"])
        #expect(filter.actions == [.deny, .allow])
        #expect(filter.sourceKinds == [.identity])
        #expect(filter.sourceNames == ["alice"])
        #expect(filter.since == now.addingTimeInterval(-5_400))
        #expect(filter.until == Date(timeIntervalSince1970: 1_795_737_600))
        #expect(filter.ports == [8000])
        #expect(filter.protocols == ["TCP"])
        #expect(parameters.limit == 20)
        #expect(parameters.follow)
        // Two label filters for one end: either may match.
        let selector = try #require(filter.sourceSelector)
        #expect(selector.matches(["app": "web"]))
        #expect(!selector.matches(["app": "web", "tier": "db"]))
        #expect(selector.matches(["team": "x"]))
        #expect(!selector.matches(["app": "api"]))
    }

    @Test(arguments: [
        ("verdict", "maybe", "verdict: expected allow, deny or pass"),
        ("port", "0", "port: expected a port number"),
        ("port", "http", "port: expected a port number"),
        ("since", "yesterday", "since: expected a duration ago"),
        ("since", "1e16s", "since: expected a duration ago"),
        ("last", "-1", "last: expected 0 to 100000"),
        ("from-kind", "pod", "from-kind: expected one of workload"),
        ("reporter", "node", "reporter: expected src, dst or gateway"),
        ("from-label", "app in (", "from-label:"),
        ("namespace", "", "namespace: needs a value"),
        ("colour", "red", "colour: unknown parameter"),
    ])
    func badParametersAreNamed(name: String, value: String, message: String) {
        #expect {
            try FlowParameters([(name, value)], now: now)
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }
}

import Foundation
import GatehouseCore
import GatehouseFlows
import GatehouseStore
import Logging
import Testing

@Suite struct FlowStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func withStore(_ body: (Store, URL) throws -> Void) throws {
        let directory = FlowSamples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(try Store(directory: directory), directory)
    }

    @Test func flowsRoundTripThroughTheStore() throws {
        try withStore { store, _ in
            var denied = FlowSamples.connection(
                from: ("web", "frontend-7d9"),
                to: ("ai", "vllm-0"),
                port: 8000,
                at: now,
                action: .deny
            )
            denied.policies.pending = [
                FlowPolicyHit(
                    policy: PolicyReference(
                        kind: "StagedNetworkPolicy",
                        namespace: "ai",
                        name: "allow-web",
                        tier: "default"
                    ),
                    direction: .ingress,
                    ruleIndex: 1,
                    action: .allow,
                    index: 0
                )
            ]
            denied.end = now + 15
            var request = FlowSamples.request(labels: ["quote\"d": "new\nline"], at: now)
            request.end = now + 15
            try store.insertFlows([denied, request])
            let read = try store.flows(FlowQuery())
            #expect(read.map(\.flow) == [denied, request])
            #expect(read.map(\.id) == [1, 2])
        }
    }

    @Test func filtersNarrowLikeHubbleObserve() throws {
        try withStore { store, _ in
            try store.insertFlows([
                FlowSamples.connection(from: ("web", "frontend-1"), to: ("ai", "vllm-0"), port: 8000, at: now),
                FlowSamples.connection(
                    from: ("web", "frontend-2"),
                    to: ("ai", "qdrant-0"),
                    port: 6333,
                    at: now,
                    action: .deny
                ),
                FlowSamples.connection(
                    from: ("batch", "etl-1"),
                    to: ("ai", "qdrant-0"),
                    port: 6333,
                    at: now + 60,
                    labels: ["app": "etl"]
                ),
                FlowSamples.request(identity: "alice", model: "small", at: now),
                FlowSamples.request(
                    identity: "bob",
                    labels: ["team": "sales"],
                    model: "large",
                    at: now + 30,
                    action: .deny,
                    reason: "forbidden"
                ),
            ])
            func names(_ configure: (inout FlowFilter) throws -> Void) throws -> [String] {
                var filter = FlowFilter()
                try configure(&filter)
                return try store.flows(FlowQuery(filter: filter)).map { "\($0.flow.source)>\($0.flow.destination)" }
            }
            #expect(
                try names { $0.sourceNamespaces = ["web"] } == [
                    "web/frontend-1>ai/vllm-0", "web/frontend-2>ai/qdrant-0",
                ]
            )
            #expect(try names { $0.destinationNames = ["ai/qdrant"] }.count == 2)
            #expect(try names { $0.sourceNames = ["ai/qdrant"] }.isEmpty)
            #expect(try names { $0.namespaces = ["batch"] } == ["batch/etl-1>ai/qdrant-0"])
            #expect(try names { $0.actions = [.deny] } == ["web/frontend-2>ai/qdrant-0", "bob>large"])
            #expect(
                try names { _ in } == [
                    "web/frontend-1>ai/vllm-0", "web/frontend-2>ai/qdrant-0", "alice>small", "bob>large",
                    "batch/etl-1>ai/qdrant-0",
                ]
            )
            #expect(try names { $0.reasons = ["forbidden"] } == ["bob>large"])
            #expect(
                try names {
                    $0.ports = [6333]
                    $0.actions = [.allow]
                } == ["batch/etl-1>ai/qdrant-0"]
            )
            #expect(
                try names { $0.sourceSelector = try Selector(parsingLabelFilter: "app=etl") } == [
                    "batch/etl-1>ai/qdrant-0"
                ]
            )
            #expect(
                try names { $0.sourceSelector = try Selector(parsingLabelFilter: "team == 'sales'") } == ["bob>large"]
            )
            #expect(
                try names {
                    $0.sourceKinds = [.identity]
                    $0.sourceNames = ["alice"]
                } == ["alice>small"]
            )
            #expect(
                try names {
                    $0.destinationKinds = [.model]
                    $0.destinationNames = ["large"]
                } == ["bob>large"]
            )
            #expect(try names { $0.policies = ["quarantine"] } == ["web/frontend-2>ai/qdrant-0"])
            #expect(try names { $0.policies = ["security.quarantine"] }.count == 1)
            #expect(try names { $0.since = now + 20 } == ["bob>large", "batch/etl-1>ai/qdrant-0"])
            #expect(try names { $0.until = now + 1 }.count == 3)
            #expect(try names { $0.protocols = ["HTTP"] } == ["alice>small", "bob>large"])
            #expect(try names { $0.routes = ["/v1/embeddings"] }.isEmpty)
            // The newest N, listed oldest first; then what came after a row id.
            #expect(try store.flows(FlowQuery(limit: 2)).map(\.id) == [5, 3])
            #expect(try store.flows(FlowQuery(limit: 2, after: 1)).map(\.id) == [2, 3])
        }
    }

    @Test func flowsPastTheRetentionAreDeleted() throws {
        try withStore { store, _ in
            var old = FlowSamples.request(at: now - 3_600)
            old.end = now - 3_585
            try store.insertFlows([old, FlowSamples.request(at: now)])
            #expect(try store.deleteFlows(endingBefore: now - 60) == 1)
            #expect(try store.flowCount() == 1)
        }
    }

    @Test func theRecorderWritesClosedBucketsAndEverythingAtShutdownSoRecordsSurviveARestart() async throws {
        let directory = FlowSamples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let recorder = FlowRecorder(
            store: try Store(directory: directory),
            bucket: .seconds(1),
            logger: Logger(label: "test")
        )
        let live = recorder.hub.subscribe(FlowFilter())
        recorder.record(FlowSamples.request(at: Date() - 10))
        var iterator = live.makeAsyncIterator()
        #expect(await iterator.next()?.source.name == "alice")
        // A bucket that closed long ago is written by the next tick.
        var stored = 0
        for _ in 0..<50 where stored == 0 {
            try await Task.sleep(for: .milliseconds(100))
            stored = try Store(directory: directory).flowCount()
        }
        #expect(stored == 1)
        // An open bucket is written at shutdown; a new store sees both.
        recorder.record(FlowSamples.request(identity: "bob", at: Date() + 60))
        recorder.shutdown()
        #expect(await iterator.next()?.source.name == "bob")
        #expect(await iterator.next() == nil)
        let reopened = try Store(directory: directory)
        #expect(try reopened.flows(FlowQuery()).map(\.flow.source.name) == ["alice", "bob"])
    }
}

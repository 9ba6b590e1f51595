import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehouseStore
import NIOCore
import NIOHTTP1
import Testing

/// API keys: shape, storage, expiry, revocation while running, and hostile key text.
@Suite struct KeyAuthenticationTests {
    @Test func keysAreHighEntropyPrefixedAndStoredAsDigestsOnly() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "gatehouse-keys-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory)
        let created = try store.createKey(kind: .api, name: "ci", labels: ["team": "ml"], expiresAt: nil)
        #expect(created.secret.text.hasPrefix("ghk_"))
        #expect(created.secret.text.count == KeySecret.maximumLength)
        #expect(KeySecret.parse(Substring(created.secret.text)) == created.secret)
        let database = try Data(contentsOf: directory.appending(path: Store.fileName))
        let wal = (try? Data(contentsOf: directory.appending(path: Store.fileName + "-wal"))) ?? Data()
        let secretPart = Data(created.secret.text.suffix(KeySecret.secretLength).utf8)
        #expect(database.range(of: secretPart) == nil && wal.range(of: secretPart) == nil)
        #expect(throws: StoreError.self) { try store.createKey(kind: .api, name: "ci", labels: [:], expiresAt: nil) }
        #expect(throws: StoreError.self) {
            try store.createKey(kind: .api, name: "bad name", labels: [:], expiresAt: nil)
        }
        #expect(throws: StoreError.self) {
            try store.createKey(kind: .api, name: "x", labels: ["bad key!": "v"], expiresAt: nil)
        }
        try store.revokeKey(kind: .api, "ci")
        // A revoked name may be reused.
        _ = try store.createKey(kind: .api, name: "ci", labels: [:], expiresAt: nil)
        #expect(try store.keys(kind: .api).map { $0.status(at: Date()) } == ["revoked", "active"])
    }

    @Test(arguments: [
        "ghk_", "ghk_' OR 1=1 --", "Bearer", "ghk_AAAAAAAA_" + String(repeating: "A", count: 42) + "\"",
        "gha_AAAAAAAA_" + String(repeating: "A", count: 43), String(repeating: "A", count: 10_000),
        "ghk_AAAAAAAA_" + String(repeating: "A", count: 43),
    ])
    func unknownForgedAndOddKeysGet401(key: String) async throws {
        try await GatewayHarness.with { harness in
            _ = try await harness.key()
            let started = ContinuousClock.now
            let answer = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
            #expect(answer.status == 401)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(answer.body.contains("\"code\":\"invalid_api_key\""))
            #expect(!harness.logs.text.contains(key))
            #expect(harness.fixture.counters.requests == 0)
        }
    }

    @Test func keysWithControlBytesAreRefusedOnTheWire() async throws {
        try await GatewayHarness.with { harness in
            for hostile in ["ghk_a\u{0}b", "ghk_a\rX-Injected: 1", "ghk_\u{7f}"] {
                let request = "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(hostile)\r\n\r\n"
                let exchange = try await RawClient.exchange(port: harness.dataPort, [request])
                #expect(exchange.response.hasPrefix("HTTP/1.1 40"))
                #expect(!exchange.response.hasPrefix("HTTP/1.1 200"))
            }
            #expect(!harness.logs.text.contains("Injected"))
        }
    }

    @Test func revokedAndExpiredKeysStopWorkingWithoutARestart() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key("short-lived")
            #expect(try await harness.call(.GET, "/v1/models", key: key).status == 200)
            try harness.store.revokeKey(kind: .api, "short-lived")
            try await Task.sleep(for: .seconds(1))
            #expect(try await harness.call(.GET, "/v1/models", key: key).status == 401)
            let expiring = try await harness.key("expiring", expiresAt: Date().addingTimeInterval(3))
            #expect(try await harness.call(.GET, "/v1/models", key: expiring).status == 200)
            try await Task.sleep(for: .seconds(3.1))
            #expect(try await harness.call(.GET, "/v1/models", key: expiring).status == 401)
        }
    }

    /// A connection remembers the key its last request authenticated with; nothing the key rests on
    /// may be remembered with it. Each case runs on one connection.
    @Test func aKeyRememberedOnAConnectionIsStillRevokedExpiredAndReplaced() async throws {
        try await GatewayHarness.with { harness in
            func models(_ key: String) -> String {
                "GET /v1/models HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer \(key)\r\n\r\n"
            }
            // Revoked between two requests: once the gateway has reloaded its keys (other connections get
            // a 401), this one does too.
            let revoked = try await harness.key("revoked")
            try await RawClient.session(port: harness.dataPort) { send in
                let before = try await send(models(revoked))
                try harness.store.revokeKey(kind: .api, "revoked")
                for _ in 0..<100 where try await harness.call(.GET, "/v1/models", key: revoked).status != 401 {
                    try await Task.sleep(for: .milliseconds(50))
                }
                let after = try await send(models(revoked))
                #expect(before == 200 && after == 401, "\(before), then \(after)")
            }
            // Expired between two requests.
            let expiry = Date().addingTimeInterval(4)
            let expiring = try await harness.key("expiring", expiresAt: expiry)
            try await RawClient.session(port: harness.dataPort) { send in
                let before = try await send(models(expiring))
                try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow) + 0.1))
                let after = try await send(models(expiring))
                #expect(before == 200 && after == 401, "\(before), then \(after)")
            }
            // Another key, a key one character off, then the first again.
            let alpha = try await harness.key("alpha")
            let beta = try await harness.key("beta")
            let forged = String(alpha.dropLast()) + (alpha.hasSuffix("A") ? "B" : "A")
            try await RawClient.session(port: harness.dataPort) { send in
                var statuses: [Int] = []
                for key in [alpha, beta, forged, alpha] { statuses.append(try await send(models(key))) }
                #expect(statuses == [200, 200, 401, 200])
            }
            let identities = harness.logs.text.components(separatedBy: "\n").compactMap { line in
                line.contains("gatehouse.route=/v1/models") && line.contains("gatehouse.status=200")
                    ? line.components(separatedBy: " ").first { $0.hasPrefix("gatehouse.identity=") } : nil
            }
            #expect(
                identities.suffix(3).map { $0.dropFirst("gatehouse.identity=".count) } == ["alpha", "beta", "alpha"]
            )
        }
    }
}

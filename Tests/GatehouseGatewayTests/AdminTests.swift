import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import NIOCore
import NIOHTTP1
import Testing

/// The admin API: on the admin listener only, behind an admin key.
@Suite struct AdminTests {
    @Test func keysAreManagedThroughTheAdminAPI() async throws {
        try await GatewayHarness.with { harness in
            let admin = try #require(harness.gateway.newAdminKey)
            #expect(admin.hasPrefix("gha_"))
            let created = try await harness.call(
                .POST,
                "/v1/keys",
                key: admin,
                json: #"{"name":"svc","labels":{"team":"search"},"expiresIn":"30d"}"#,
                admin: true
            )
            #expect(created.status == 201)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])
            let key = try #require(object["key"] as? String)
            #expect(key.hasPrefix("ghk_"))
            #expect(try await harness.call(.GET, "/v1/models", key: key).status == 200)
            let listed = try await harness.call(.GET, "/v1/keys", key: admin, admin: true)
            #expect(listed.status == 200 && listed.body.contains("\"name\":\"svc\"") && !listed.body.contains(key))
            let duplicate = try await harness.call(.POST, "/v1/keys", key: admin, json: #"{"name":"svc"}"#, admin: true)
            #expect(duplicate.status == 409)
            let invalid = try await harness.call(
                .POST,
                "/v1/keys",
                key: admin,
                json: #"{"name":"no spaces"}"#,
                admin: true
            )
            #expect(invalid.status == 400)
            let revoked = try await harness.call(.DELETE, "/v1/keys/svc", key: admin, admin: true)
            #expect(revoked.status == 200 && revoked.body.contains("\"status\":\"revoked\""))
            #expect(try await harness.call(.GET, "/v1/models", key: key).status == 401)
            #expect(!harness.logs.text.contains(admin) && !harness.logs.text.contains(key))
        }
    }

    @Test func adminAPINeedsAnAdminKeyAndIsNotOnTheDataPlane() async throws {
        try await GatewayHarness.with { harness in
            let admin = try #require(harness.gateway.newAdminKey)
            let apiKey = try await harness.key()
            #expect(try await harness.call(.GET, "/v1/keys", admin: true).status == 401)
            #expect(try await harness.call(.GET, "/v1/keys", key: apiKey, admin: true).status == 401)
            #expect(try await harness.call(.GET, "/v1/keys", key: admin).status == 404)
            #expect(try await harness.call(.GET, "/v1/models", key: admin).status == 401)
            #expect(try await harness.call(.GET, "/healthz", admin: true).status == 200)
            let ready = try await harness.call(.GET, "/readyz", admin: true)
            #expect(ready.status == 200 && ready.body == #"{"status":"ready"}"#)
            #expect(try await harness.call(.POST, "/readyz", json: "{}", admin: true).status == 405)
            #expect(try await harness.call(.GET, "/v1/chat/completions", key: admin, admin: true).status == 404)
        }
    }
}

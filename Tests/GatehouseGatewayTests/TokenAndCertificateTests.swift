import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import JWTKit
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// JWT bearer tokens against a JWKS file, and client certificates (mTLS) against a CA bundle.
@Suite struct TokenAndCertificateTests {
    struct Claims: JWTPayload {
        var iss: String = "https://issuer.test"
        var aud: [String] = ["gatehouse"]
        var sub: String = "svc-rag"
        var exp: Double = Date().addingTimeInterval(300).timeIntervalSince1970
        var nbf: Double?
        var team: String? = "research"
        var groups: [String]? = ["ml", "ops"]

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func yaml(jwks: String) -> String {
        """
        models:
          - name: fixture-small
            labels: {size: small}
            upstreams: [{url: FIXTURE}]
        authentication:
          jwt:
            - issuer: https://issuer.test
              audiences: [gatehouse]
              jwksFile: \(jwks)
              algorithms: [ES256]
              leeway: 5s
              claimLabels: {team: team, groups: group}
        access:
          policies:
            - name: research-via-sso
              selector: gatehouse.io/auth == 'jwt' && team == 'research' && has(group/ml)
              rules: [{action: Allow}]
        """
    }

    /// A JWKS file holding `key` as `k1`.
    static func jwksFile(for key: ES256PrivateKey) throws -> URL {
        let parameters = try #require(key.parameters)
        let jwks = FileManager.default.temporaryDirectory.appending(path: "jwks-\(UUID().uuidString).json")
        try """
        {"keys":[{"kty":"EC","crv":"P-256","x":"\(parameters.x)","y":"\(parameters.y)","kid":"k1","alg":"ES256","use":"sig"}]}
        """.write(to: jwks, atomically: true, encoding: .utf8)
        return jwks
    }

    @Test func tokensAreVerifiedAgainstTheJWKSAndTheirClaimsBecomeLabels() async throws {
        let key = ES256PrivateKey()
        let other = ES256PrivateKey()
        let jwks = try Self.jwksFile(for: key)
        defer { try? FileManager.default.removeItem(at: jwks) }
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: "k1")
        await signer.add(ecdsa: key, kid: "unknown-kid")
        await signer.add(ecdsa: other, kid: "k2")
        func token(_ claims: Claims, kid: String = "k1") async throws -> String {
            try await signer.sign(claims, kid: JWKIdentifier(string: kid))
        }
        try await GatewayHarness.with(yaml: Self.yaml(jwks: jwks.path)) { harness in
            let valid = try await token(Claims())
            let chat = GatewayHarness.chat()
            let accepted = try await harness.call("/v1/chat/completions", key: valid, json: chat)
            #expect(accepted.status == 200)
            #expect(await harness.logged("gatehouse.identity=https://issuer.test#svc-rag"))
            var expired = Claims()
            expired.exp = Date().addingTimeInterval(-60).timeIntervalSince1970
            var withinLeeway = Claims()
            withinLeeway.exp = Date().addingTimeInterval(-2).timeIntervalSince1970
            var wrongAudience = Claims()
            wrongAudience.aud = ["someone-else"]
            var wrongIssuer = Claims()
            wrongIssuer.iss = "https://evil.test"
            var notYet = Claims()
            notYet.nbf = Date().addingTimeInterval(120).timeIntervalSince1970
            var otherTeam = Claims()
            otherTeam.team = "sales"
            #expect(try await harness.call("/v1/chat/completions", key: token(withinLeeway), json: chat).status == 200)
            for (name, bad) in [
                ("expired", expired), ("audience", wrongAudience), ("issuer", wrongIssuer), ("nbf", notYet),
            ] {
                let answer = try await harness.call("/v1/chat/completions", key: token(bad), json: chat)
                #expect(answer.status == 401, "\(name)")
            }
            #expect(try await harness.call("/v1/chat/completions", key: token(otherTeam), json: chat).status == 403)
            // An unknown kid is refused even when the key would verify; a key not in the JWKS is refused.
            #expect(
                try await harness.call("/v1/chat/completions", key: token(Claims(), kid: "unknown-kid"), json: chat)
                    .status == 401
            )
            #expect(
                try await harness.call("/v1/chat/completions", key: token(Claims(), kid: "k2"), json: chat).status
                    == 401
            )
            // alg=none and a tampered payload.
            let parts = valid.split(separator: ".")
            let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiazEifQ." + parts[1] + "."
            #expect(try await harness.call("/v1/chat/completions", key: none, json: chat).status == 401)
            let tamperedPayload = Data(
                #"{"iss":"https://issuer.test","aud":["gatehouse"],"sub":"root","exp":9999999999,"team":"research","groups":["ml"]}"#
                    .utf8
            )
            .base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            #expect(
                try await harness.call(
                    "/v1/chat/completions",
                    key: "\(parts[0]).\(tamperedPayload).\(parts[2])",
                    json: chat
                ).status == 401
            )
            #expect(!harness.logs.text.contains(String(parts[2])))
        }
    }

    /// A token's subject and an API key's name live in different name spaces: a token whose `sub` is a
    /// key's name does not get that key's grants (the token is named `issuer#subject`, and key names
    /// have no `#`).
    @Test func aTokenSubjectNeverTakesAKeysNameOrGrants() async throws {
        let key = ES256PrivateKey()
        let jwks = try Self.jwksFile(for: key)
        defer { try? FileManager.default.removeItem(at: jwks) }
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: "k1")
        let yaml =
            Self.yaml(jwks: jwks.path) + """

                    - name: the-ops-key
                      selector: gatehouse.io/name == 'ops'
                      rules: [{action: Allow}]
                """
        try await GatewayHarness.with(yaml: yaml) { harness in
            let opsKey = try await harness.key("ops")
            let chat = GatewayHarness.chat()
            #expect(try await harness.call("/v1/chat/completions", key: opsKey, json: chat).status == 200)
            var claims = Claims()
            claims.sub = "ops"
            claims.team = "sales"
            let token = try await signer.sign(claims, kid: JWKIdentifier(string: "k1"))
            let answer = try await harness.call("/v1/chat/completions", key: token, json: chat)
            #expect(answer.status == 403, "\(answer.body)")
            #expect(await harness.logged("gatehouse.identity=https://issuer.test#ops"))
        }
    }

    /// Token verification runs on the connection's event loop: a request is answered while every
    /// thread of the shared cooperative pool is blocked (as CPU-bound work elsewhere in a process can keep them).
    @Test func aTokenIsVerifiedWhileTheCooperativeThreadsAreBusy() async throws {
        let key = ES256PrivateKey()
        let jwks = try Self.jwksFile(for: key)
        defer { try? FileManager.default.removeItem(at: jwks) }
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: "k1")
        let token = try await signer.sign(Claims(), kid: JWKIdentifier(string: "k1"))
        try await GatewayHarness.with(yaml: Self.yaml(jwks: jwks.path)) { harness in
            let request = try HTTPClient.Request(
                url: harness.base + "/v1/chat/completions",
                method: .POST,
                headers: ["authorization": "Bearer \(token)", "content-type": "application/json"],
                body: .string(GatewayHarness.chat())
            )
            let outcome = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(returning: Self.sendWhileCooperativeThreadsAreBlocked(request))
                }
            }
            #expect(outcome == .answered(200))
        }
    }

    enum BlockedPoolOutcome: Equatable, Sendable {
        case answered(Int)
        case timedOut
        case poolNotBlocked
    }

    /// Blocks every cooperative thread, then sends `request` from this (non-cooperative) thread.
    static func sendWhileCooperativeThreadsAreBlocked(_ request: HTTPClient.Request) -> BlockedPoolOutcome {
        let width = ProcessInfo.processInfo.activeProcessorCount
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<width {
            Task.detached {
                started.signal()
                hold(release)
            }
        }
        defer { for _ in 0..<width { release.signal() } }
        for _ in 0..<width where started.wait(timeout: .now() + 60) != .success {
            return .poolNotBlocked
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { try? client.syncShutdown() }
        guard let response = try? client.execute(request: request, deadline: .now() + .seconds(5)).wait() else {
            return .timedOut
        }
        return .answered(Int(response.status.code))
    }

    /// Waits on `semaphore`, keeping the calling thread.
    static func hold(_ semaphore: DispatchSemaphore) {
        semaphore.wait()
    }

    @Test func aJWKSURLIsRefetchedForAnUnknownKidAtMostOncePerInterval() async throws {
        let first = ES256PrivateKey()
        let rotated = ES256PrivateKey()
        func jwk(_ key: ES256PrivateKey, kid: String) throws -> String {
            let parameters = try #require(key.parameters)
            return
                #"{"kty":"EC","crv":"P-256","x":"\#(parameters.x)","y":"\#(parameters.y)","kid":"\#(kid)","alg":"ES256"}"#
        }
        let server = try await JWKSServer.start()
        server.serve("{\"keys\":[\(try jwk(first, kid: "k1"))]}")
        let yaml = Self.yaml(jwks: "unused").replacingOccurrences(
            of: "jwksFile: unused",
            with: "jwksURL: \(server.url)\n      jwksMinimumRefresh: 1500ms"
        )
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: first, kid: "k1")
        await signer.add(ecdsa: rotated, kid: "k2")
        let chat = GatewayHarness.chat()
        try await GatewayHarness.with(yaml: yaml) { harness in
            let old = try await signer.sign(Claims(), kid: JWKIdentifier(string: "k1"))
            let new = try await signer.sign(Claims(), kid: JWKIdentifier(string: "k2"))
            #expect(try await harness.call("/v1/chat/completions", key: old, json: chat).status == 200)
            let fetchesAfterFirst = server.requests
            // The issuer rotates to k2. A burst of unknown-kid tokens refetches once at most.
            server.serve("{\"keys\":[\(try jwk(first, kid: "k1")),\(try jwk(rotated, kid: "k2"))]}")
            try await Task.sleep(for: .milliseconds(1600))
            #expect(try await harness.call("/v1/chat/completions", key: new, json: chat).status == 200)
            #expect(server.requests == fetchesAfterFirst + 1)
            let stranger = JWTKeyCollection()
            await stranger.add(ecdsa: ES256PrivateKey(), kid: "k9")
            let bogus = try await stranger.sign(Claims(), kid: JWKIdentifier(string: "k9"))
            for _ in 0..<5 {
                #expect(try await harness.call("/v1/chat/completions", key: bogus, json: chat).status == 401)
            }
            #expect(server.requests <= fetchesAfterFirst + 2)
        }
        try await server.stop()
    }

    @Test func clientCertificatesBecomeIdentitiesFromTheirSAN() async throws {
        let pki = try TestPKI()
        let directory = FileManager.default.temporaryDirectory.appending(path: "pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let caFile = directory.appending(path: "ca.pem").path
        try pki.caPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        let rag = try pki.client(uri: "spiffe://cluster.local/ns/ai/sa/rag-api")
        let stranger = try pki.client(uri: "spiffe://cluster.local/ns/web/sa/frontend")
        // A DNS SAN equal to an API key's name: its caller is named dns:ops, not ops.
        let dnsNamed = try pki.client(dns: "ops")
        // A URI with a fragment could take a token caller's issuer#subject: it names no one.
        let fragment = try pki.client(uri: "https://issuer.test#ops")
        let yaml = """
            tls:
              clientCA: \(caFile)
              clientCertificates: optional
            models:
              - name: fixture-small
                upstreams: [{url: FIXTURE}]
            authentication:
              clientCertificates:
                - san: spiffe://cluster.local/ns/ai/sa/*
                  labels: {namespace: ai}
                - san: ops
                - san: https://issuer.test*
            access:
              policies:
                - name: ai-namespace
                  selector: namespace == 'ai'
                  rules: [{action: Allow}]
                - name: the-ops-key
                  selector: gatehouse.io/name == 'ops'
                  rules: [{action: Allow}]
            """
        func client(_ pair: (certificate: String, key: String)?) throws -> HTTPClient {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            if let pair {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(pair.certificate.utf8)).map {
                    .certificate($0)
                }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(pair.key.utf8), format: .pem))
            }
            var configuration = HTTPClient.Configuration()
            configuration.tlsConfiguration = tls
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }
        try await GatewayHarness.with(yaml: yaml, tls: true) { harness in
            let url = harness.base + "/v1/chat/completions"
            for (pair, expected) in [
                (Optional(rag), 200), (Optional(stranger), 401), (nil, 401), (dnsNamed, 403), (fragment, 401),
            ] {
                let http = try client(pair)
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: GatewayHarness.chat()))
                let response = try await http.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                #expect(Int(response.status.code) == expected)
                try await http.shutdown()
            }
            #expect(await harness.logged("gatehouse.identity=spiffe://cluster.local/ns/ai/sa/rag-api"))
            #expect(await harness.logged("gatehouse.auth=client-certificate"))
            #expect(await harness.logged("gatehouse.identity=dns:ops"))
        }
    }
}

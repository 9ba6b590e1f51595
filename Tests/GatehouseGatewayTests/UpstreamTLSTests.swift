import Foundation
import GatehouseFixtureModel
import GatehouseGateway
import GatehousePolicy
import NIOSSL
import Testing

/// Zero trust towards model servers: real TLS fixtures whose certificates name the wrong identity, have
/// expired, or that require a client certificate; the gateway reaches none of them unchecked.
@Suite struct UpstreamTLSTests {
    /// A folder of PEM files: the CA, and whatever else a test writes.
    struct Files {
        let directory = FileManager.default.temporaryDirectory.appending(path: "upstream-tls-\(UUID().uuidString)")

        init() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }

        func write(_ name: String, _ text: String) throws -> String {
            let path = directory.appending(path: name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    /// A fixture model serving TLS with `pair`, asking for a client certificate signed by `clientCA` when given.
    static func fixture(
        _ pair: (certificate: String, key: String),
        clientCA: String? = nil
    ) async throws
        -> FixtureModel
    {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(pair.certificate.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(pair.key.utf8), format: .pem))
        )
        if let clientCA {
            tls.trustRoots = .file(clientCA)
            tls.certificateVerification = .noHostnameVerification
        }
        return try await FixtureModel.start(tls: try NIOSSLContext(configuration: tls))
    }

    static func yaml(url: String, tls: String) -> String {
        """
        models:
          - name: fixture-small
            upstreams:
              - url: \(url)
                connectTimeout: 2s
                tls:
        \(tls.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n"))
        access:
          policies:
            - name: everyone
              selector: all()
              rules: [{action: Allow}]
        """
    }

    @Test func theUpstreamsChainAndIdentityAreCheckedOnEveryConnection() async throws {
        let pki = try TestPKI()
        let files = try Files()
        defer { files.remove() }
        let ca = try files.write("ca.pem", pki.caPEM)
        let vllm = "spiffe://cluster.local/ns/ai/sa/vllm"
        let right = try await Self.fixture(pki.server(names: ["model.internal", vllm]))
        let impostor = try await Self.fixture(
            pki.server(names: ["model.internal", "spiffe://cluster.local/ns/web/sa/x"])
        )
        let expired = try await Self.fixture(
            pki.server(names: ["model.internal", vllm], validUntil: Date().addingTimeInterval(-600))
        )
        let untrusted = try await Self.fixture(TestPKI().server(names: ["model.internal", vllm]))
        let checks = """
            ca: \(ca)
            serverName: model.internal
            subjectAltNames: [\(vllm)]
            """
        for (fixture, expected, logged) in [
            (right, 200, nil), (impostor, 502, "gatehouse.reason=upstream_identity_refused"),
            (expired, 502, "gatehouse.reason=upstream_tls_failed"),
            (untrusted, 502, "gatehouse.reason=upstream_tls_failed"),
        ] {
            try await GatewayHarness.with(yaml: Self.yaml(url: fixture.baseURL, tls: checks)) { harness in
                let key = try await harness.key()
                let answer = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
                #expect(answer.status == expected, "\(fixture.baseURL): \(answer.body)")
                if let logged {
                    #expect(await harness.logged(logged), "\(logged)")
                    // Nothing was written to a server that did not prove who it is.
                    #expect(fixture.counters.requests == 0)
                } else {
                    #expect(fixture.counters.requests == 1)
                }
            }
        }
        for fixture in [right, impostor, expired, untrusted] { try await fixture.stop() }
    }

    @Test func theGatewayShowsItsClientCertificateToAServerThatRequiresOne() async throws {
        let pki = try TestPKI()
        let files = try Files()
        defer { files.remove() }
        let ca = try files.write("ca.pem", pki.caPEM)
        let server = try pki.server(names: ["model.internal"])
        let client = try pki.client(uri: "spiffe://cluster.local/ns/gatehouse/sa/gateway")
        let certificate = try files.write("client.pem", client.certificate)
        let key = try files.write("client.key", client.key)
        let strict = try await Self.fixture(server, clientCA: ca)
        let lenient = try await Self.fixture(server)
        let anonymous = "ca: \(ca)\nserverName: model.internal"
        let mutual = anonymous + "\ncertificate: \(certificate)\nkey: \(key)"
        for (fixture, tls, expected) in [
            (strict, mutual, 200), (strict, anonymous, 502), (lenient, mutual, 200), (lenient, anonymous, 200),
        ] {
            try await GatewayHarness.with(yaml: Self.yaml(url: fixture.baseURL, tls: tls)) { harness in
                let apiKey = try await harness.key()
                let answer = try await harness.call("/v1/chat/completions", key: apiKey, json: GatewayHarness.chat())
                #expect(answer.status == expected, "\(fixture.baseURL) with \(tls)")
            }
        }
        for fixture in [strict, lenient] { try await fixture.stop() }
    }

    /// Certificates rotated at the same paths make different settings, so a reload builds a new context.
    @Test func rotatedFilesMakeNewSettings() throws {
        let files = try Files()
        defer { files.remove() }
        let ca = try files.write("ca.pem", TestPKI().caPEM)
        let yaml = Self.yaml(url: "https://model.internal", tls: "ca: \(ca)")
        let before = try GatewayConfiguration.decode(text: yaml, file: "gatehouse.yaml")
        _ = try files.write("ca.pem", TestPKI().caPEM)
        let after = try GatewayConfiguration.decode(text: yaml, file: "gatehouse.yaml")
        #expect(before.models[0].upstreams[0].tls.caFile == after.models[0].upstreams[0].tls.caFile)
        #expect(before.models[0].upstreams[0] != after.models[0].upstreams[0])
    }

    @Test func aTLSSettingThatCannotBeMadeRefusesTheConfiguration() throws {
        let files = try Files()
        defer { files.remove() }
        let notPEM = try files.write("ca.pem", "not a certificate")
        let cases: [(String, String, String)] = [
            ("https://model.internal", "ca: /nonexistent/ca.pem", "cannot read /nonexistent/ca.pem"),
            ("https://model.internal", "ca: \(notPEM)", "the TLS files do not make a client context"),
            ("https://model.internal", "certificate: \(notPEM)", "certificate and key go together"),
            ("https://model.internal", "subjectAltNames: [\"not a name\"]", "expected a DNS name or a spiffe:// ID"),
            ("http://model.internal", "serverName: model.internal", "tls applies to https:// upstreams only"),
        ]
        for (url, tls, message) in cases {
            let text = Self.yaml(url: url, tls: tls)
            do {
                _ = try GatewayConfiguration.decode(text: text, file: "gatehouse.yaml")
                Issue.record("accepted: \(tls)")
            } catch {
                let described = error.errors.map(\.description).joined(separator: "\n")
                #expect(described.contains(message), "\(described)")
                #expect(described.contains("gatehouse.yaml:"), "\(described)")
            }
        }
    }
}

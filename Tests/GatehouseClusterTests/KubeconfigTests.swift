import Foundation
import Testing

@testable import GatehouseCluster

/// Kubeconfig and in-cluster resolution, as kubectl resolves them; errors name the problem, never a secret.
@Suite("kubeconfig")
final class KubeconfigTests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "gatehouse-kubeconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = "\(folder)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let twoContexts = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: prod
          cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.crt}
        - name: lab
          cluster: {server: "https://lab.example:443/", insecure-skip-tls-verify: true}
        users:
        - name: admin
          user: {token: "s3cret-token"}
        - name: robot
          user: {client-certificate-data: "Y2VydA==", client-key-data: "a2V5"}
        contexts:
        - name: prod-admin
          context: {cluster: prod, user: admin, namespace: ai}
        - name: lab-robot
          context: {cluster: lab, user: robot}
        current-context: prod-admin
        """

    @Test func theCurrentContextWithARelativeCertificateAuthority() throws {
        let path = try write("config", KubeconfigTests.twoContexts)
        _ = try write("ca.crt", "PEM")
        let connection = try ClusterConnection.resolve(kubeconfig: path, context: nil, environment: [:])
        #expect(connection.name == "prod-admin")
        #expect(connection.server == "https://10.0.0.1:6443")
        #expect(connection.certificateAuthority == Array("PEM".utf8))
        #expect(connection.namespace == "ai")
        #expect(try connection.bearerToken() == "s3cret-token")
        #expect(!connection.description.contains("s3cret"))
    }

    @Test func aNamedContextWithAClientCertificate() throws {
        let path = try write("config", KubeconfigTests.twoContexts)
        let connection = try ClusterConnection.resolve(kubeconfig: path, context: "lab-robot", environment: [:])
        #expect(connection.server == "https://lab.example:443")
        #expect(connection.insecureSkipTLSVerify)
        guard case .certificate(let chain, let key) = connection.credential else {
            Issue.record("expected a client certificate")
            return
        }
        #expect(chain == Array("cert".utf8) && key == Array("key".utf8))
        #expect(try connection.bearerToken() == nil)
    }

    @Test func kubeconfigListsMergeFirstWins() throws {
        let first = try write(
            "a",
            """
            clusters:
            - {name: prod, cluster: {server: "https://first:6443"}}
            users:
            - {name: admin, user: {tokenFile: token}}
            contexts:
            - {name: one, context: {cluster: prod, user: admin}}
            """
        )
        let second = try write("b", KubeconfigTests.twoContexts.replacingOccurrences(of: "ca.crt", with: "/dev/null"))
        _ = try write("token", "from-a-file\n")
        let connection = try ClusterConnection.resolve(
            kubeconfig: nil,
            context: "one",
            environment: ["KUBECONFIG": "\(folder)/missing:\(first):\(second)"]
        )
        #expect(connection.server == "https://first:6443")
        #expect(try connection.bearerToken() == "from-a-file")
        // The first file with a current-context sets it: here the second.
        let current = try ClusterConnection.resolve(
            kubeconfig: nil,
            context: nil,
            environment: ["KUBECONFIG": "\(first):\(second)"]
        )
        #expect(current.name == "prod-admin" && current.server == "https://first:6443")
    }

    @Test func inClusterFromTheServiceAccount() throws {
        _ = try write("token", "pod-token")
        _ = try write("ca.crt", "CA")
        _ = try write("namespace", "gatehouse\n")
        let environment = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"]
        let connection = try ClusterConnection.resolve(
            kubeconfig: nil,
            context: nil,
            environment: environment,
            serviceAccountDirectory: folder
        )
        #expect(connection.name == "in-cluster")
        #expect(connection.server == "https://[fd00::1]:443")
        #expect(connection.namespace == "gatehouse")
        #expect(try connection.bearerToken() == "pod-token")
        // A rotated token is read again.
        _ = try write("token", "rotated")
        #expect(try connection.bearerToken() == "rotated")
    }

    @Test(arguments: [
        ("user: {exec: {command: aws}}", "exec plugin, which gatehouse does not run"),
        ("user: {auth-provider: {name: oidc}}", "auth-provider"),
        ("user: {username: a, password: pa55w0rd-secret}", "basic authentication"),
        ("user: {client-certificate-data: Y2VydA==}", "a client certificate needs its key"),
        ("user: {token: [1]}", "field users[0].user.token has the wrong type"),
    ])
    func refusedUsers(user: String, expected: String) throws {
        let path = try write(
            "config",
            """
            clusters: [{name: c, cluster: {server: "https://k:6443"}}]
            users: [{name: u, \(user)}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """
        )
        #expect(throws: ClusterError.self) {
            try ClusterConnection.resolve(kubeconfig: path, context: nil, environment: [:])
        }
        do {
            _ = try ClusterConnection.resolve(kubeconfig: path, context: nil, environment: [:])
        } catch {
            #expect(error.code == .configuration)
            #expect(error.reason.contains(expected), "\(error.reason)")
            #expect(!error.reason.contains("pa55w0rd-secret"))
        }
    }

    @Test(arguments: [
        ("nope", nil as String?, "context \"nope\" is not in kubeconfig"),
        ("prod-admin", "http://10.0.0.1:8080", "must be https (plain http only to a loopback address)"),
        (
            "prod-admin", "https://10.0.0.1:6443\", tls-server-name: \"other",
            "tls-server-name and proxy-url are not supported"
        ),
    ])
    func refusedContexts(context: String, server: String?, expected: String) throws {
        var text = KubeconfigTests.twoContexts
        if let server { text = text.replacingOccurrences(of: "https://10.0.0.1:6443", with: server) }
        let path = try write("config", text)
        _ = try write("ca.crt", "PEM")
        do {
            _ = try ClusterConnection.resolve(kubeconfig: path, context: context, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.reason.contains(expected), "\(error.reason)")
        }
    }

    @Test func asClientGoDoes() throws {
        _ = try write("token", "from-the-file")
        let both = try write(
            "both",
            """
            clusters: [{name: c, cluster: {server: "https://k:6443", certificate-authority-data: Q0E=, insecure-skip-tls-verify: true}}]
            users: [{name: u, user: {token: inline, tokenFile: token}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """
        )
        do {
            _ = try ClusterConnection.resolve(kubeconfig: both, context: nil, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.reason.contains("insecure-skip-tls-verify and a certificate-authority cannot go together"))
        }
        let file = try write(
            "file",
            try String(contentsOfFile: both, encoding: .utf8).replacingOccurrences(
                of: "insecure-skip-tls-verify: true",
                with: "server2: x"
            )
        )
        #expect(
            try ClusterConnection.resolve(kubeconfig: file, context: nil, environment: [:]).bearerToken()
                == "from-the-file"
        )
        // In a pod, a KUBECONFIG whose files are all missing means the service account; the port must be set.
        _ = try write("ca.crt", "CA")
        let pod = [
            "KUBECONFIG": "\(folder)/none", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
        ]
        #expect(
            try ClusterConnection.resolve(
                kubeconfig: nil,
                context: nil,
                environment: pod,
                serviceAccountDirectory: folder
            ).name
                == "in-cluster"
        )
        do {
            _ = try ClusterConnection.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1"],
                directory: folder
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == "in-cluster configuration: KUBERNETES_SERVICE_PORT is not set")
        }
    }

    @Test func plainHTTPToLoopbackIsKubectlProxy() throws {
        let path = try write(
            "config",
            KubeconfigTests.twoContexts.replacingOccurrences(of: "https://10.0.0.1:6443", with: "http://127.0.0.1:8001")
        )
        _ = try write("ca.crt", "PEM")
        #expect(
            try ClusterConnection.resolve(kubeconfig: path, context: nil, environment: [:]).server
                == "http://127.0.0.1:8001"
        )
    }

    @Test func nothingToGoOn() {
        do {
            _ = try ClusterConnection.resolve(kubeconfig: nil, context: nil, environment: ["HOME": folder])
            Issue.record("expected an error")
        } catch {
            #expect(error.reason.hasPrefix("no kubeconfig: give --kubeconfig, set KUBECONFIG"))
        }
        do {
            _ = try ClusterConnection.resolve(kubeconfig: "\(folder)/absent", context: nil, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == "kubeconfig \(folder)/absent: no such file")
        }
    }
}

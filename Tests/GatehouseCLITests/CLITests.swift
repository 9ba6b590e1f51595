import Foundation
import Testing

/// Runs the real `gatehouse` binary: exit codes, output and errors as a user sees them.
@Suite("gatehouse command line")
struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = root.appendingPathComponent("examples/ai-namespace").path

    struct Run {
        let status: Int32
        let output: String
        let error: String
    }

    static func gatehouse(_ arguments: String...) throws -> Run { try gatehouse(arguments: arguments) }

    static func gatehouse(arguments: [String]) throws -> Run {
        let binary = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("gatehouse")
        let candidates = [binary, root.appendingPathComponent(".build/debug/gatehouse")]
        let executable = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            output: String(decoding: output, as: UTF8.self),
            error: String(decoding: error, as: UTF8.self)
        )
    }

    @Test("explain: allowed exits 0 and shows the deciding rule")
    func explainAllowed() throws {
        let run = try Self.gatehouse(
            "policy",
            "explain",
            "-f",
            Self.example,
            "--from",
            "ai/rag-api",
            "--to",
            "ai/vector-db",
            "--port",
            "6333"
        )
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("verdict: ALLOW"))
        #expect(
            run.output.contains(
                "NetworkPolicy ai/vector-db: rule 0 matched: Allow  (\(Self.example)/kubernetes.yaml:34)"
            )
        )
    }

    @Test("explain: denied exits 1; JSON carries the trace")
    func explainDenied() throws {
        let run = try Self.gatehouse(
            "policy",
            "explain",
            "-f",
            Self.example,
            "--from",
            "ai/vllm-0",
            "--to",
            "ip:203.0.113.9",
            "--port",
            "443",
            "-o",
            "json"
        )
        #expect(run.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        #expect(json?["verdict"] as? String == "deny")
        let egress = json?["egress"] as? [String: Any]
        let enforced = egress?["enforced"] as? [String: Any]
        let outcome = enforced?["outcome"] as? [String: Any]
        #expect(outcome?["ruleIndex"] as? Int == 2)
    }

    @Test("bad input exits 2 with file, line and field; nothing on stdout")
    func badInput() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-bad-\(UUID()).yaml")
        try """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p, namespace: x}
        spec:
          podSelector: {}
          ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/99}}]}]
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try Self.gatehouse("policy", "matrix", "-f", file.path, "--port", "80")
        #expect(run.status == 2)
        #expect(run.output.isEmpty)
        #expect(run.error.contains("\(file.path):6:") && run.error.contains("spec.ingress[0].from[0].ipBlock.cidr"))
    }

    @Test("usage errors exit 2")
    func usage() throws {
        #expect(
            try Self.gatehouse("policy", "explain", "-f", Self.example, "--to", "ai/rag-api", "--port", "80").status
                == 2
        )
        #expect(try Self.gatehouse("policy", "nonsense").status == 2)
        #expect(try Self.gatehouse("policy", "diff", "-f", Self.example).status == 2, "diff needs --against or --apply")
        let unknownPod = try Self.gatehouse(
            "policy",
            "explain",
            "-f",
            Self.example,
            "--from",
            "ai/nope",
            "--to",
            "ai/rag-api",
            "--port",
            "80"
        )
        #expect(unknownPod.status == 2 && unknownPod.error.contains("no pod ai/nope"))
    }

    @Test("spend commands: bad flags exit 2 naming the flag; keys with quotas, budgets, usage and audit read back")
    func spendCommands() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let bad: [([String], String)] = [
            (["keys", "create", "--name", "k", "--rpm", "0"], "--rpm 0: must be at least 1"),
            (["keys", "create", "--name", "k", "--budget-usd", "lots"], "--budget-usd lots: expected a dollar amount"),
            (["keys", "create", "--name", "k", "--budget-period", "week"], "--budget-period needs --budget-usd"),
            (["keys", "create", "--name", "k", "--budget-usd", "5", "--budget-period", "year"], "budget-period"),
            (["audit", "list", "--since", "yesterday"], "--since yesterday: expected a duration"),
            (["audit", "list", "--decision", "maybe"], "The value 'maybe' is invalid for '--decision <decision>'"),
            (["usage", "--until", "soon"], "--until soon: expected a duration"),
        ]
        for (arguments, message) in bad {
            let run = try Self.gatehouse(arguments: arguments + ["--data-dir", data.path])
            #expect(run.status == 2, "\(arguments)")
            #expect(run.error.contains(message), "\(arguments): \(run.error)")
            #expect(run.output.isEmpty)
        }
        let created = try Self.gatehouse(
            "keys",
            "create",
            "--name",
            "metered",
            "--budget-usd",
            "2.5",
            "--rpm",
            "30",
            "-o",
            "json",
            "--data-dir",
            data.path
        )
        #expect(created.status == 0, "\(created.error)")
        #expect(
            created.output.contains(#""quota":{"requestsPerMinute":30,"budgetUSD":"2.500000","budgetPeriod":"month"}"#)
        )
        let budgets = try Self.gatehouse("budgets", "--data-dir", data.path)
        // No request has been charged yet: a note, as kubectl's "No resources found", and an empty stdout.
        #expect(budgets.status == 0)
        #expect(budgets.output.isEmpty)
        #expect(budgets.error.contains("no budget has been charged yet"))
        let verify = try Self.gatehouse("audit", "verify", "--data-dir", data.path)
        #expect(verify.status == 0)
        #expect(verify.output.contains("audit trail intact: 0 records"))
        let usage = try Self.gatehouse("usage", "--since", "7d", "-o", "json", "--data-dir", data.path)
        #expect(usage.status == 0)
        #expect(usage.output.contains("\"items\" : ["))
    }

    @Test("matrix prints the truth table")
    func matrix() throws {
        let run = try Self.gatehouse(
            "policy",
            "matrix",
            "-f",
            Self.example,
            "--port",
            "6333",
            "--external",
            "203.0.113.9"
        )
        #expect(run.status == 0, "\(run.error)")
        let row = run.output.split(separator: "\n").first { $0.hasPrefix("ai/rag-api ") }
        #expect(row?.hasSuffix(". . X X X X X") == true, "\(run.output)")
        #expect(run.output.contains("ip:203.0.113.9"))
    }

    @Test("matrix -o json is an object for one port and an array for several")
    func matrixJSON() throws {
        let one = try Self.gatehouse("policy", "matrix", "-f", Self.example, "--port", "6333", "-o", "json")
        let object = try JSONSerialization.jsonObject(with: Data(one.output.utf8)) as? [String: Any]
        let endpoints = object?["endpoints"] as? [String]
        let allowed = object?["allowed"] as? [[Bool]]
        #expect(endpoints?.count == 6 && allowed?.count == 6 && allowed?.allSatisfy { $0.count == 6 } == true)
        let rag = try #require(endpoints?.firstIndex(of: "ai/rag-api"))
        let store = try #require(endpoints?.firstIndex(of: "ai/vector-db"))
        #expect(allowed?[rag][store] == true && allowed?[store][rag] == false)
        let several = try Self.gatehouse("policy", "matrix", "-f", Self.example, "-o", "json")
        let list = try JSONSerialization.jsonObject(with: Data(several.output.utf8)) as? [[String: Any]]
        #expect((list?.count ?? 0) > 1)
    }

    @Test("lint exits 1 with findings; diff exits 1 with changes")
    func lintAndDiff() throws {
        let lint = try Self.gatehouse("policy", "lint", "-f", Self.example)
        #expect(lint.status == 1 && lint.output.contains("egress-blocks-dns"))
        let example = Self.example
        let diff = try Self.gatehouse(
            "policy",
            "diff",
            "-f",
            example,
            "--apply",
            "examples/ai-namespace-proposed",
            "-o",
            "json"
        )
        #expect(diff.status == 1, "\(diff.error)")
        #expect(diff.output.contains("\"from\" : \"web/frontend\"") && diff.output.contains("\"ports\" : \"6333\""))
        let same = try Self.gatehouse("policy", "diff", "-f", example, "--against", example)
        #expect(same.status == 0 && same.output.contains("0 change(s)"))
    }

    @Test("conformance -o json reports failing probes with their decision")
    func conformanceJSON() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-corpus-\(UUID()).json")
        try """
        {"cases": [{"name": "wrong", "source": "test",
          "pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1"}, {"namespace": "x", "name": "b", "ip": "10.0.0.2"}],
          "policies": [],
          "probes": [{"from": "x/a", "to": "x/b", "port": 80, "expected": "deny"},
                     {"from": "x/a", "to": "x/b", "port": 81, "expected": "allow"}]}]}
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try Self.gatehouse("policy", "conformance", file.path, "-o", "json")
        #expect(run.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        #expect(json?["passed"] as? Int == 1 && json?["failed"] as? Int == 1)
        let probes = json?["probes"] as? [[String: Any]]
        #expect(probes?.count == 1 && probes?.first?["port"] as? Int == 80)
        #expect((probes?.first?["decision"] as? [String: Any])?["verdict"] as? String == "allow")
    }

    @Test("conformance closes with the count line and exits by failures")
    func conformance() throws {
        let corpus = Self.root.appendingPathComponent("Tests/Conformance/netpol-doc-examples.json").path
        let run = try Self.gatehouse("policy", "conformance", corpus)
        #expect(run.status == 0)
        #expect(run.output.hasSuffix("37 passed, 0 failed\n"))
    }
}

import Testing

@testable import GatehouseGuard

@Suite("Redaction and safe findings")
struct RedactionTests {
    @Test("each finding's bytes are replaced by a marker naming its rule")
    func redact() {
        let text = "Mail a.b@example.com, key \(Fixtures.awsKey), card 4111-1111-1111-1111. Ünïcödé ✓"
        let redacted = GuardScanner.redact(text, findings: Fixtures.scanner.scan(text))
        #expect(
            redacted
                == "Mail [REDACTED:email], key [REDACTED:aws-access-key], card [REDACTED:credit-card]. Ünïcödé ✓"
        )
    }

    @Test("overlapping findings are replaced by one marker, the first one's")
    func overlapping() {
        let findings = [
            GuardFinding(rule: .keywords("names"), range: 6..<14),
            GuardFinding(rule: .detector(.email), range: 2..<10),
        ]
        #expect(GuardScanner.redact("0123456789abcdefgh", findings: findings) == "01[REDACTED:email]efgh")
    }

    @Test("a private key block is replaced whole, through its END line")
    func privateKey() {
        let text = "key:\n\(Fixtures.privateKey)\ndone"
        #expect(
            GuardScanner.redact(text, findings: Fixtures.scanner.scan(text)) == "key:\n[REDACTED:private-key]\ndone"
        )
    }

    @Test("findings and their descriptions never contain the matched text")
    func findingsAreSafeToLog() {
        let secrets = [
            Fixtures.awsKey, Fixtures.githubToken, Fixtures.slackToken, Fixtures.openAIKey, Fixtures.jwt,
            Fixtures.secretValue, "a.b@example.com", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
        ]
        for text in Fixtures.corpus {
            let findings = Fixtures.customScanner.scan(text)
            let logged = findings.map(\.description).joined(separator: "\n") + "\(findings)"
            for secret in secrets { #expect(!logged.contains(secret)) }
        }
        let finding = GuardFinding(rule: .detector(.promptInjection), range: 3..<40, score: 0.8)
        #expect(finding.description == "prompt-injection at bytes 3..<40, score 0.80")
    }
}

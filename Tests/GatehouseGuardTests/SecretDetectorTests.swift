import Testing

@testable import GatehouseGuard

@Suite("Secret detectors")
struct SecretDetectorTests {
    @Test("an AWS access key id is found, and only with its prefix, length and boundaries")
    func awsAccessKey() {
        #expect(Fixtures.matches("key=\(Fixtures.awsKey);") == ["aws-access-key: \(Fixtures.awsKey)"])
        #expect(Fixtures.matches("ASIAY34FZKBOKMUTVV7A") == ["aws-access-key: ASIAY34FZKBOKMUTVV7A"])
        #expect(Fixtures.matches("AKIAIOSFODNN7EXAMPL").isEmpty, "19 characters")
        #expect(Fixtures.matches("AKIAIOSFODNN7EXAMPLEX").isEmpty, "part of a longer word")
        #expect(Fixtures.matches("xAKIAIOSFODNN7EXAMPLE").isEmpty, "part of a longer word")
        #expect(Fixtures.matches("AIDAIOSFODNN7EXAMPLE").isEmpty, "a user id, not a key")
    }

    @Test("a private key is found from BEGIN through END, or through the end of the text")
    func privateKey() {
        let text = "before\n\(Fixtures.privateKey)\nafter"
        #expect(Fixtures.matches(text) == ["private-key: \(Fixtures.privateKey)"])
        let openSSH = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA"
        #expect(Fixtures.matches("x \(openSSH)") == ["private-key: \(openSSH)"])
        let pgp = "-----BEGIN PGP " + "PRIVATE KEY BLOCK-----\nlQOYBF0\n-----END PGP " + "PRIVATE KEY BLOCK-----"
        #expect(Fixtures.matches(pgp) == ["private-key: \(pgp)"])
        let plain = "-----BEGIN " + "PRIVATE KEY-----\nMIIEvQ\n-----END " + "PRIVATE KEY-----"
        #expect(Fixtures.matches(plain) == ["private-key: \(plain)"])
        #expect(Fixtures.matches("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----").isEmpty)
        #expect(Fixtures.matches("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----").isEmpty)
    }

    @Test("GitHub classic and fine-grained tokens are found; a wrong length or prefix is not")
    func githubToken() {
        #expect(Fixtures.matches("t \(Fixtures.githubToken) t") == ["github-token: \(Fixtures.githubToken)"])
        #expect(
            Fixtures.matches(Fixtures.githubFineGrainedToken) == ["github-token: \(Fixtures.githubFineGrainedToken)"]
        )
        #expect(Fixtures.matches(String(Fixtures.githubToken.dropLast())).isEmpty, "35 characters")
        #expect(Fixtures.matches(Fixtures.githubToken + "X").isEmpty, "37 characters")
        #expect(Fixtures.matches("ghx_" + String(Fixtures.githubToken.dropFirst(4))).isEmpty)
    }

    @Test("Slack tokens are found; a short or unknown-kind one is not")
    func slackToken() {
        #expect(Fixtures.matches("slack: \(Fixtures.slackToken)") == ["slack-token: \(Fixtures.slackToken)"])
        #expect(Fixtures.matches("xo" + "xb-12345").isEmpty)
        #expect(Fixtures.matches("xo" + "xz-123456789012-abcdefghij").isEmpty)
    }

    @Test("OpenAI keys are found with and without a project; short or embedded ones are not")
    func openAIKey() {
        #expect(Fixtures.matches("key \(Fixtures.openAIKey).") == ["openai-key: \(Fixtures.openAIKey)"])
        let legacy = "sk" + "-" + "AbCdEfGhIjKlMnOpQrStUvWx0123"
        #expect(Fixtures.matches(legacy) == ["openai-key: \(legacy)"])
        #expect(Fixtures.matches("sk" + "-learn is a library").isEmpty)
        #expect(Fixtures.matches("task" + "-AbCdEfGhIjKlMnOpQrStUvWx0123").isEmpty)
    }

    @Test("a JSON Web Token needs three segments of at least ten characters, the first starting with eyJ")
    func jwt() {
        #expect(Fixtures.matches("Authorization: Bearer \(Fixtures.jwt)") == ["jwt: \(Fixtures.jwt)"])
        let segments = Fixtures.jwt.split(separator: ".")
        #expect(Fixtures.matches(segments[0] + "." + segments[1]).isEmpty, "two segments")
        #expect(Fixtures.matches(segments[0] + "." + segments[1] + ".abc").isEmpty, "a short signature")
        #expect(Fixtures.matches("abJhbGciOiJIUzI1NiJ9." + segments[1] + "." + segments[2]).isEmpty)
    }

    @Test("a generic secret is a high-entropy value after a secret-like key; only the value is reported")
    func genericSecret() {
        let value = Fixtures.secretValue
        #expect(Fixtures.matches("password = \"\(value)\"") == ["generic-secret: \(value)"])
        #expect(Fixtures.matches("DB_PASSWORD=\(value)") == ["generic-secret: \(value)"])
        #expect(Fixtures.matches("{\"client_secret\": \"\(value)\"}") == ["generic-secret: \(value)"])
        #expect(Fixtures.matches("apiKey: \(value)") == ["generic-secret: \(value)"])
        #expect(Fixtures.matches("auth_token:\(value)") == ["generic-secret: \(value)"])
    }

    @Test(
        "no generic secret without a secret-like key, a long enough value or enough entropy",
        arguments: [
            "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "sha=4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "password = aaaaaaaaaaaaaaaaaaaaaaaa",
            "password = short1X",
            "author: JohnathanSmithsonWashington",
            "max_tokens: 100000000000000000000",
            "passwordHash = \(Fixtures.secretValue)",
        ]
    )
    func notGenericSecret(text: String) {
        #expect(Fixtures.matches(text).isEmpty)
    }

    @Test("a specific credential wins over a generic secret on the same value")
    func specificCredentialWins() {
        #expect(Fixtures.matches("token=\(Fixtures.jwt)") == ["jwt: \(Fixtures.jwt)"])
        #expect(Fixtures.matches("{\"api_key\": \"\(Fixtures.openAIKey)\"}") == ["openai-key: \(Fixtures.openAIKey)"])
    }
}

@Suite("Secret detectors on floods of secret-shaped tokens")
struct SecretFloodTests {
    /// Repeated JWT, AWS-key and GitHub-token shapes once took time growing with the square of their
    /// number (each finding was compared with every credential finding): 781 KiB of `eyJhbGciOi.` about
    /// 8 s, 3.4 MiB over two minutes. Four times the text must take about four times as long, not
    /// sixteen, and the large one must stay well under a second of work per MiB.
    @Test(arguments: ["eyJhbGciOi.", Fixtures.awsKey + " ", Fixtures.githubToken + " "])
    func scanningStaysLinear(shape: String) {
        let clock = ContinuousClock()
        func time(_ bytes: Int) -> (Duration, Int) {
            let text = String(repeating: shape, count: bytes / shape.utf8.count)
            var found = 0
            let elapsed = clock.measure { found = Fixtures.scanner.scan(text).count }
            return (elapsed, found)
        }
        _ = time(50_000)
        let (small, smallFound) = time(200_000)
        let (large, largeFound) = time(800_000)
        // Overlapping shapes merge into one finding, so only their presence is counted.
        #expect(smallFound > 0 && largeFound > 0)
        #expect(large < small * 8, "200 kB took \(small), 800 kB \(large)")
        #expect(large < .seconds(4), "800 kB took \(large)")
    }
}

import Testing

@testable import GatehouseGuard

@Suite("Streaming")
struct GuardStreamTests {
    /// Feeds `deltas` and returns the released text, the findings and the most bytes held at once.
    private func stream(
        _ deltas: [String],
        scanner: GuardScanner = Fixtures.scanner,
        mode: GuardStream.Mode = .redact
    ) -> (text: String, findings: [GuardFinding], mostHeld: Int) {
        var stream = GuardStream(scanner: scanner, mode: mode)
        var text = ""
        var findings: [GuardFinding] = []
        var mostHeld = 0
        for delta in deltas {
            let release = stream.feed(delta)
            text += release.text
            findings += release.findings
            mostHeld = max(mostHeld, stream.heldBytes)
        }
        let release = stream.finish()
        return (text + release.text, findings + release.findings, mostHeld)
    }

    @Test("for any split into deltas, releases add up to the whole-text redaction and findings")
    func equivalence() {
        var random = SeededRandom(seed: 0x6A7E_4005)
        // Custom patterns hold back a fixed window, which hides mistakes at tighter cuts: test both ways.
        for text in Fixtures.corpus {
            for scanner in [Fixtures.scanner, Fixtures.customScanner] {
                let splits =
                    [text.map(String.init)]
                    + (1..<20).map { split in
                        random.deltas(of: text, longest: split % 2 == 0 ? 4 : 24)
                    }
                expectStreamsLikeScan(text, scanner: scanner, splits: splits)
            }
        }
    }

    @Test("random texts of match fragments stream exactly like a whole-text scan, in any split")
    func equivalenceOnRandomTexts() {
        var random = SeededRandom(seed: 0xF4A6_3E57)
        for trial in 0..<300 {
            let fragmentCount = Int.random(in: 1...60, using: &random)
            let text = (0..<fragmentCount).map { _ in Fixtures.fragments.randomElement(using: &random)! }.joined()
            let scanner = trial % 4 == 0 ? Fixtures.customScanner : Fixtures.scanner
            let deltas = random.deltas(of: text, longest: trial % 3 == 0 ? 1 : 9)
            expectStreamsLikeScan(text, scanner: scanner, splits: [deltas])
        }
    }

    /// Streams each split of `text` in both modes and expects the releases to add up to what a whole-text
    /// scan gives.
    private func expectStreamsLikeScan(_ text: String, scanner: GuardScanner, splits: [[String]]) {
        let findings = scanner.scan(text)
        let redacted = GuardScanner.redact(text, findings: findings)
        for deltas in splits {
            let redacting = stream(deltas, scanner: scanner)
            #expect(redacting.text == redacted, "\(text.debugDescription)")
            #expect(redacting.findings == findings, "\(text.debugDescription)")
            let detecting = stream(deltas, scanner: scanner, mode: .detect)
            #expect(detecting.text == text)
            #expect(detecting.findings == findings, "\(text.debugDescription)")
        }
    }

    @Test("a secret fed one byte per delta is never released before it is redacted")
    func secretSplitByteByByte() {
        let text = "The key is \(Fixtures.awsKey), mail me at a.b@example.com."
        var stream = GuardStream(scanner: Fixtures.scanner)
        var released = ""
        for byte in text.utf8 {
            released += stream.feed(String(decoding: [byte], as: UTF8.self)).text
            #expect(!released.contains("AKIA") && !released.contains("a.b@"))
        }
        released += stream.finish().text
        #expect(released == "The key is [REDACTED:aws-access-key], mail me at [REDACTED:email].")
    }

    @Test("in detect mode, a finding comes with the release that first carries its bytes")
    func findingBeforeItsBytes() {
        let text = "The key is \(Fixtures.awsKey), thanks."
        let keyStart = 11
        var stream = GuardStream(scanner: Fixtures.scanner, mode: .detect)
        var releasedBytes = 0
        var reported = false
        for character in text {
            let release = stream.feed(String(character))
            reported = reported || !release.findings.isEmpty
            releasedBytes += release.text.utf8.count
            if releasedBytes > keyStart { #expect(reported) }
        }
        #expect(reported)
    }

    @Test("findings carry offsets into the whole answer")
    func offsets() {
        let result = stream(["Hello there. ", "Write to a.b@", "example.com now"])
        #expect(result.findings == [GuardFinding(rule: .detector(.email), range: 22..<37)])
    }

    @Test("plain prose is held back no further than its last word")
    func proseHeldBriefly() {
        let prose = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20)
        let result = stream(prose.map(String.init))
        #expect(result.text == prose)
        #expect(result.mostHeld <= 5)
    }

    @Test("a long run that could be a token is held back at most the longest token")
    func longRunBounded() {
        let run = "eyJ" + String(repeating: "AbCdEfGh0123_-", count: 2000)
        var random = SeededRandom(seed: 7)
        let result = stream(random.deltas(of: "start " + run + " end", longest: 64))
        #expect(result.text == "start " + run + " end")
        #expect(result.findings.isEmpty)
        #expect(result.mostHeld <= ScanBuffer.longestJWT + 64)
    }

    @Test("a long word, a long number and a long email-like run are held back at most the longest token")
    func longWordsBounded() {
        var random = SeededRandom(seed: 3)
        for run in [
            String(repeating: "a", count: 20_000), String(repeating: "7", count: 20_000),
            "x" + String(repeating: ".y", count: 5_000),
        ] {
            let result = stream(random.deltas(of: run + " end", longest: 50))
            #expect(result.text == run + " end")
            #expect(result.mostHeld <= ScanBuffer.longestJWT + 50)
        }
    }

    @Test("an open private key block is held up to the bound, then reported and swallowed to its END line")
    func keyBlockBounded() {
        let header = "-----BEGIN RSA " + "PRIVATE KEY-----\n"
        let body = String(
            repeating: "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9OiZ1BjP5CE8Wm0ZV0lAaXlIgB1qDOc6lQ8\n",
            count: 400
        )
        let text = "before " + header + body + "-----END RSA " + "PRIVATE KEY-----\nafter a.b@example.com"
        var random = SeededRandom(seed: 11)
        let deltas = random.deltas(of: text, longest: 100)
        let result = stream(deltas)
        #expect(result.text == "before [REDACTED:private-key]\nafter [REDACTED:email]")
        #expect(result.mostHeld <= GuardStream.maxKeyBlockBytes + 100)
        #expect(result.findings.map(\.rule) == [.detector(.privateKey), .detector(.email)])
        #expect(result.findings.first?.range.lowerBound == 7)
        let detecting = stream(deltas, mode: .detect)
        #expect(detecting.text == text)
        #expect(detecting.findings.map(\.rule) == [.detector(.privateKey), .detector(.email)])
    }

    @Test("a key block under the bound is released whole once its END line arrives")
    func keyBlockReleasedAtEnd() {
        let text = "k: \(Fixtures.privateKey) ok"
        var stream = GuardStream(scanner: Fixtures.scanner)
        var released = ""
        for character in text {
            released += stream.feed(String(character)).text
            #expect(!released.contains("MIIE"))
        }
        #expect(released == "k: [REDACTED:private-key] ", "released before the answer ends")
        released += stream.finish().text
        #expect(released == "k: [REDACTED:private-key] ok")
    }
}

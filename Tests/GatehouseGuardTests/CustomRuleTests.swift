import Testing

@testable import GatehouseGuard

@Suite("Custom patterns, keyword lists and configuration errors")
struct CustomRuleTests {
    @Test("custom patterns report their matches under their name")
    func patterns() throws {
        let scanner = try GuardScanner(
            GuardConfiguration(
                patterns: [
                    GuardPattern(name: "ticket", pattern: "ACME-[0-9]{6}"),
                    GuardPattern(name: "employee", pattern: #"\bEMP\d{5}\b"#),
                ]
            )
        )
        #expect(
            Fixtures.matches("See ACME-123456 and EMP12345, not EMP123456 or ACME-12345.", scanner: scanner) == [
                "ticket: ACME-123456", "employee: EMP12345",
            ]
        )
        #expect(scanner.scan("Ünïcödé ACME-000001").map(\.range) == [12..<23], "byte offsets, not characters")
    }

    @Test("keywords match whole words, ignoring case and extra whitespace between words")
    func keywords() throws {
        let scanner = try GuardScanner(
            GuardConfiguration(
                keywordLists: [
                    GuardKeywordList(name: "codenames", words: ["Falcon", "project nightjar"]),
                    GuardKeywordList(name: "people", words: ["Zoë"]),
                ]
            )
        )
        #expect(
            Fixtures.matches("FALCON, Project   Nightjar and zoë; not falcons or nightjar.", scanner: scanner) == [
                "codenames: FALCON", "codenames: Project   Nightjar", "people: zoë",
            ]
        )
        #expect(Fixtures.matches("falconry and peregrine-falcon", scanner: scanner) == ["codenames: falcon"])
    }

    @Test("an invalid pattern is rejected with the pattern's name")
    func invalidPattern() {
        let error = #expect(throws: GuardConfigurationError.self) {
            try GuardScanner(GuardConfiguration(patterns: [GuardPattern(name: "broken", pattern: "ACME-[0-9")]))
        }
        #expect(error?.code == .invalidPattern)
        #expect(error?.name == "broken")
        #expect(error?.description.hasPrefix("broken: the pattern does not compile") == true)
    }

    @Test(
        "bad names, keywords, thresholds and windows are rejected with a code",
        arguments: [
            (GuardConfiguration(patterns: [GuardPattern(name: "email", pattern: "x")]), "duplicate-name"),
            (
                GuardConfiguration(
                    patterns: [GuardPattern(name: "a", pattern: "x")],
                    keywordLists: [GuardKeywordList(name: "a", words: ["y"])]
                ), "duplicate-name"
            ),
            (GuardConfiguration(patterns: [GuardPattern(name: "no spaces", pattern: "x")]), "invalid-name"),
            (GuardConfiguration(keywordLists: [GuardKeywordList(name: "empty", words: [""])]), "invalid-keyword"),
            (GuardConfiguration(keywordLists: [GuardKeywordList(name: "tag", words: ["#secret"])]), "invalid-keyword"),
            (GuardConfiguration(injectionThreshold: 1.5), "invalid-threshold"),
            (GuardConfiguration(patternWindow: 0), "invalid-window"),
        ]
    )
    func invalidConfiguration(configuration: GuardConfiguration, code: String) {
        let error = #expect(throws: GuardConfigurationError.self) { try GuardScanner(configuration) }
        #expect(error?.code.rawValue == code)
    }

    @Test("disabled detectors report nothing")
    func disabledDetectors() throws {
        let scanner = try GuardScanner(GuardConfiguration(detectors: [.email]))
        #expect(
            Fixtures.matches("a.b@example.com \(Fixtures.awsKey) 4111 1111 1111 1111", scanner: scanner) == [
                "email: a.b@example.com"
            ]
        )
    }
}

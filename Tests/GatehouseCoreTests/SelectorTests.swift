import GatehouseCore
import Testing

@Suite("Calico selector language")
struct SelectorTests {
    private func matches(_ text: String, _ labels: Labels) throws -> Bool {
        try Selector(parsing: text).matches(labels)
    }

    @Test("operators on present labels")
    func presentLabels() throws {
        let labels: Labels = ["app": "vllm", "tier": "gpu-large", "env": "prod"]
        #expect(try matches("app == 'vllm'", labels))
        #expect(try !matches("app == \"other\"", labels))
        #expect(try matches("app != 'other'", labels))
        #expect(try matches("env in {'prod', 'staging'}", labels))
        #expect(try !matches("env not in {'prod'}", labels))
        #expect(try matches("tier contains 'gpu'", labels))
        #expect(try matches("tier starts with 'gpu-'", labels))
        #expect(try matches("tier ends with '-large'", labels))
        #expect(try matches("has(app) && !has(missing)", labels))
        #expect(try matches("app == 'x' || (env == 'prod' && tier != 'small')", labels))
        #expect(try matches("all()", labels))
        #expect(try matches("", labels))
    }

    @Test("absent labels: == in contains are false, != and not in are true (ast.go)")
    func absentLabels() throws {
        let labels: Labels = ["app": "web"]
        #expect(try !matches("team == 'a'", labels))
        #expect(try matches("team != 'a'", labels))
        #expect(try !matches("team in {'a'}", labels))
        #expect(try matches("team not in {'a'}", labels))
        #expect(try !matches("team in {}", labels))
        #expect(try matches("team not in {}", labels))
        #expect(try !matches("team contains ''", labels))
        #expect(try !matches("team starts with ''", labels))
        #expect(try !matches("has(team)", labels))
        #expect(try matches("!has(team)", labels))
    }

    @Test("grammar details from Calico's tokenizer")
    func grammar() throws {
        let labels: Labels = ["in": "x", "a": "1", "projectcalico.org/namespace": "ai"]
        #expect(try matches("in == 'x'", labels), "keywords are not reserved as labels")
        #expect(try matches("a notin {'2'}", labels), "two-word operators may have no space")
        #expect(try matches("a in {'1',}", labels), "a trailing comma is accepted")
        #expect(try matches("!!has(a)", labels))
        #expect(try matches("projectcalico.org/namespace == 'ai'", labels))
        #expect(try matches("has( a )", labels))
        #expect(
            try Selector(parsing: "a == 'x' && b == 'y' || c == 'z'")
                == .or([.and([.equal("a", "x"), .equal("b", "y")]), .equal("c", "z")])
        )
    }

    @Test(
        "errors name the column",
        arguments: [
            ("app = 'x'", 5), ("app == x", 8), ("app == 'x' &&", 14), ("(app == 'x'", 12), ("app", 4),
            ("app inx {'a'}", 5),
            ("a == 'x'\n", 9), ("has(a", 6), ("a == 'unterminated", 6), ("a in {'x' 'y'}", 11),
        ]
    )
    func errors(text: String, column: Int) {
        #expect(throws: SelectorError.self) { try Selector(parsing: text) }
        do {
            _ = try Selector(parsing: text)
        } catch {
            #expect(error.column == column, "\(text): \(error)")
        }
    }

    @Test("description parses back to the same selector")
    func roundTrip() throws {
        for text in [
            "a == 'x' && (b != 'y' || !has(c))", "k in {'a', 'b'}", "k not in {}", "a contains \"it's\"",
            "all()", "global()", "x starts with 'p' || y ends with 's'", "!(a == 'x' && b == 'y')",
        ] {
            let selector = try Selector(parsing: text)
            #expect(try Selector(parsing: selector.description) == selector, "\(text) -> \(selector)")
        }
    }

    @Test("hostile input is refused, never a crash")
    func hostile() {
        #expect(throws: SelectorError.self) { try Selector(parsing: String(repeating: "(", count: 10_000)) }
        #expect(throws: SelectorError.self) { try Selector(parsing: String(repeating: "!", count: 10_000)) }
        #expect(throws: SelectorError.self) { try Selector(parsing: String(repeating: "a", count: 600) + " == 'x'") }
    }

    @Test("Kubernetes label selectors become the same tree")
    func labelSelector() {
        let selector = LabelSelector(
            matchLabels: ["app": "db"],
            matchExpressions: [
                .init(key: "env", operator: .notIn, values: ["dev"]),
                .init(key: "gone", operator: .doesNotExist, values: []),
            ]
        )
        #expect(selector.selector.matches(["app": "db"]), "NotIn and DoesNotExist hold on an absent key")
        #expect(!selector.selector.matches(["app": "db", "env": "dev"]))
        #expect(!selector.selector.matches(["app": "db", "gone": ""]))
        #expect(LabelSelector.everything.selector == .all)
    }
}

import Foundation
import GatehouseTesting
import Testing

@testable import GatehousePolicy

/// The fast parser must give exactly the tree Yams (libyaml) gives, or give up.
@Suite("Fast YAML parser against libyaml")
struct FastYAMLParserTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// nil when both agree (or the fast parser gave up); otherwise what differs.
    static func difference(_ text: String) -> String? {
        var fast = FastYAMLParser(text)
        guard let mine = try? fast.documents() else { return nil }
        guard let reference = try? ResourceValue.yamsDocuments(in: text, file: "t") else {
            return "fast parser accepted what libyaml refuses"
        }
        guard mine.count == reference.count else { return "\(mine.count) documents, libyaml \(reference.count)" }
        for (left, right) in zip(mine, reference) {
            if let difference = compare(left, right, path: "") { return difference }
        }
        return nil
    }

    static func compare(_ left: ResourceValue, _ right: ResourceValue, path: String) -> String? {
        switch (left.content, right.content) {
        case (.null, .null):
            return nil
        case (.scalar(let a, let plainA), .scalar(let b, let plainB)):
            guard a == b, plainA == plainB else { return "\(path): scalar \(a)/\(plainA) vs \(b)/\(plainB)" }
        case (.sequence(let a), .sequence(let b)):
            guard a.count == b.count else { return "\(path): \(a.count) items vs \(b.count)" }
            for (index, pair) in zip(a, b).enumerated() {
                if let difference = compare(pair.0, pair.1, path: "\(path)[\(index)]") { return difference }
            }
        case (.mapping(let a), .mapping(let b)):
            guard a.map(\.key) == b.map(\.key) else { return "\(path): keys \(a.map(\.key)) vs \(b.map(\.key))" }
            for (pairA, pairB) in zip(a, b) {
                if let difference = compare(pairA.value, pairB.value, path: "\(path).\(pairA.key)") {
                    return difference
                }
            }
        default:
            return "\(path): \(left.content) vs \(right.content)"
        }
        guard left.line == right.line, left.column == right.column else {
            return "\(path): at \(left.line):\(left.column), libyaml \(right.line):\(right.column)"
        }
        return nil
    }

    @Test("the repository's YAML and JSON files, and the synthetic cluster, parse fast and identically")
    func repositoryFiles() throws {
        var texts: [(String, String)] = SyntheticCluster(namespaces: 5, podsPerNamespace: 5).files().map {
            ($0.name, $0.text)
        }
        let enumerator = FileManager.default.enumerator(atPath: Self.root.path)
        while let entry = enumerator?.nextObject() as? String {
            guard !entry.hasPrefix(".build"), !entry.contains("/.build"),
                entry.hasSuffix(".yaml") || entry.hasSuffix(".json")
            else { continue }
            texts.append((entry, try String(contentsOf: Self.root.appendingPathComponent(entry), encoding: .utf8)))
        }
        #expect(texts.count > 8)
        for (name, text) in texts {
            var fast = FastYAMLParser(text)
            #expect((try? fast.documents()) != nil, "\(name) should take the fast path")
            #expect(Self.difference(text) == nil, "\(name): \(Self.difference(text) ?? "")")
        }
    }

    @Test(
        "tricky documents agree or fall back",
        arguments: [
            "a: b\nc:\n- d\n- e: f\n  g: h\n", "a:\n  - 1\n  - [2, 3]\n", "{\"a\":1}", "{\"a\": [1, 2,], \"b\": {}}",
            "- - a\n  - b\n- c\n", "a: 'it''s'\nb: \"x\\ty\\u00e9\"\n", "a: b # comment\n# c\nd: e\n",
            "---\na: 1\n...\n---\nb: 2\n",
            "a: &x 1\nb: *x\n", "a: |\n  text\n", "a: b\n  c\n", "a: b: c\n", "a:\tb\n", "a: [b\n, c]\n", "? a\n: b\n",
            "a: 1\na: 2\n", "- a\n -b\n", "a:\n- b\nc: d\n", "key with spaces: v\n", "a: -1\nb: :x\nc: ?y\n",
            "a: {b: c, d: }\n", "a: [{b: c}, {d: [e, {f: g}]}]\n", "'q': 1\n\"r\": 2\n", "a: b\n\n\n  \nc: d\n",
            "a: !tag x\n",
            "a: \"unterminated\n", "- a\n- b: c\n  - d\n", "a:\n  b:\n    c: d\n  e: f\n", "a: ~\nb: null\nc:\n",
            "%YAML 1.1\n---\na: b\n",
            "a: 'x'y\n", "a: {b: c}d\n", "[a, b]\n", "just a scalar\n", "a: b\r\nc: d\r\n", "a: x # y: z\n",
            "a: http://x:80/p\n",
        ]
    )
    func tricky(text: String) {
        #expect(Self.difference(text) == nil, "\(text.debugDescription): \(Self.difference(text) ?? "")")
    }

    @Test("mutations agree or fall back (differential fuzzing against libyaml)")
    func mutations() {
        var random = SeededGenerator(seed: 0xFA57 &+ FuzzTests.seedOffset)
        let seed = Array(FuzzTests.seedDocument.utf8)
        let mutator = ByteMutator(alphabet: "{}[]:,-'\"#\n \t0123456789abc/.&*!|>?", maximumEdits: 4)
        let clock = ContinuousClock()
        let deadline = clock.now + FuzzTests.budget
        var accepted = 0
        var iterations = 0
        while clock.now < deadline {
            iterations += 1
            let text = mutator.mutate(seed, using: &random)
            var fast = FastYAMLParser(text)
            if (try? fast.documents()) != nil { accepted += 1 }
            if let difference = Self.difference(text) {
                Issue.record("\(difference) in \(text.debugDescription)")
                return
            }
        }
        #expect(accepted > 0)
    }
}

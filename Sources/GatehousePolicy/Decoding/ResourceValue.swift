import Foundation
import Yams

/// A parsed YAML or JSON value with the line and column where it starts.
///
/// Yams' node tree is converted once into this small tree so that decoders never resolve YAML tags
/// (slow, and YAML 1.1's `yes`/`no` surprises) and always know where a field came from.
package struct ResourceValue: Sendable {
    package enum Content: Sendable {
        case mapping([(key: String, value: ResourceValue)])
        case sequence([ResourceValue])
        /// A scalar with its text; `plain` is false for quoted scalars (`"80"` is a string, `80` a number).
        case scalar(String, plain: Bool)
        case null
    }

    package let content: Content
    package let line: Int
    package let column: Int

    /// The most nodes one file may expand to, aliases included: a bound against "billion laughs" input.
    static let maximumNodes = 2_000_000

    /// Parses every document of a YAML (or JSON) text; empty documents are skipped.
    package static func documents(in text: String, file: String) throws(ResourceError) -> [ResourceValue] {
        var fast = FastYAMLParser(text)
        if let documents = try? fast.documents() { return documents }
        return try yamsDocuments(in: text, file: file)
    }

    /// Parses with Yams (libyaml): all of YAML, and the wording of syntax errors. Yams builds its tree
    /// recursively, so text nested too deeply to be a Kubernetes object is refused before it gets there.
    static func yamsDocuments(in text: String, file: String) throws(ResourceError) -> [ResourceValue] {
        if let line = NestingScan.firstTooDeepLine(in: text) {
            throw ResourceError(
                .tooLarge,
                "nested more than \(NestingScan.maximumDepth) levels deep",
                at: SourceLocation(file: file, line: line, column: 1)
            )
        }
        // JSON may be indented with tabs, which YAML forbids; a tab outside a JSON string is only space.
        let trimmed = text.drop { $0.isWhitespace }
        let yaml = trimmed.first == "{" || trimmed.first == "[" ? text.replacingOccurrences(of: "\t", with: " ") : text
        var budget = maximumNodes
        do {
            let parser = try Parser(yaml: yaml)
            var result: [ResourceValue] = []
            while let node = try parser.nextRoot() {
                let value = try ResourceValue(node, budget: &budget, file: file)
                if case .null = value.content { continue }
                result.append(value)
            }
            return result
        } catch let error as ResourceError {
            throw error
        } catch let error as YamlError {
            throw ResourceValue.translate(error, file: file)
        } catch {
            throw ResourceError(.syntax, "cannot parse: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    private init(_ node: Node, budget: inout Int, file: String) throws(ResourceError) {
        budget -= 1
        let mark = node.mark
        let line = mark?.line ?? 0
        let column = mark?.column ?? 0
        guard budget >= 0 else {
            throw ResourceError(
                .tooLarge,
                "document expands to more than \(ResourceValue.maximumNodes) values (alias expansion?)",
                at: SourceLocation(file: file, line: line, column: column)
            )
        }
        switch node {
        case .scalar(let scalar):
            let plain = scalar.style == .plain || scalar.style == .any
            if plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                content = .null
            } else {
                content = .scalar(scalar.string, plain: plain)
            }
        case .sequence(let sequence):
            var items: [ResourceValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try ResourceValue(item, budget: &budget, file: file)) }
            content = .sequence(items)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ResourceValue)] = []
            pairs.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ResourceError(
                        .syntax,
                        "mapping keys must be plain strings",
                        at: SourceLocation(file: file, line: key.mark?.line ?? line, column: key.mark?.column ?? column)
                    )
                }
                pairs.append((keyScalar.string, try ResourceValue(value, budget: &budget, file: file)))
            }
            content = .mapping(pairs)
        case .alias:
            content = .null
        }
        self.line = line
        self.column = column
    }

    init(content: Content, line: Int, column: Int) {
        self.content = content
        self.line = line
        self.column = column
    }

    private static func translate(_ error: YamlError, file: String) -> ResourceError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            return ResourceError(
                .syntax,
                "invalid YAML: \(detail)",
                at: SourceLocation(file: file, line: mark.line, column: mark.column)
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ResourceError(
                .duplicate,
                "duplicate key \(duplicates.joined(separator: ", ")) in a mapping",
                at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
            )
        case .reader(let problem, _, _, _):
            return ResourceError(
                .unreadable,
                "not valid text: \(problem)",
                at: SourceLocation(file: file, line: 1, column: 1)
            )
        default:
            return ResourceError(.syntax, "invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }
}

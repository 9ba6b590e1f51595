/// A predicate over labels in Calico's selector language, the product's one way to pick endpoints.
///
/// Kubernetes label selectors (`matchLabels`, `matchExpressions`) are translated into the same
/// tree, so that every decision goes through one evaluator. Semantics follow Calico's
/// `libcalico-go/lib/selector/parser/ast.go`: `==`, `in`, `contains`, `starts with` and
/// `ends with` are false on an absent label; `!=` and `not in` are true on one.
public indirect enum Selector: Sendable, Hashable, CustomStringConvertible {
    case all
    /// `global()`: in a rule's `namespaceSelector`, the non-namespaced resources; as a label test, true.
    case global
    case has(String)
    case equal(String, String)
    case notEqual(String, String)
    case `in`(String, [String])
    case notIn(String, [String])
    case contains(String, String)
    case startsWith(String, String)
    case endsWith(String, String)
    case not(Selector)
    case and([Selector])
    case or([Selector])

    /// Parses Calico selector text; the empty string (or only spaces) is `all()`.
    public init(parsing text: String) throws(SelectorError) {
        var parser = SelectorParser(text)
        self = try parser.parse()
    }

    public func matches(_ labels: Labels) -> Bool {
        switch self {
        case .all, .global:
            return true
        case .has(let key):
            return labels[key] != nil
        case .equal(let key, let value):
            return labels[key] == value
        case .notEqual(let key, let value):
            return labels[key] != value
        case .in(let key, let values):
            guard let value = labels[key] else { return false }
            return values.contains(value)
        case .notIn(let key, let values):
            guard let value = labels[key] else { return true }
            return !values.contains(value)
        case .contains(let key, let part):
            guard let value = labels[key] else { return false }
            return part.isEmpty || value.contains(part)
        case .startsWith(let key, let prefix):
            return labels[key]?.hasPrefix(prefix) ?? false
        case .endsWith(let key, let suffix):
            return labels[key]?.hasSuffix(suffix) ?? false
        case .not(let inner):
            return !inner.matches(labels)
        case .and(let terms):
            return terms.allSatisfy { $0.matches(labels) }
        case .or(let terms):
            return terms.contains { $0.matches(labels) }
        }
    }

    /// Whether this selector is `all()` (or only conjunctions of it), matching every label set.
    public var isAll: Bool {
        switch self {
        case .all: return true
        case .and(let terms): return terms.allSatisfy(\.isAll)
        default: return false
        }
    }

    /// Whether `global()` appears anywhere in the tree.
    public var mentionsGlobal: Bool {
        switch self {
        case .global: return true
        case .not(let inner): return inner.mentionsGlobal
        case .and(let terms), .or(let terms): return terms.contains(where: \.mentionsGlobal)
        default: return false
        }
    }

    /// Whether any test in the tree is true for a label that is absent (`!=`, `not in`, `!`).
    public var matchesOnAbsentLabel: Bool {
        switch self {
        case .notEqual, .notIn, .not: return true
        case .and(let terms), .or(let terms): return terms.contains(where: \.matchesOnAbsentLabel)
        default: return false
        }
    }

    /// Canonical Calico text, which parses back to the same tree.
    public var description: String {
        func quote(_ value: String) -> String { value.contains("'") ? "\"\(value)\"" : "'\(value)'" }
        func set(_ values: [String]) -> String { "{" + values.map(quote).joined(separator: ", ") + "}" }
        func group(_ selector: Selector) -> String {
            switch selector {
            case .and(let terms) where terms.count > 1: return "(\(selector))"
            case .or(let terms) where terms.count > 1: return "(\(selector))"
            default: return selector.description
            }
        }
        switch self {
        case .all: return "all()"
        case .global: return "global()"
        case .has(let key): return "has(\(key))"
        case .equal(let key, let value): return "\(key) == \(quote(value))"
        case .notEqual(let key, let value): return "\(key) != \(quote(value))"
        case .in(let key, let values): return "\(key) in \(set(values))"
        case .notIn(let key, let values): return "\(key) not in \(set(values))"
        case .contains(let key, let value): return "\(key) contains \(quote(value))"
        case .startsWith(let key, let value): return "\(key) starts with \(quote(value))"
        case .endsWith(let key, let value): return "\(key) ends with \(quote(value))"
        case .not(let inner): return "!" + group(inner)
        case .and(let terms):
            return terms.isEmpty ? "all()" : terms.map(group).joined(separator: " && ")
        case .or(let terms):
            return terms.map { term in
                if case .or = term { return "(\(term))" }
                return term.description
            }.joined(separator: " || ")
        }
    }
}

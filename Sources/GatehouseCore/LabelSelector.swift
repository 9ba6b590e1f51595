/// A Kubernetes `metav1.LabelSelector`: `matchLabels` and `matchExpressions`, all terms ANDed.
public struct LabelSelector: Sendable, Hashable {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case `in` = "In"
        case notIn = "NotIn"
        case exists = "Exists"
        case doesNotExist = "DoesNotExist"
    }

    public struct Requirement: Sendable, Hashable {
        public let key: String
        public let `operator`: Operator
        public let values: [String]

        public init(key: String, operator: Operator, values: [String]) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// The empty selector, which selects everything.
    public static let everything = LabelSelector()

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    /// The same predicate in the Calico selector tree (`NotIn` and `DoesNotExist` hold on an absent key,
    /// exactly as Calico's `not in` and `!has()` do).
    public var selector: Selector {
        var terms: [Selector] = matchLabels.sorted { $0.key < $1.key }.map { .equal($0.key, $0.value) }
        for requirement in matchExpressions {
            switch requirement.operator {
            case .in: terms.append(.in(requirement.key, requirement.values))
            case .notIn: terms.append(.notIn(requirement.key, requirement.values))
            case .exists: terms.append(.has(requirement.key))
            case .doesNotExist: terms.append(.not(.has(requirement.key)))
            }
        }
        switch terms.count {
        case 0: return .all
        case 1: return terms[0]
        default: return .and(terms)
        }
    }
}

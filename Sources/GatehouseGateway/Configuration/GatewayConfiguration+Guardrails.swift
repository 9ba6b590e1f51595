import GatehouseCore
import GatehouseGuard
import GatehousePolicy

extension Field {
    /// One `guardrails:` entry.
    func guardrailPolicy() throws(ResourceError) -> GuardrailPolicy {
        let object = try object(known: [
            "name", "selector", "detectors", "injectionThreshold", "patterns", "keywords", "prompts", "answers",
        ])
        var configuration = GuardConfiguration()
        if let field = object["detectors"] {
            var detectors: Set<GuardDetector> = []
            for item in try field.list() {
                let text = try item.string()
                if let group = Self.detectorGroups[text] {
                    detectors.formUnion(group)
                } else if let detector = GuardDetector(rawValue: text) {
                    detectors.insert(detector)
                } else {
                    let known = (Self.detectorGroups.keys.sorted() + GuardDetector.allCases.map(\.rawValue))
                    throw item.error(
                        .invalidValue,
                        "unknown detector \"\(text.prefix(40))\"; known: \(known.joined(separator: ", "))"
                    )
                }
            }
            configuration.detectors = detectors
        }
        if let field = object["injectionThreshold"] {
            let value = try field.number()
            guard (0...1).contains(value) else { throw field.error(.invalidValue, "must be between 0 and 1") }
            configuration.injectionThreshold = value
        }
        for item in try object["patterns"]?.list() ?? [] {
            let pattern = try item.object(known: ["name", "pattern"])
            configuration.patterns.append(
                GuardPattern(name: try pattern.required("name").name(), pattern: try pattern.required("pattern").name())
            )
        }
        for item in try object["keywords"]?.list() ?? [] {
            let list = try item.object(known: ["name", "words"])
            configuration.keywordLists.append(
                GuardKeywordList(name: try list.required("name").name(), words: try list.required("words").stringList())
            )
        }
        let scanner: GuardScanner
        do {
            scanner = try GuardScanner(configuration)
        } catch {
            throw self.error(.invalidValue, error.description)
        }
        var policy = GuardrailPolicy(
            name: try object.required("name").name(),
            selector: try object["selector"]?.calicoSelector() ?? .all,
            scanner: scanner
        )
        if let field = object["prompts"] { policy.prompts = try field.guardAction() }
        if let field = object["answers"] { policy.answers = try field.guardAction() }
        return policy
    }

    private func guardAction() throws(ResourceError) -> GuardAction {
        let text = try string()
        guard let action = GuardAction(rawValue: text) else {
            throw error(.invalidValue, "expected block, redact or log, found \"\(text.prefix(40))\"")
        }
        return action
    }

    /// Names for sets of detectors.
    static let detectorGroups: [String: Set<GuardDetector>] = [
        "secrets": [.awsAccessKey, .privateKey, .githubToken, .slackToken, .openAIKey, .jwt, .genericSecret],
        "personal-data": [.email, .phone, .creditCard, .iban],
    ]
}

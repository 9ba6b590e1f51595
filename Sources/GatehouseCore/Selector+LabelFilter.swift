import Foundation

extension Selector {
    /// A label filter as `hubble observe --label` takes it (`app=web,tier!=db,env`), or a Calico
    /// selector (`app == 'web' && has(env)`).
    public init(parsingLabelFilter text: String) throws(SelectorError) {
        if let selector = try? Selector(parsing: text) {
            self = selector
            return
        }
        var terms: [String] = []
        for part in text.split(separator: ",") {
            let term = part.trimmingCharacters(in: .whitespaces)
            if let range = term.range(of: "!=") {
                terms.append("\(term[..<range.lowerBound]) != '\(term[range.upperBound...])'")
            } else if let equals = term.firstIndex(of: "=") {
                let value = term[term.index(after: equals)...].drop { $0 == "=" }
                terms.append("\(term[..<equals]) == '\(value)'")
            } else if term.hasPrefix("!") {
                terms.append("!has(\(term.dropFirst()))")
            } else {
                terms.append("has(\(term))")
            }
        }
        try self.init(parsing: terms.joined(separator: " && "))
    }
}

import GatehouseCore

/// A value being decoded, with its field path and location for errors.
package struct Field {
    package let value: ResourceValue
    package let fieldPath: FieldPath
    package let file: String
    package let diagnostics: DecodeDiagnostics

    package init(value: ResourceValue, path: FieldPath = .root, file: String, diagnostics: DecodeDiagnostics) {
        self.value = value
        self.fieldPath = path
        self.file = file
        self.diagnostics = diagnostics
    }

    /// `spec.ingress[0].from`: computed only when an error or warning needs it.
    package var path: String { fieldPath.description }

    package var location: SourceLocation { SourceLocation(file: file, line: value.line, column: value.column) }

    package func error(_ code: ResourceError.Code, _ reason: String) -> ResourceError {
        ResourceError(code, reason, at: location, field: path)
    }

    package var isNull: Bool {
        if case .null = value.content { return true }
        return false
    }

    package func child(_ value: ResourceValue, key: String) -> Field {
        Field(
            value: value,
            path: FieldPath(parent: fieldPath, component: .key(key)),
            file: file,
            diagnostics: diagnostics
        )
    }

    /// A mapping; keys outside `known` are reported as unknown-field warnings.
    package func object(known: Set<String>) throws(ResourceError) -> FieldObject {
        guard case .mapping(let pairs) = value.content else {
            if isNull { return FieldObject(field: self, pairs: []) }
            throw error(.wrongType, "expected a mapping, found \(kindName)")
        }
        for (key, value) in pairs where !known.contains(key) {
            diagnostics.warnings.append(child(value, key: key).error(.unknownField, "unknown field \"\(key)\""))
        }
        return FieldObject(field: self, pairs: pairs)
    }

    /// The items of a sequence; null is the empty list, as in the Kubernetes API.
    package func list() throws(ResourceError) -> [Field] {
        switch value.content {
        case .null:
            return []
        case .sequence(let items):
            return items.enumerated().map { index, item in
                Field(
                    value: item,
                    path: FieldPath(parent: fieldPath, component: .index(index)),
                    file: file,
                    diagnostics: diagnostics
                )
            }
        default:
            throw error(.wrongType, "expected a list, found \(kindName)")
        }
    }

    package func string() throws(ResourceError) -> String {
        guard case .scalar(let text, _) = value.content else {
            throw error(.wrongType, "expected a string, found \(kindName)")
        }
        return text
    }

    /// A string that must not be empty.
    package func name() throws(ResourceError) -> String {
        let text = try string()
        guard !text.isEmpty else { throw error(.invalidValue, "must not be empty") }
        return text
    }

    package func int() throws(ResourceError) -> Int {
        guard case .scalar(let text, let plain) = value.content, plain, let number = Int(text) else {
            if case .scalar(let text, true) = value.content, text.drop(while: { $0 == "-" }).allSatisfy(\.isASCIIDigit),
                !text.isEmpty
            {
                throw error(.invalidValue, "\(text.prefix(40)) is out of range")
            }
            throw error(.wrongType, "expected an integer, found \(describe)")
        }
        return number
    }

    package func number() throws(ResourceError) -> Double {
        guard case .scalar(let text, let plain) = value.content, plain, let number = Double(text), number.isFinite
        else { throw error(.wrongType, "expected a number, found \(describe)") }
        return number
    }

    package func bool() throws(ResourceError) -> Bool {
        guard case .scalar(let text, true) = value.content, text == "true" || text == "false" else {
            throw error(.wrongType, "expected true or false, found \(describe)")
        }
        return text == "true"
    }

    /// Whether this scalar was written as a number (`80`) rather than a string (`"80"`, `http`).
    package var isPlainInteger: Bool {
        guard case .scalar(let text, true) = value.content else { return false }
        return Int(text) != nil
    }

    package func stringMap() throws(ResourceError) -> [String: String] {
        guard case .mapping(let pairs) = value.content else {
            if isNull { return [:] }
            throw error(.wrongType, "expected a mapping of strings, found \(kindName)")
        }
        var result: [String: String] = [:]
        for (key, value) in pairs { result[key] = try child(value, key: key).string() }
        return result
    }

    package func stringList() throws(ResourceError) -> [String] {
        var result: [String] = []
        for item in try list() { result.append(try item.string()) }
        return result
    }

    private var kindName: String {
        switch value.content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar: return "a scalar"
        case .null: return "null"
        }
    }

    private var describe: String {
        if case .scalar(let text, let plain) = value.content { return plain ? "'\(text)'" : "the string \"\(text)\"" }
        return kindName
    }
}

extension Field {
    /// A mapping read without reporting unknown fields: for large objects (pods) of which only a few fields matter.
    package func looseObject() throws(ResourceError) -> FieldObject {
        guard case .mapping(let pairs) = value.content else {
            if isNull { return FieldObject(field: self, pairs: []) }
            throw error(.wrongType, "expected a mapping")
        }
        return FieldObject(field: self, pairs: pairs)
    }
}

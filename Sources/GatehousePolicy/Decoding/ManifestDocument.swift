import GatehouseCore

/// One object of a manifest as written (its own text, comments included), with what names it: what
/// `policy apply` sends to the API server, unchanged, as a server-side apply.
public struct ManifestDocument: Sendable {
    public let apiVersion: String
    public let kind: String
    public let name: String
    public let namespace: String?
    /// The document's text, without its `---` line.
    public let text: String
    public let location: SourceLocation

    /// The API group (`""` for the core group).
    public var group: String { apiVersion.split(separator: "/").dropLast().joined(separator: "/") }

    /// The documents of a file, split at its `---` lines; documents holding only comments are skipped.
    /// A `List` is refused: each object is applied on its own.
    public static func split(text: String, file: String) throws(ResourceErrors) -> [ManifestDocument] {
        var documents: [ManifestDocument] = []
        var errors: [ResourceError] = []
        var lines: [Substring] = []
        var firstLine = 1
        func flush(endingBefore line: Int) {
            defer {
                lines = []
                firstLine = line + 1
            }
            let body = lines.joined(separator: "\n")
            let meaningful = lines.contains { line in
                let trimmed = line.drop { $0 == " " }
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            }
            guard meaningful else { return }
            do {
                documents.append(try document(String(body), file: file, firstLine: firstLine))
            } catch {
                errors.append(error)
            }
        }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line == "---" || line.hasPrefix("--- ") {
                flush(endingBefore: index + 1)
            } else {
                lines.append(line)
            }
        }
        flush(endingBefore: text.count)
        guard errors.isEmpty else { throw ResourceErrors(errors) }
        return documents
    }

    private static func document(_ text: String, file: String, firstLine: Int) throws(ResourceError) -> ManifestDocument
    {
        let location = SourceLocation(file: file, line: firstLine, column: 1)
        let values = try ResourceValue.documents(in: text, file: file)
        guard values.count == 1, let value = values.first else {
            throw ResourceError(.syntax, "expected one object", at: location)
        }
        let object = try Field(value: value, file: file, diagnostics: DecodeDiagnostics()).looseObject()
        let apiVersion = try object.required("apiVersion").string()
        let kind = try object.required("kind").string()
        if kind == "List" || kind.hasSuffix("List") {
            throw ResourceError(.invalidValue, "a \(kind) is not applied: give each object on its own", at: location)
        }
        let metadata = try object.required("metadata").looseObject()
        return ManifestDocument(
            apiVersion: apiVersion,
            kind: kind,
            name: try metadata.required("name").name(),
            namespace: try metadata["namespace"]?.name(),
            text: text,
            location: location
        )
    }

    /// This document as the enforced kind of a staged Calico policy (`StagedNetworkPolicy` becomes
    /// `NetworkPolicy`, `StagedGlobalNetworkPolicy` `GlobalNetworkPolicy`, `StagedKubernetesNetworkPolicy`
    /// a `networking.k8s.io/v1` NetworkPolicy); nil when it is no such policy. Only the top-level `kind:`
    /// and `apiVersion:` lines change. A policy with a `stagedAction` (Delete stages a removal) is not
    /// promoted: the enforced kinds have no such field.
    public func promoted() -> ManifestDocument? {
        guard !text.contains("stagedAction") else { return nil }
        let enforced: (apiVersion: String, kind: String)
        switch (group, kind) {
        case ("projectcalico.org", "StagedNetworkPolicy"): enforced = (apiVersion, "NetworkPolicy")
        case ("projectcalico.org", "StagedGlobalNetworkPolicy"): enforced = (apiVersion, "GlobalNetworkPolicy")
        case ("projectcalico.org", "StagedKubernetesNetworkPolicy"):
            enforced = ("networking.k8s.io/v1", "NetworkPolicy")
        default: return nil
        }
        var replaced = false
        var versioned = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            if !replaced, line.hasPrefix("kind:"), line.contains(kind) {
                replaced = true
                return Substring("kind: \(enforced.kind)")
            }
            if !versioned, line.hasPrefix("apiVersion:"), line.contains(apiVersion) {
                versioned = true
                return Substring("apiVersion: \(enforced.apiVersion)")
            }
            return line
        }
        guard replaced, versioned || enforced.apiVersion == apiVersion else { return nil }
        return ManifestDocument(
            apiVersion: enforced.apiVersion,
            kind: enforced.kind,
            name: name,
            namespace: namespace,
            text: lines.joined(separator: "\n"),
            location: location
        )
    }
}

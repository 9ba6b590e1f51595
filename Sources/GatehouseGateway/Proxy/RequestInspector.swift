import Foundation
import NIOCore

/// Reads an OpenAI request body before it goes anywhere: it must be a JSON object with a `model`
/// string, and no field at any depth may try to choose where the request goes (`api_base`,
/// `base_url` and kin) or carry a credential: the gateway, not the caller, picks the upstream.
enum RequestInspector {
    struct Inspected: Sendable {
        let model: String
        let stream: Bool
    }

    /// Keys refused anywhere in a body, compared lowercased with `_` and `-` removed.
    static let routingKeys: Set<String> = [
        "apibase", "baseurl", "apiurl", "apiendpoint", "endpointurl", "azureendpoint", "openaiapibase",
        "apihost", "serverurl", "upstreamurl", "proxyurl", "httpproxy", "httpsproxy", "customllmprovider",
        "apikey", "apiversion", "awsregionname", "vertexlocation", "vertexproject",
    ]

    /// The most nesting looked into; deeper bodies are refused rather than left uninspected.
    static let maximumDepth = 64

    static func inspect(_ body: ByteBuffer) -> Result<Inspected, GatewayError> {
        guard body.readableBytes > 0 else {
            return .failure(.badRequest("invalid_json", "the request body is empty; send a JSON object"))
        }
        let fields: JSONBodyScanner.Fields
        do {
            fields = try body.withUnsafeReadableBytes { bytes throws(JSONBodyScanner.Failure) in
                try JSONBodyScanner.scan(bytes)
            }
        } catch {
            switch error {
            case .notAnObject:
                return .failure(.badRequest("invalid_json", "the request body must be a JSON object"))
            case .duplicateKey(let key):
                return .failure(
                    .badRequest(
                        "duplicate_field",
                        "the field \(GatewayError.quoted(String(key.prefix(64)))) appears twice"
                    )
                )
            case .wrongType(let field):
                return .failure(
                    .badRequest(
                        field == "stream" ? "invalid_stream" : "missing_model",
                        field == "stream" ? "\"stream\" must be true or false" : "\"model\" must be a string"
                    )
                )
            case .tooDeep:
                return .failure(
                    .badRequest(
                        "invalid_json",
                        "the request body nests deeper than \(JSONBodyScanner.maximumDepth) levels"
                    )
                )
            case .invalid:
                return .failure(.badRequest("invalid_json", "the request body is not valid JSON"))
            }
        }
        if mayHoldRoutingField(body) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) else {
                return .failure(.badRequest("invalid_json", "the request body is not valid JSON"))
            }
            if let path = routingField(in: object, path: "", depth: 0) {
                return .failure(
                    .badRequest(
                        "routing_field_refused",
                        "the field \(path) is refused: the gateway chooses the upstream"
                    )
                )
            }
        }
        guard let model = fields.model, !model.isEmpty, model.utf8.count <= 256 else {
            return .failure(.badRequest("missing_model", "the body needs a \"model\" string"))
        }
        return .success(Inspected(model: model, stream: fields.stream ?? false))
    }

    /// The body with `model` replaced, for an upstream that knows the model by another name.
    static func renaming(_ body: ByteBuffer, model: String) -> ByteBuffer? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: object.merging(["model": model]) { _, new in new })
        else { return nil }
        return ByteBuffer(bytes: data)
    }

    /// Whether the raw body contains, in any case and ignoring `_` and `-` as the key comparison does, a
    /// word every refused key contains; a body with a `\u` escape (which could spell a key) always
    /// counts. Most bodies hold none of them and skip the walk; any that might are walked in full.
    static func mayHoldRoutingField(_ body: ByteBuffer) -> Bool {
        var folded: [UInt8] = []
        folded.reserveCapacity(body.readableBytes)
        var previous: UInt8 = 0
        for byte in body.readableBytesView {
            if previous == UInt8(ascii: "\\") && byte == UInt8(ascii: "u") { return true }
            previous = byte
            if byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") { continue }
            folded.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
        }
        return folded.withUnsafeBufferPointer { text in
            for start in text.indices {
                for word in screeningWords where word[0] == text[start] && start + word.count <= text.count {
                    var offset = 1
                    while offset < word.count && text[start + offset] == word[offset] { offset += 1 }
                    if offset == word.count { return true }
                }
            }
            return false
        }
    }

    private static let screeningWords: [[UInt8]] = [
        "api", "url", "base", "endpoint", "proxy", "provider", "region", "location", "project",
    ].map { Array($0.utf8) }

    /// The path of the first refused key, or nil.
    private static func routingField(in value: Any, path: String, depth: Int) -> String? {
        if depth > maximumDepth { return path.isEmpty ? "(root)" : path }
        if let object = value as? [String: Any] {
            for (key, item) in object {
                let normalized = key.lowercased().filter { $0 != "_" && $0 != "-" }
                let itemPath = path.isEmpty ? key : "\(path).\(key)"
                if routingKeys.contains(normalized) { return itemPath }
                if let found = routingField(in: item, path: itemPath, depth: depth + 1) { return found }
            }
        } else if let array = value as? [Any] {
            for (index, item) in array.enumerated() {
                if let found = routingField(in: item, path: "\(path)[\(index)]", depth: depth + 1) { return found }
            }
        }
        return nil
    }
}

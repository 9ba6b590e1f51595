import Foundation
import NIOCore

/// Reads an OpenAI request body before it goes anywhere: it must be a JSON object with a `model`
/// string, and no field at any depth may try to choose where the request goes (`api_base`,
/// `base_url` and kin) or carry a credential: the gateway, not the caller, picks the upstream.
enum RequestInspector {
    struct Inspected: Sendable {
        let model: String
        let stream: Bool
        let maxTokens: Int?
        let n: Int?
        let messages: Int?
        let tools: Int?
        let inputs: Int?
        let hasStreamOptions: Bool
        let includeUsage: Bool?
        let firstKeyOffset: Int
    }

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
            case .refusedKey(let key):
                return .failure(
                    .badRequest(
                        "routing_field_refused",
                        "the field \(String(key.prefix(64))) is refused: the gateway chooses the upstream"
                    )
                )
            case .duplicateKey(let key):
                return .failure(
                    .badRequest(
                        "duplicate_field",
                        "the field \(GatewayError.quoted(String(key.prefix(64)))) appears twice"
                    )
                )
            case .wrongType(let field, let expected):
                return .failure(
                    .badRequest(
                        field == "model" ? "missing_model" : "invalid_\(field)",
                        "\"\(field)\" must be \(expected)"
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
        guard let model = fields.model, !model.isEmpty, model.utf8.count <= 256 else {
            return .failure(.badRequest("missing_model", "the body needs a \"model\" string"))
        }
        return .success(
            Inspected(
                model: model,
                stream: fields.stream ?? false,
                maxTokens: fields.maxTokens,
                n: fields.n,
                messages: fields.messages,
                tools: fields.tools,
                inputs: fields.inputs,
                hasStreamOptions: fields.hasStreamOptions,
                includeUsage: fields.includeUsage,
                firstKeyOffset: fields.firstKeyOffset
            )
        )
    }

    /// The body with `model` replaced, for an upstream that knows the model by another name.
    static func renaming(_ body: ByteBuffer, model: String) -> ByteBuffer? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: object.merging(["model": model]) { _, new in new })
        else { return nil }
        return ByteBuffer(bytes: data)
    }
}

import GatehouseCore
import NIOCore

/// Reads an OpenAI request body before it goes anywhere: it must be a JSON object with a `model`
/// string, and no field at any depth may try to choose where the request goes (`api_base`,
/// `base_url` and kin) or carry a credential: the gateway, not the caller, picks the upstream.
enum RequestInspector {
    struct Inspected: Sendable {
        let model: String
        let stream: Bool
        let maxTokens: Int?
        let maxCompletionTokens: Int?
        let n: Int?
        let bestOf: Int?
        let messages: Int?
        let tools: Int?
        let inputs: Int?
        let prompts: Int?
        let hasStreamOptions: Bool
        let includeUsage: Bool?
        /// Where the members a `RequestBodyPatch` may replace stand, and the object's braces.
        let settable: RequestBodyPatch.Members
        let objectBounds: Range<Int>

        /// The output the caller bounded each choice to: chat completions take `max_tokens` or
        /// `max_completion_tokens` (the larger when both are given), completions only `max_tokens`.
        func requestedOutput(on route: DataPlane.Route) -> Int? {
            switch route {
            case .chatCompletions:
                guard let maxTokens else { return maxCompletionTokens }
                return max(maxTokens, maxCompletionTokens ?? 0)
            case .completions: return maxTokens
            case .embeddings, .models: return nil
            }
        }

        /// The choices the upstream generates on `route`: `n` returned, each the best of `best_of`, for
        /// each of a completion's prompts. Read as a product, a bound whichever way a server counts
        /// `best_of` against `n`.
        func generatedChoices(on route: DataPlane.Route) -> Int {
            (n ?? 1) * (bestOf ?? 1) * (route == .completions ? prompts ?? 1 : 1)
        }

        /// The body as it is forwarded to an upstream with `patch` applied.
        func patched(_ body: ByteBuffer, with patch: RequestBodyPatch) -> ByteBuffer {
            patch.applied(to: body, members: settable, object: objectBounds)
        }
    }

    static func inspect(_ body: ByteBuffer) -> Result<Inspected, GatewayError> {
        guard body.readableBytes > 0 else {
            return .failure(.badRequest(.invalidJSON, "the request body is empty; send a JSON object"))
        }
        let fields: JSONBodyScanner.Fields
        do {
            fields = try body.withUnsafeReadableBytes { bytes throws(JSONBodyScanner.Failure) in
                try JSONBodyScanner.scan(bytes)
            }
        } catch {
            switch error {
            case .notAnObject:
                return .failure(.badRequest(.invalidJSON, "the request body must be a JSON object"))
            case .refusedKey(let key):
                return .failure(
                    .badRequest(
                        .routingFieldRefused,
                        "the field \(String(key.prefix(64))) is refused: the gateway chooses the upstream"
                    )
                )
            case .duplicateKey(let key):
                return .failure(
                    .badRequest(
                        .duplicateField,
                        "the field \(GatewayError.quoted(String(key.prefix(64)))) appears twice"
                    )
                )
            case .wrongType(let field, let expected):
                return .failure(
                    .badRequest(
                        Self.reason(wrongType: field),
                        "\"\(field)\" must be \(expected)"
                    )
                )
            case .tooDeep:
                return .failure(
                    .badRequest(
                        .invalidJSON,
                        "the request body nests deeper than \(JSONBodyScanner.maximumDepth) levels"
                    )
                )
            case .invalid:
                return .failure(.badRequest(.invalidJSON, "the request body is not valid JSON"))
            }
        }
        guard let model = fields.model, !model.isEmpty, model.utf8.count <= 256 else {
            return .failure(.badRequest(.missingModel, "the body needs a \"model\" string"))
        }
        return .success(
            Inspected(
                model: model,
                stream: fields.stream ?? false,
                maxTokens: fields.maxTokens,
                maxCompletionTokens: fields.maxCompletionTokens,
                n: fields.n,
                bestOf: fields.bestOf,
                messages: fields.messages,
                tools: fields.tools,
                inputs: fields.inputs,
                prompts: fields.prompts,
                hasStreamOptions: fields.hasStreamOptions,
                includeUsage: fields.includeUsage,
                settable: fields.settable,
                objectBounds: fields.objectBounds
            )
        )
    }

    /// The code for a field of the wrong type: one per field the scanner reads.
    private static func reason(wrongType field: String) -> RequestReason {
        switch field {
        case "model": return .missingModel
        case "stream": return .invalidStream
        case "max_tokens": return .invalidMaxTokens
        case "max_completion_tokens": return .invalidMaxCompletionTokens
        case "n": return .invalidN
        case "best_of": return .invalidBestOf
        case "n_predict": return .invalidNPredict
        case "messages": return .invalidMessages
        case "tools": return .invalidTools
        case "input": return .invalidInput
        case "stream_options": return .invalidStreamOptions
        default: return .invalidJSON
        }
    }
}

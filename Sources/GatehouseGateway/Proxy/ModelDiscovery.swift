import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Asks an upstream which models it serves (`GET /v1/models`), for `serve --upstream URL` without `--model`.
public enum ModelDiscovery {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func models(at upstream: UpstreamSettings) async throws -> [String] {
        let client = HTTPClient.shared
        var request = HTTPClientRequest(url: upstream.origin + "/v1/models")
        if let credential = upstream.credential {
            request.headers.add(name: "authorization", value: "Bearer \(credential.revealed)")
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok,
                let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let data = object["data"] as? [[String: Any]]
            else { throw Failure(description: "\(upstream.origin)/v1/models did not list models; give --model") }
            let names = data.compactMap { $0["id"] as? String }
            guard !names.isEmpty else { throw Failure(description: "\(upstream.origin) lists no models; give --model") }
            return names
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "cannot reach \(upstream.origin) to list its models: \(error); give --model")
        }
    }
}

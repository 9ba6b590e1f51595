import AsyncHTTPClient
import NIOCore
import NIOHTTP1

enum HTTPClientRequestFactory {
    static func post(_ url: String, key: String, json: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        return request
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// A small client of the Kubernetes API: GETs of JSON with the connection's credentials, errors that name
/// the verb and resource. Redirects are never followed, so a token is only ever sent to the server named.
public final class KubernetesClient: Sendable {
    /// Bounds of one exchange.
    public struct Configuration: Sendable {
        /// The most one answer (a page of a list) may hold.
        public var maximumBodyBytes = 256 << 20
        public var connectTimeout = TimeAmount.seconds(10)
        /// How long one request may take until its answer's head; watches set their own.
        public var requestTimeout = TimeAmount.seconds(60)
        /// The longest silence while an answer is read: a connection that dies without a word is closed
        /// after this. A watch is quiet for up to its `timeoutSeconds` (bookmarks are not promised), so
        /// this must be longer.
        public var readTimeout = TimeAmount.seconds(330)
        /// HTTP/1.1 connections at most: more than the kinds a watch holds open at once.
        public var maximumConnections = 64

        public init() {}
    }

    public let connection: ClusterConnection
    public let configuration: Configuration
    let http: HTTPClient

    public init(connection: ClusterConnection, configuration: Configuration = Configuration()) throws(ClusterError) {
        self.connection = connection
        self.configuration = configuration
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let authority = connection.certificateAuthority {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(authority))
            }
            if case .certificate(let chain, let key) = connection.credential {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(chain).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw ClusterError(
                .configuration,
                "context \(connection.name): the CA, client certificate or key is not valid PEM"
            )
        }
        if connection.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var http = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: configuration.connectTimeout, read: configuration.readTimeout)
        )
        // HTTP/2 when the server offers it, as client-go: every list and watch on one connection. Over
        // HTTP/1.1 (plain http to `kubectl proxy`), a watch holds a connection for each kind it watches.
        http.httpVersion = .automatic
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.maximumConnections
        // A connection that cannot be made fails its requests at once, so the callers' own backoff (a
        // watch's is client-go's) retries and says so; left to the pool, requests queued while the API
        // server was down waited out their deadline, and watches stayed silent after it came back.
        http.connectionPool.retryConnectionEstablishment = false
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
    }

    /// Closes the connections; call once, when done.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// GET `path?query` as JSON; `action` (`list pods`, say) names the request in errors.
    public func get(
        _ path: String,
        query: [(String, String)] = [],
        action: String
    ) async throws(ClusterError) -> ByteBuffer {
        let response = try await send(path, query: query, action: action, timeout: configuration.requestTimeout)
        return try await collect(response, action: action)
    }

    /// A server-side apply of one object, as `kubectl apply --server-side`: owned by `fieldManager`, a
    /// dry run (`dryRun=All`) when asked. A field another manager owns is a 409 conflict, reported, never
    /// forced. Returns the object as the server has (or would have) it.
    public func apply(
        _ object: String,
        at path: String,
        fieldManager: String,
        dryRun: Bool,
        action: String
    ) async throws(ClusterError) -> ByteBuffer {
        var query = [("fieldManager", fieldManager)]
        if dryRun { query.append(("dryRun", "All")) }
        let response = try await send(
            path,
            query: query,
            action: action,
            timeout: configuration.requestTimeout,
            method: .PATCH,
            body: (object, "application/apply-patch+yaml")
        )
        return try await collect(response, action: action)
    }

    /// Deletes one object; one already gone is no error.
    public func delete(_ path: String, action: String) async throws(ClusterError) {
        do {
            let response = try await send(
                path,
                query: [],
                action: action,
                timeout: configuration.requestTimeout,
                method: .DELETE
            )
            _ = try await collect(response, action: action)
        } catch  where error.code == .notFound {
            return
        }
    }

    private func collect(_ response: HTTPClientResponse, action: String) async throws(ClusterError) -> ByteBuffer {
        do {
            return try await response.body.collect(upTo: configuration.maximumBodyBytes)
        } catch is NIOTooManyBytesError {
            throw ClusterError(
                .server,
                "\(action): the answer is larger than \(configuration.maximumBodyBytes >> 20) MiB"
            )
        } catch {
            throw ClusterError(.unreachable, "\(action): the connection to \(connection.server) broke: \(error)")
        }
    }

    /// Sends a request and returns the response once its status is 2xx; any other status is thrown.
    func send(
        _ path: String,
        query: [(String, String)],
        action: String,
        timeout: TimeAmount,
        method: HTTPMethod = .GET,
        body: (text: String, contentType: String)? = nil
    ) async throws(ClusterError) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: connection.server + path + KubernetesClient.encode(query))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: body.contentType)
            request.body = .bytes(ByteBuffer(string: body.text))
        }
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "gatehouse")
        if let token = try connection.bearerToken() {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw ClusterError(
                .unreachable,
                "\(action): cannot reach the API server \(connection.server): \(KubernetesClient.describe(error))"
            )
        }
        guard (200..<300).contains(response.status.code) else {
            let body = try? await response.body.collect(upTo: 64 << 10)
            throw KubernetesClient.error(status: response.status, body: body, action: action, connection: connection)
        }
        return response
    }

    static func encode(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "?"
            + query.map { name, value in
                "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
            }.joined(separator: "&")
    }

    /// The API's `Status` answer made into an error; its message is the server's own (it never holds a
    /// credential), shortened.
    static func error(
        status: HTTPResponseStatus,
        body: ByteBuffer?,
        action: String,
        connection: ClusterConnection
    ) -> ClusterError {
        struct Status: Decodable {
            let message: String?
        }
        let message = body.flatMap { try? JSONDecoder().decode(Status.self, from: Data(buffer: $0)).message }
            .map { String($0.prefix(512)) }
        let said = message.map { ": \($0)" } ?? ""
        switch status.code {
        case 401:
            return ClusterError(
                .unauthorized,
                "\(action): the API server \(connection.server) refused the credentials of context \(connection.name) "
                    + "(401 Unauthorized: an expired or revoked token, or an unknown certificate)"
            )
        case 403:
            return ClusterError(.forbidden, "\(action): forbidden (403)\(said)")
        case 404:
            return ClusterError(.notFound, "\(action): not found (404)\(said)")
        case 409:
            return ClusterError(.conflict, "\(action): conflict (409)\(said)")
        case 410:
            return ClusterError(.gone, "\(action): gone (410)\(said)")
        case 422:
            return ClusterError(.invalid, "\(action): invalid (422)\(said)")
        default:
            return ClusterError(
                .server,
                "\(action): the API server answered \(status.code) \(status.reasonPhrase)\(said)"
            )
        }
    }

    /// A transport error in a few words: NIO's descriptions of TLS and socket errors are long.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .connectTimeout { return "the connection timed out" }
            if error == .deadlineExceeded || error == .readTimeout { return "the request timed out" }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if error is NIOSSLError || error is BoringSSLError {
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return
                    "the TLS handshake failed: the server's certificate is not signed by a CA the configuration trusts"
            }
            return "the TLS handshake failed"
        }
        return "\(error)"
    }
}

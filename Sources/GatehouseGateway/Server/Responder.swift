import NIOCore
import NIOHTTP1

/// What a listener does with requests: admits or refuses a head synchronously (on the event loop,
/// before any body is read), then answers an admitted request asynchronously.
protocol Responder: Sendable {
    /// The limits for the next request (they follow configuration reloads).
    var limits: RequestLimits { get }

    func admit(
        head: HTTPRequestHead,
        requestID: String,
        certificateNames: [String]
    ) -> Result<AdmittedRequest, GatewayError>

    func respond(to request: AdmittedRequest, body: ByteBuffer, writer: ResponseWriter) async
}

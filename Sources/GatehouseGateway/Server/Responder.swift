import NIOCore
import NIOHTTP1

/// What a listener does with requests: admits or refuses a head synchronously (on the event loop,
/// before any body is read), then answers an admitted request.
protocol Responder: Sendable {
    /// The limits for the next request (they follow configuration reloads).
    var limits: RequestLimits { get }

    /// `connection` is the connection's own, kept from request to request.
    func admit(
        head: HTTPRequestHead,
        requestID: String,
        connection: inout ConnectionFacts
    ) -> Result<AdmittedRequest, GatewayError>

    /// Answers an admitted request; called on the connection's event loop. Work that outlives the call
    /// registers with `cancellation`, which the connection triggers when the client goes away.
    func respond(
        to request: AdmittedRequest,
        body: ByteBuffer,
        writer: ResponseWriter,
        cancellation: RequestCancellation
    )
}

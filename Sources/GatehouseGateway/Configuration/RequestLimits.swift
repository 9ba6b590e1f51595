/// Bounds on what one client may send, against slow, large and malformed requests.
public struct RequestLimits: Sendable, Hashable {
    /// The largest request body; larger ones get 413.
    public var maxBodyBytes: Int = 4 << 20
    /// The most header fields in one request.
    public var maxHeaderCount: Int = 100
    /// The most bytes in all header names and values together (and in one field).
    public var maxHeaderBytes: Int = 32 << 10
    /// From a connection's accept to the end of its TLS handshake: the header deadline starts only at
    /// the first HTTP byte, so a handshake sent a byte at a time is bounded by this.
    public var handshakeTimeout: Duration = .seconds(10)
    /// From a request's first byte to the end of its headers.
    public var headerTimeout: Duration = .seconds(10)
    /// How long a connection may sit with no request in progress.
    public var idleTimeout: Duration = .seconds(60)
    /// The slowest acceptable upload, in bytes per second, measured over `bodyRateWindow`.
    public var minBodyBytesPerSecond: Int = 1024
    public var bodyRateWindow: Duration = .seconds(5)
    /// How long shutdown waits for requests and streams in flight.
    public var drainTimeout: Duration = .seconds(30)
    /// How long after SIGTERM the listeners still accept, with readiness failing: a Kubernetes Service
    /// keeps sending new connections to a terminating pod until its endpoints are updated (what a
    /// `preStop` sleep is for, in an image with no `sleep` to run).
    public var shutdownDelay: Duration = .zero
    /// How long a request refused by a budget waits before its 429 when requests in flight have reserved
    /// what it needs (their worst cases; they usually cost less and give the rest back). Zero refuses at
    /// once: a burst is then admitted only as far as its worst cases fit.
    public var budgetWait: Duration = .seconds(5)

    public init() {}
}

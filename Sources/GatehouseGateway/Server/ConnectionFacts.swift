/// What a connection knows of its client across requests: the names of its verified certificate and its
/// address, read at the first request, and the key its last request authenticated with.
struct ConnectionFacts: Sendable {
    /// The SAN URIs and DNS names of a verified client certificate (empty without one).
    let certificateNames: [SubjectAltName]
    /// The client's address as text (nil when unknown).
    let address: String?
    var rememberedKey: RememberedKey?

    init(certificateNames: [SubjectAltName], address: String?) {
        self.certificateNames = certificateNames
        self.address = address
    }
}

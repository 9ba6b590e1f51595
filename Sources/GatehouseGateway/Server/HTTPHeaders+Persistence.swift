import NIOHTTP1

extension HTTPHeaders {
    /// Says whether the connection outlives the answer: `close` when it ends with it; on HTTP/1.0, whose
    /// connections persist only when the answer says so (RFC 9112, C.2.2), `keep-alive` otherwise.
    mutating func setPersistence(closes: Bool, version: HTTPVersion) {
        if closes {
            replaceOrAdd(name: "connection", value: "close")
        } else if version.minor == 0 {
            replaceOrAdd(name: "connection", value: "keep-alive")
        }
    }
}

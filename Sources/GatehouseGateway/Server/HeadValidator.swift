import GatehouseCore
import NIOHTTP1

/// Checks a request head for what the HTTP parser lets through but a gateway must refuse: a missing,
/// doubled or malformed Host, absolute-form and asterisk targets, CONNECT, Transfer-Encoding on
/// HTTP/1.0, underscores in header names (a smuggling aid where proxies disagree), too many headers,
/// and an `Expect` other than `100-continue`. Pure: no I/O.
enum HeadValidator {
    static func problem(in head: HTTPRequestHead, limits: RequestLimits) -> GatewayError? {
        if head.method == .CONNECT {
            return .badRequest(.methodNotSupported, "CONNECT is not supported", closes: true)
        }
        guard head.uri.utf8.first == UInt8(ascii: "/") else {
            return .badRequest(.invalidTarget, "the request target must be a path (origin-form)", closes: true)
        }
        guard head.headers.count <= limits.maxHeaderCount else {
            return GatewayError(
                .requestHeaderFieldsTooLarge,
                type: "invalid_request_error",
                code: .tooManyHeaders,
                message: "more than \(limits.maxHeaderCount) header fields",
                closesConnection: true
            )
        }
        var hosts = 0
        for (name, value) in head.headers {
            if name.utf8.contains(UInt8(ascii: "_")) {
                return .badRequest(.invalidHeader, "header names with underscores are refused", closes: true)
            }
            if name.utf8.count == 4, name.lowercased() == "host" {
                hosts += 1
                guard isValidHost(value) else {
                    return .badRequest(.invalidHost, "the Host header is not a host name or address", closes: true)
                }
            }
        }
        if hosts > 1 {
            return .badRequest(.invalidHost, "more than one Host header", closes: true)
        }
        if hosts == 0 && head.version.minor >= 1 {
            return .badRequest(.invalidHost, "HTTP/1.1 requests need a Host header", closes: true)
        }
        if head.version.minor == 0 && head.headers.contains(name: "transfer-encoding") {
            return .badRequest(.invalidFraming, "Transfer-Encoding is not allowed on HTTP/1.0", closes: true)
        }
        if let expect = head.headers.first(name: "expect"), expect.lowercased() != "100-continue" {
            return GatewayError(
                .expectationFailed,
                type: "invalid_request_error",
                code: .expectationFailed,
                message: "only Expect: 100-continue is supported",
                closesConnection: true
            )
        }
        return nil
    }

    /// `name`, `name:port`, `1.2.3.4:port` or `[v6]:port`: letters, digits, `.`, `-`, and a port.
    static func isValidHost(_ value: String) -> Bool {
        var value = value
        // Read in place: a copy of the bytes into an array was an allocation per request.
        return value.withUTF8(isValidHost(bytes:))
    }

    private static func isValidHost(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 261 else { return false }
        var host = bytes[...]
        var port = bytes[0..<0]
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let inner = bytes[1..<close]
            guard !inner.isEmpty, inner.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return false }
            let rest = bytes[(close + 1)...]
            if !rest.isEmpty {
                guard rest.first == UInt8(ascii: ":") else { return false }
                port = rest.dropFirst()
                guard !port.isEmpty else { return false }
            }
            return port.allSatisfy(isDigit) && port.count <= 5
        }
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            host = bytes[..<colon]
            port = bytes[(colon + 1)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(isDigit) else { return false }
        }
        return !host.isEmpty
            && host.allSatisfy { isDigit($0) || isLetter($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}

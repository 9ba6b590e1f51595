import Synchronization

/// The `x-request-id` of a request: the caller's when it is a sane token, otherwise a new random one.
enum RequestID {
    static let headerName = "x-request-id"

    static func take(from supplied: String?) -> String {
        if let supplied, (1...128).contains(supplied.utf8.count), supplied.utf8.allSatisfy(isTokenByte) {
            return supplied
        }
        return make()
    }

    /// A version-4-shaped UUID (some servers, llama-cpp-python's among them, refuse any other shape):
    /// 64 bits fixed per process at random and 58 bits of a counter, so unique without a system call per
    /// request. Request ids name requests; they are not secrets.
    static func make() -> String {
        let count = hex(counter.wrappingAdd(1, ordering: .relaxed).newValue)
        let prefix = processPrefix
        return "\(prefix.prefix(8))-\(prefix.dropFirst(8).prefix(4))-4\(prefix.dropFirst(12).prefix(3))-"
            + "\(variant(count.dropFirst(1).first!))\(count.dropFirst(2).prefix(2))\(prefix.suffix(1))-\(count.suffix(12))"
    }

    /// `8`, `9`, `a` or `b`: the RFC 9562 variant, keeping two bits of the digit it replaces.
    private static func variant(_ digit: Character) -> Character {
        let value = (digit.hexDigitValue ?? 0) & 0b11
        return Array("89ab")[value]
    }

    private static let processPrefix: String = {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next())
    }()

    private static let counter = Atomic<UInt64>(0)

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}

import Synchronization

/// The `x-request-id` of a request: the caller's when it is a sane token, otherwise a new one.
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
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let prefix = processPrefix
        var digits: [UInt8] = []
        digits.reserveCapacity(36)
        func put(_ value: UInt64, _ length: Int) {
            for shift in stride(from: (length - 1) * 4, through: 0, by: -4) {
                digits.append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            }
        }
        // 8-4-4-4-12: prefix, prefix, "4" + prefix, variant (8...b) + count + prefix, count.
        put(prefix >> 32, 8)
        digits.append(UInt8(ascii: "-"))
        put(prefix >> 16, 4)
        digits.append(UInt8(ascii: "-"))
        digits.append(UInt8(ascii: "4"))
        put(prefix >> 4, 3)
        digits.append(UInt8(ascii: "-"))
        put(0x8 | ((count >> 56) & 0x3), 1)
        put(count >> 48, 2)
        put(prefix, 1)
        digits.append(UInt8(ascii: "-"))
        put(count, 12)
        return String(decoding: digits, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static let processPrefix: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    private static let counter = Atomic<UInt64>(0)

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

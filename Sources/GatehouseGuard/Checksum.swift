#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The arithmetic behind the card, IBAN and secret checks.
enum Checksum {
    /// Whether the digits in `range` (other bytes skipped) pass the Luhn check.
    static func passesLuhn(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var sum = 0
        var doubled = false
        for index in range.reversed() where ByteClass.isDigit(bytes[index]) {
            var digit = Int(bytes[index] &- 0x30)
            if doubled {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
            doubled.toggle()
        }
        return sum % 10 == 0
    }

    /// Whether a card number in `range` starts with a known issuer prefix (Visa, Mastercard, Amex,
    /// Discover, JCB, Diners Club).
    static func hasKnownIssuer(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var prefix = 0
        var count = 0
        for index in range where count < 4 && ByteClass.isDigit(bytes[index]) {
            prefix = prefix * 10 + Int(bytes[index] &- 0x30)
            count += 1
        }
        switch prefix / 100 {
        case 30, 34...38, 51...55, 65: return true
        default: return prefix / 1000 == 4 || (2221...2720).contains(prefix) || prefix == 6011
        }
    }

    /// The next remainder of an IBAN's mod-97 check after one more character (letters count 10 to 35).
    @inline(__always) static func mod97(_ remainder: Int, _ byte: UInt8) -> Int {
        if ByteClass.isDigit(byte) { return (remainder * 10 + Int(byte &- 0x30)) % 97 }
        return (remainder * 100 + Int(byte &- 55)) % 97
    }

    /// Shannon entropy in bits per byte of the ASCII bytes in `range`.
    static func entropy(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 128) { counts in
            counts.initialize(repeating: 0)
            for index in range { counts[Int(bytes[index] & 0x7F)] += 1 }
            let total = Double(range.count)
            var bits = 0.0
            for count in counts where count > 0 {
                let share = Double(count) / total
                bits -= share * log2(share)
            }
            return bits
        }
    }
}

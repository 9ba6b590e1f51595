import GatehouseCore
import Testing

@Suite("Hexadecimal digits")
struct HexDigitTests {
    @Test("every byte: the sixteen digits in either case have their value, every other byte none")
    func everyByte() {
        let digits = Array("0123456789abcdef".utf8)
        for byte in UInt8.min...UInt8.max {
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F") ? byte | 0x20 : byte
            #expect(byte.hexDigitValue == digits.firstIndex(of: lower).map(UInt8.init), "\(byte)")
        }
    }
}

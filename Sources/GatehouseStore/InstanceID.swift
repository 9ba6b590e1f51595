/// A new gateway instance's id: a lowercase version-4 UUID from the system's random source (getrandom),
/// not Foundation's `UUID()`, which reads /dev/urandom and gave all zeros in a root without it: two
/// gateways with one id would take each other's holds for their own.
enum InstanceID {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { byte in
            String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}

import GatehouseCore
import Testing

@Suite("IP addresses and CIDRs")
struct AddressTests {
    @Test(
        "IPv4 and IPv6 parse and print canonically",
        arguments: [
            ("10.0.0.1", "10.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
            ("fd00::1", "fd00::1"), ("FD00:0:0:0:0:0:0:1", "fd00::1"), ("::", "::"), ("::1", "::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::ffff:10.0.0.1", "::ffff:a00:1"),
        ]
    )
    func parse(text: String, printed: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == printed)
    }

    @Test(
        "invalid addresses are refused",
        arguments: [
            "", "10.0.0", "10.0.0.256", "10.0.0.01", "1.2.3.4.5", "a.b.c.d", "1::2::3", "12345::", "fd00:::1", ":",
            "1:2:3:4:5:6:7:8:9",
        ]
    )
    func invalid(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("CIDR containment")
    func containment() throws {
        let net = try #require(CIDR("10.0.0.0/8"))
        #expect(net.contains(try #require(IPAddress("10.255.1.2"))))
        #expect(!net.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!net.contains(try #require(IPAddress("::ffff:10.0.0.1"))), "families never mix")
        #expect(net.contains(try #require(CIDR("10.1.0.0/16"))))
        #expect(!(try #require(CIDR("10.1.0.0/16"))).contains(net))
        let any = try #require(CIDR("0.0.0.0/0"))
        #expect(any.contains(try #require(IPAddress("203.0.113.9"))))
        let v6 = try #require(CIDR("fd00::/64"))
        #expect(v6.contains(try #require(IPAddress("fd00::abcd"))))
        #expect(!v6.contains(try #require(IPAddress("fd00:0:0:1::1"))))
        let host = try #require(CIDR("10.0.0.1/8"))
        #expect(host.description == "10.0.0.0/8" && !host.isCanonical)
    }

    @Test(
        "invalid CIDRs are refused",
        arguments: ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "fd00::/129", "x/8"]
    )
    func invalidCIDR(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test("bit sets")
    func bitSet() {
        var bits = BitSet(count: 130)
        for index in [0, 63, 64, 129] { bits.insert(index) }
        #expect(bits.members == [0, 63, 64, 129] && bits.cardinality == 4)
        var other = BitSet(count: 130)
        other.insert(64)
        #expect(bits.isSuperset(of: other) && !other.isSuperset(of: bits))
        bits.subtract(other)
        #expect(!bits.contains(64))
    }
}

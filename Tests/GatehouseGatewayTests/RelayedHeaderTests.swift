import Testing

@testable import GatehouseGateway

/// Which of an upstream's response headers a relayed answer leaves behind.
@Suite struct RelayedHeaderTests {
    @Test(arguments: Forwarder.droppedResponseHeaders)
    func droppedNamesAreRecognisedInAnyCase(name: String) {
        #expect(Forwarder.isDropped(name))
        #expect(Forwarder.isDropped(name.uppercased()))
        #expect(
            Forwarder.isDropped(
                String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
            )
        )
    }

    @Test(arguments: [
        "content-type", "content-length", "x-ratelimit-remaining-requests", "servers", "serve", "", "sét-cookie",
        "set_cookie",
    ])
    func otherNamesPass(name: String) {
        #expect(!Forwarder.isDropped(name))
    }
}

import Foundation
import GatehouseCore
import Testing

@Suite struct RequestReasonTests {
    @Test("every reason has its own code and is read back from it")
    func codesRoundTrip() {
        #expect(Set(RequestReason.known.map(\.code)).count == RequestReason.known.count)
        for reason in RequestReason.known {
            #expect(RequestReason(code: reason.code) == reason, "\(reason.code)")
            #expect(reason.code.allSatisfy { $0.isLowercase || $0 == "_" }, "\(reason.code)")
        }
        #expect(RequestReason.modelAccessDenied.code == "model_access_denied")
        #expect(RequestReason.clientClosed.code == "client_closed")
    }

    @Test("a reason an earlier version wrote in its own words is kept word for word")
    func recordedReasonsAreKept() throws {
        let old = RequestReason(code: "upstream status 502")
        #expect(old == .recorded("upstream status 502"))
        #expect(old.code == "upstream status 502")
        let json = try JSONEncoder().encode([old, .budgetExceeded])
        #expect(String(decoding: json, as: UTF8.self) == #"["upstream status 502","budget_exceeded"]"#)
        #expect(try JSONDecoder().decode([RequestReason].self, from: json) == [old, .budgetExceeded])
    }
}

import Testing

@testable import GatehouseGateway

@Suite struct RequestLogLineTests {
    @Test func fieldsKeepTheirOrderAndAbsentOnesAreLeftOut() {
        var line = RequestLogLine(requestID: "req-1")
        line.add("gatehouse.status", 403)
        line.add("gatehouse.identity", nil as String?)
        line.add("gatehouse.trace", "default: small-only end Deny")
        line.add("gatehouse.reason", "unknown model")
        #expect(
            line.text
                == "request gatehouse.request.id=req-1 gatehouse.status=403 gatehouse.trace=default: small-only end Deny"
                + " gatehouse.reason=unknown model"
        )
        #expect("\(line.message)" == line.text)
    }

    @Test(arguments: [
        (Duration.nanoseconds(18_080_000), "18.08"),
        (.microseconds(3_050), "3.05"),
        (.microseconds(3_009), "3.00"),
        (.seconds(2), "2000.00"),
        (.zero, "0.00"),
        (.seconds(86_400) + .microseconds(990), "86400000.99"),
    ])
    func durationsHaveTwoDecimalsRoundedDown(duration: Duration, text: String) {
        var line = RequestLogLine(requestID: "r")
        line.add("gatehouse.duration_ms", milliseconds: duration)
        #expect(line.text == "request gatehouse.request.id=r gatehouse.duration_ms=\(text)")
    }
}

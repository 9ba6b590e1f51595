import Foundation
import GatehouseCore
import Testing

/// A guardrail finding travels typed; its text form is only how an audit record stores it.
@Suite("Guardrail findings")
struct GuardrailFindingTests {
    @Test func storedFormRoundTrips() throws {
        let finding = GuardrailFinding(direction: .answer, detector: "aws-access-key", offset: 1_024)
        #expect(finding.description == "answer:aws-access-key@1024")
        #expect(GuardrailFinding(finding.description[...]) == finding)
        let json = try JSONEncoder().encode([finding])
        #expect(String(decoding: json, as: UTF8.self) == "[\"answer:aws-access-key@1024\"]")
        #expect(try JSONDecoder().decode([GuardrailFinding].self, from: json) == [finding])
        // A rule name may hold '.', '_' and '-'; the offset follows the last '@'.
        #expect(GuardrailFinding("prompt:team.ticket_id-2@7")?.detector == "team.ticket_id-2")
    }

    @Test(arguments: [
        "", "prompt", "prompt:email", "email@12", "question:email@12", "prompt:email@-1", "prompt:email@x",
    ])
    func notAFinding(text: String) throws {
        #expect(GuardrailFinding(text[...]) == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([GuardrailFinding].self, from: Data("[\"\(text)\"]".utf8))
        }
    }
}

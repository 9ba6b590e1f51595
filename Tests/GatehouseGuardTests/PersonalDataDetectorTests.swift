import Testing

@testable import GatehouseGuard

@Suite("Personal data detectors")
struct PersonalDataDetectorTests {
    @Test("email addresses need a dotted domain with a letter TLD")
    func email() {
        #expect(Fixtures.matches("Write to a.b@example.com.") == ["email: a.b@example.com"])
        #expect(Fixtures.matches("<john.smith+tag@mail.example.co.uk>") == ["email: john.smith+tag@mail.example.co.uk"])
        #expect(Fixtures.matches("user@localhost").isEmpty)
        #expect(Fixtures.matches("root@10.0.0.1").isEmpty)
        #expect(Fixtures.matches("a..b@example.com").isEmpty)
        #expect(Fixtures.matches("@example.com").isEmpty)
    }

    @Test(
        "phone numbers in E.164 and common national forms are found",
        arguments: [
            "+14155552671", "+44 20 7946 0958", "+1 (555) 123-4567", "(555) 123-4567", "555-123-4567", "555.123.4567",
            "1-555-123-4567", "020 7946 0958", "06 12 34 56 78", "+44 (0)20 7946 0958",
        ]
    )
    func phone(number: String) {
        #expect(Fixtures.matches("call \(number) today") == ["phone: \(number)"])
    }

    @Test(
        "dates, versions, addresses, bare digits and numbers inside longer runs are not phone numbers",
        arguments: [
            "2024-01-15", "192.168.100.200", "5551234567", "order 12 555 123 4567 shipped", "v1.555.123.4567",
            "555-123-4567x", "3.14159265358979", "+1234567", "10.0.19041.1234",
        ]
    )
    func notPhone(text: String) {
        #expect(Fixtures.matches(text).isEmpty)
    }

    @Test("card numbers with a valid Luhn digit and a known issuer are found, grouped or not")
    func creditCard() {
        #expect(Fixtures.matches("card 4111 1111 1111 1111 exp") == ["credit-card: 4111 1111 1111 1111"])
        #expect(Fixtures.matches("4111-1111-1111-1111") == ["credit-card: 4111-1111-1111-1111"])
        #expect(Fixtures.matches("5555555555554444") == ["credit-card: 5555555555554444"])
        #expect(Fixtures.matches("amex 3782 822463 10005") == ["credit-card: 3782 822463 10005"])
        #expect(Fixtures.matches("4111 1111 1111 1111 123") == ["credit-card: 4111 1111 1111 1111"], "CVV after it")
    }

    @Test(
        "a failing Luhn digit, an unknown issuer, mixed separators or a longer run is not a card",
        arguments: [
            "4111 1111 1111 1112", "9111 1111 1111 1119", "4111 1111-1111 1111", "x4111111111111111",
            "41111111111111111111111", "978-3-16-148410-0",
        ]
    )
    func notCreditCard(text: String) {
        #expect(Fixtures.matches(text).isEmpty)
    }

    @Test("IBANs with valid check digits and their country's length are found, spaced or compact")
    func iban() {
        #expect(Fixtures.matches("IBAN DE89 3704 0044 0532 0130 00.") == ["iban: DE89 3704 0044 0532 0130 00"])
        #expect(Fixtures.matches("GB82WEST12345698765432") == ["iban: GB82WEST12345698765432"])
        #expect(Fixtures.matches("FR14 2004 1010 0505 0001 3M02 606") == ["iban: FR14 2004 1010 0505 0001 3M02 606"])
        #expect(Fixtures.matches("NO9386011117947") == ["iban: NO9386011117947"])
        #expect(Fixtures.matches("XK051212012345678906") == ["iban: XK051212012345678906"], "a country not listed")
    }

    @Test(
        "an IBAN with a wrong check digit or the wrong length for its country is not found",
        arguments: [
            "DE89 3704 0044 0532 0130 01", "DE88370400440532013000", "DE8937040044053201300", "GB82WEST123456987654321",
        ]
    )
    func notIBAN(text: String) {
        #expect(Fixtures.matches(text).isEmpty)
    }
}

extension Labels {
    /// Why `key: value` is not a valid Kubernetes label, or nil when it is: a key is an optional DNS
    /// subdomain prefix and `/`, then a name of at most 63 alphanumerics, `-`, `_` and `.` that starts
    /// and ends alphanumeric; a value is empty or such a name.
    public static func problem(key: String, value: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return "label key \"\(key)\" has more than one '/'" }
        if parts.count == 2 {
            let prefix = parts[0]
            let dnsLabel = prefix.split(separator: ".", omittingEmptySubsequences: false)
            guard !prefix.isEmpty, prefix.utf8.count <= 253,
                dnsLabel.allSatisfy({ isDNSLabel($0) })
            else { return "label key prefix \"\(prefix)\" is not a DNS subdomain" }
        }
        guard let name = parts.last, isName(name) else {
            return "label key \"\(key)\" must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
        }
        guard value.isEmpty || isName(Substring(value)) else {
            return
                "label value \"\(value)\" must be empty or 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
        }
        return nil
    }

    private static func isName(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
        guard isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    private static func isDNSLabel(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
        guard isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

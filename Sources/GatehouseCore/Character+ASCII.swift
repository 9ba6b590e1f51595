extension Character {
    /// `0` to `9` only: `Character.isNumber` also accepts other scripts' digits, which no address or port has.
    public var isASCIIDigit: Bool { isASCII && isNumber }
}

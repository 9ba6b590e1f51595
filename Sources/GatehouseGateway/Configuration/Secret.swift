/// A credential held in memory: its text never appears in descriptions, logs or dumps.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret text; read it only to put it on the wire.
    public let revealed: String

    public init(_ revealed: String) { self.revealed = revealed }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

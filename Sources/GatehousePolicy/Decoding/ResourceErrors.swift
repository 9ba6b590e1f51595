/// Everything wrong with one load (warnings too under `--strict`), so a user fixes them in one pass.
public struct ResourceErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [ResourceError]

    public init(_ errors: [ResourceError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

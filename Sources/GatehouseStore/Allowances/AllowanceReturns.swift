/// What a gateway gives back of shared allowances: the unused part of window grants (or, negative, what
/// requests used beyond what they were charged), and concurrency slots it no longer needs.
public struct AllowanceReturns: Sendable, Equatable {
    /// By grant row: the amount to take off it.
    public var rows: [Int64: Double] = [:]
    /// By scope: the slots to give back.
    public var slots: [String: Int] = [:]

    public init() {}

    public var isEmpty: Bool { rows.isEmpty && slots.isEmpty }

    public mutating func merge(_ other: AllowanceReturns) {
        rows.merge(other.rows, uniquingKeysWith: +)
        slots.merge(other.slots, uniquingKeysWith: +)
    }
}

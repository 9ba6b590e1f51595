/// What a gateway tells the store of the shared allowances it has: what each of its window grants
/// counts now (what it was granted, less what its requests did not use, plus what they used beyond
/// what they were charged), and how many concurrency slots it holds per scope. Amounts are absolute,
/// so telling the store twice (a commit whose answer was lost) changes nothing.
public struct AllowanceReturns: Sendable, Equatable {
    /// By grant row: the amount it counts now.
    public var rows: [Int64: Double] = [:]
    /// By scope: the slots this gateway holds now.
    public var slots: [String: Int] = [:]

    public init() {}

    public var isEmpty: Bool { rows.isEmpty && slots.isEmpty }

    /// `newer`'s amounts win: they are what the gateway has now.
    public mutating func merge(_ newer: AllowanceReturns) {
        rows.merge(newer.rows) { _, newer in newer }
        slots.merge(newer.slots) { _, newer in newer }
    }
}

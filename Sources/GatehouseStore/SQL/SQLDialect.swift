/// Where the SQL of the two backends differs; everything else the store writes once.
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// A join that keeps the written order: SQLite's `CROSS JOIN` tells its planner not to reorder, a
    /// hint PostgreSQL has no syntax for (its `CROSS JOIN` takes no condition).
    var orderedJoin: String {
        switch self {
        case .sqlite: "CROSS JOIN"
        case .postgres: "JOIN"
        }
    }

    /// True when `text` starts with the bound argument.
    func startsWith(_ text: String) -> String {
        switch self {
        case .sqlite: "instr(\(text), ?) = 1"
        case .postgres: "strpos(\(text), ?) = 1"
        }
    }

    /// True when `text` contains the bound argument.
    func contains(_ text: String) -> String {
        switch self {
        case .sqlite: "instr(\(text), ?) > 0"
        case .postgres: "strpos(\(text), ?) > 0"
        }
    }

    /// The larger of two values in one row (SQLite's scalar `MAX`).
    func greatest(_ first: String, _ second: String) -> String {
        switch self {
        case .sqlite: "MAX(\(first), \(second))"
        case .postgres: "GREATEST(\(first), \(second))"
        }
    }

    /// Finds a `flow_text` row by its text: PostgreSQL indexes a digest, since a btree entry cannot
    /// hold a long trace.
    var flowTextLookup: String {
        switch self {
        case .sqlite: "SELECT id FROM flow_text WHERE text = ?"
        case .postgres: "SELECT id FROM flow_text WHERE md5(text) = md5(?) AND text = ?"
        }
    }

    /// The arguments of `flowTextLookup`.
    func flowTextLookupArguments(_ text: String) -> [any SQLArgument] {
        switch self {
        case .sqlite: [text]
        case .postgres: [text, text]
        }
    }
}

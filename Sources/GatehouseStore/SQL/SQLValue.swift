import Foundation

/// One value bound to a statement or read from a row, the same on both backends: SQLite's storage classes,
/// which PostgreSQL's column types of the store map onto (bigint, double precision, text, bytea).
enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value a statement can bind.
protocol SQLArgument {
    var sqlValue: SQLValue { get }
}

/// A Swift value a row's column can be read as; nil when the stored value is of another kind.
protocol SQLColumn {
    init?(sqlValue: SQLValue)
}

extension SQLValue: SQLArgument {
    var sqlValue: SQLValue { self }
}

extension Int64: SQLArgument, SQLColumn {
    var sqlValue: SQLValue { .integer(self) }

    init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Int: SQLArgument, SQLColumn {
    var sqlValue: SQLValue { .integer(Int64(self)) }

    init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue, let fitting = Int(exactly: value) else { return nil }
        self = fitting
    }
}

extension Double: SQLArgument, SQLColumn {
    var sqlValue: SQLValue { .real(self) }

    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension Bool: SQLArgument, SQLColumn {
    var sqlValue: SQLValue { .integer(self ? 1 : 0) }

    init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self = value != 0
    }
}

extension String: SQLArgument, SQLColumn {
    var sqlValue: SQLValue { .text(self) }

    init?(sqlValue: SQLValue) {
        guard case .text(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Data: SQLArgument, SQLColumn {
    var sqlValue: SQLValue { .blob(Array(self)) }

    init?(sqlValue: SQLValue) {
        guard case .blob(let value) = sqlValue else { return nil }
        self = Data(value)
    }
}

extension Optional: SQLArgument where Wrapped: SQLArgument {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLColumn where Wrapped: SQLColumn {
    init?(sqlValue: SQLValue) {
        if case .null = sqlValue {
            self = .none
            return
        }
        guard let value = Wrapped(sqlValue: sqlValue) else { return nil }
        self = .some(value)
    }
}

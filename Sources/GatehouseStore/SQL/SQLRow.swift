/// One row of a result, its columns by position or by name; the same on both backends.
struct SQLRow: Sendable {
    /// The result's column names, shared by its rows.
    final class Columns: Sendable {
        let names: [String]
        let positions: [String: Int]

        init(_ names: [String]) {
            self.names = names
            positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    let columns: Columns
    let values: [SQLValue]

    /// The column at `index` as a `T`; a column of another kind (a database edited by hand) is an error.
    subscript<T: SQLColumn>(_ index: Int) -> T {
        get throws(StoreError) { try value(index) }
    }

    func value<T: SQLColumn>(_ index: Int) throws(StoreError) -> T {
        guard values.indices.contains(index), let value = T(sqlValue: values[index]) else {
            let name = columns.names.indices.contains(index) ? columns.names[index] : "#\(index)"
            throw StoreError(.invalid, "the stored column \(name) does not hold a \(T.self)")
        }
        return value
    }

    subscript<T: SQLColumn>(_ name: String) -> T {
        get throws(StoreError) {
            guard let index = columns.positions[name] else {
                throw StoreError(.invalid, "the stored row has no column \(name)")
            }
            return try self[index]
        }
    }
}

import Foundation
import GatehousePolicy

/// A reachability matrix as a table ('.' allowed, 'X' denied), JSON or YAML, written as it is produced.
enum MatrixText {
    static func table(_ matrix: ReachabilityMatrix, into writer: inout OutputWriter) {
        let count = matrix.names.count
        let width = max(matrix.names.map(\.count).max() ?? 0, "\(matrix.protocol)/\(matrix.port)".count)
        func pad(_ text: String) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        writer.write("\(pad("\(matrix.protocol)/\(matrix.port)"))  ")
        writer.write((0..<count).map { "\($0 % 10)" }.joined(separator: " "))
        writer.write("\n")
        for row in 0..<count {
            writer.write(pad(matrix.names[row]) + "  ")
            for column in 0..<count {
                if column > 0 { writer.write(byte: UInt8(ascii: " ")) }
                writer.write(byte: matrix.allows(row: row, column: column) ? UInt8(ascii: ".") : UInt8(ascii: "X"))
            }
            writer.write("\n")
        }
        writer.write("\ncolumns are the rows' endpoints in the same order (digit = position mod 10); ")
        writer.write("\(matrix.allowedCount) of \(count * count) pairs allowed\n")
    }

    static func json(_ matrix: ReachabilityMatrix, into writer: inout OutputWriter) {
        writer.write("{\"protocol\": \"\(matrix.protocol)\", \"port\": \(matrix.port),\n \"endpoints\": [")
        writer.write(matrix.names.map { "\"\(escape($0))\"" }.joined(separator: ", "))
        writer.write("],\n \"allowed\": [\n")
        for row in 0..<matrix.names.count {
            writer.write(row == 0 ? "  [" : ",\n  [")
            for column in 0..<matrix.names.count {
                if column > 0 { writer.write(byte: UInt8(ascii: ",")) }
                writer.write(matrix.allows(row: row, column: column) ? "true" : "false")
            }
            writer.write("]")
        }
        writer.write("\n ]}\n")
    }

    /// One matrix as a YAML mapping; `inList` makes it an item of a list (several ports), as JSON's array.
    static func yaml(_ matrix: ReachabilityMatrix, inList: Bool, into writer: inout OutputWriter) {
        let indent = inList ? "  " : ""
        writer.write(
            "\(inList ? "- " : "")protocol: \(matrix.protocol)\n\(indent)port: \(matrix.port)\n\(indent)endpoints:\n"
        )
        for name in matrix.names { writer.write("\(indent)- \"\(escape(name))\"\n") }
        writer.write("\(indent)allowed:\n")
        for row in 0..<matrix.names.count {
            writer.write("\(indent)- [")
            for column in 0..<matrix.names.count {
                if column > 0 { writer.write(", ") }
                writer.write(matrix.allows(row: row, column: column) ? "true" : "false")
            }
            writer.write("]\n")
        }
    }

    /// Endpoint names are Kubernetes names or addresses; escaping quotes and backslashes keeps output valid anyway.
    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

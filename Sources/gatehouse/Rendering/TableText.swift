/// Columns padded to their widest cell, as kubectl prints them.
enum TableText {
    static func render(header: [String], rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "" }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 3)
            }.joined() + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}

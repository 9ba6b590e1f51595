import Foundation

/// The lines of a file or of standard input, read in chunks (a `hubble observe -f` pipe never ends, and
/// a day of logs need not fit in memory), each with its number.
struct FlowLogLines {
    let handle: FileHandle

    init?(path: String) {
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: path) else { return nil }
            handle = opened
        }
    }

    func readEach(_ body: (Substring, Int) throws -> Void) rethrows {
        var pending = Data()
        var number = 0
        while true {
            let chunk = handle.readData(ofLength: 1 << 16)
            if chunk.isEmpty { break }
            pending.append(chunk)
            guard let last = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
            let complete = String(decoding: pending[..<last], as: UTF8.self)
            pending = Data(pending[pending.index(after: last)...])
            for line in complete.split(separator: "\n", omittingEmptySubsequences: false) {
                number += 1
                try body(line, number)
            }
        }
        if !pending.isEmpty {
            try body(Substring(String(decoding: pending, as: UTF8.self)), number + 1)
        }
    }
}

import Foundation

/// Buffered standard output for large results (a 2,000-pod matrix is millions of cells).
struct OutputWriter {
    private var buffer: [UInt8] = []
    private let limit = 1 << 20

    init() { buffer.reserveCapacity(limit + 4096) }

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= limit { flush() }
    }

    mutating func write(byte: UInt8) {
        buffer.append(byte)
        if buffer.count >= limit { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

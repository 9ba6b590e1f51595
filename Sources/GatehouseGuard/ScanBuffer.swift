/// Thrown by a detector whose verdict depends on bytes that have not arrived yet.
struct NeedMore: Error {}

/// The bytes being scanned and whether more may follow.
///
/// Detectors read ahead through ``peek(_:)``: past the end of complete text it returns 0, which no
/// detector accepts, and past the end of incomplete text it throws ``NeedMore``. A verdict reached
/// without that error used only bytes that are already here, so it cannot change when more arrive.
struct ScanBuffer {
    let bytes: UnsafeBufferPointer<UInt8>
    let isComplete: Bool

    var end: Int { bytes.count }

    @inline(__always)
    func peek(_ index: Int) throws(NeedMore) -> UInt8 {
        if index < bytes.count { return bytes[index] }
        if isComplete { return 0 }
        throw NeedMore()
    }

    /// The byte before `index`, or 0 at the start.
    @inline(__always)
    func before(_ index: Int) -> UInt8 { index > 0 ? bytes[index - 1] : 0 }

    /// Whether `literal` (ASCII) starts at `index`.
    @inline(__always)
    func matches(_ literal: StaticString, at index: Int) throws(NeedMore) -> Bool {
        let start = literal.utf8Start
        for offset in 0..<literal.utf8CodeUnitCount {
            guard try peek(index + offset) == start[offset] else { return false }
        }
        return true
    }

    /// The end of the run of bytes accepted by `accepts` that starts at `index`, or nil when the run is
    /// longer than `limit`.
    @inline(__always)
    func runEnd(from index: Int, limit: Int, _ accepts: (UInt8) -> Bool) throws(NeedMore) -> Int? {
        var cursor = index
        while try accepts(peek(cursor)) {
            cursor += 1
            if cursor - index > limit { return nil }
        }
        return cursor
    }
}

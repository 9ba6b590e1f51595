import Foundation
import Logging
import Synchronization

/// One line per event on standard error, `2026-11-26T23:05:44Z info gatehouse: message key=value ...`
/// with keys sorted. Lines are collected and written by a background thread every 100 ms (warnings
/// and worse at once, after what came before), so the request path makes no system call to log.
/// Leaner than swift-log's `StreamLogHandler`, whose per-line formatting and write showed in profiles.
struct LogLineHandler: LogHandler {
    /// Lines not yet written.
    private static let pending = Mutex<[UInt8]>([])
    /// The buffer swapped with `pending` when lines are written, held while they are.
    private static let writing = Mutex<[UInt8]>([])
    private static let flusher: Void = {
        Thread.detachNewThread {
            while true {
                Thread.sleep(forTimeInterval: 0.1)
                LogLineHandler.flush()
            }
        }
    }()

    /// The UTC timestamp text, remade once a second.
    private static let clock = Mutex<(second: Int, text: String)>((-1, ""))

    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields: Logger.Metadata
        if let extra = event.metadata {
            fields = metadata.isEmpty ? extra : metadata.merging(extra) { _, new in new }
        } else {
            fields = metadata
        }
        let sorted = fields.sorted { $0.key < $1.key }
        let stamp = Self.timestamp()
        _ = Self.flusher
        // Appended where it waits, under the lock: a line of its own first would be one more copy.
        Self.pending.withLock { line in
            line.append(contentsOf: stamp.utf8)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: event.level.rawValue.utf8)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
            line.append(contentsOf: ": ".utf8)
            line.append(contentsOf: event.message.description.utf8)
            for (key, value) in sorted {
                line.append(UInt8(ascii: " "))
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                if case .string(let text) = value {
                    line.append(contentsOf: text.utf8)
                } else {
                    line.append(contentsOf: value.description.utf8)
                }
            }
            line.append(UInt8(ascii: "\n"))
        }
        if event.level >= .warning { Self.flush() }
    }

    /// Writes every pending line; call before the process exits. The lines are swapped out and written
    /// outside the lock that loggers take: a write of 100 ms of lines held every request that logged
    /// meanwhile. Flushes run one at a time, so lines keep their order.
    static func flush() {
        writing.withLock { spare in
            pending.withLock { swap(&$0, &spare) }
            spare.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
            spare.removeAll(keepingCapacity: spare.count < 1 << 20)
        }
    }

    private static func timestamp() -> String {
        let now = time(nil)
        return clock.withLock { cached in
            if cached.second != now {
                var parts = tm()
                var seconds = now
                gmtime_r(&seconds, &parts)
                cached = (
                    now,
                    String(
                        format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
                        parts.tm_year + 1900,
                        parts.tm_mon + 1,
                        parts.tm_mday,
                        parts.tm_hour,
                        parts.tm_min,
                        parts.tm_sec
                    )
                )
            }
            return cached.text
        }
    }
}

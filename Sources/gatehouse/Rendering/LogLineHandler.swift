import Foundation
import Logging
import Synchronization

/// One line per event on standard error, `2026-11-26T23:05:44Z info gatehouse: message key=value ...`
/// with keys sorted, written with one `write` call. Leaner than swift-log's `StreamLogHandler`, whose
/// per-line local-time formatting showed in the gateway's request path.
struct LogLineHandler: LogHandler {
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
        var line = Self.timestamp()
        line += " \(event.level) \(label): \(event.message)"
        let fields = event.metadata.map { metadata.merging($0) { _, new in new } } ?? metadata
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        line += "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
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

/// Guards one streamed answer: a sans-I/O state machine fed with text deltas as they arrive.
///
/// Each ``feed(_:)`` returns a ``Release``: the text that is safe to emit now and the findings in it. The
/// stream holds back the tail that could still be the start of a match, so a match split across any
/// number of deltas is found before any of its bytes are released. The held tail is usually the last word;
/// it grows while a candidate is arriving (a number run, a token, a prompt-injection phrase and its
/// neighbourhood) and is bounded by the longest candidate, a 4 KiB JSON Web Token, except inside a private
/// key block, which is held up to ``maxKeyBlockBytes``.
///
/// Released text, concatenated, equals ``GuardScanner/redact(_:findings:)`` of the whole answer with
/// ``GuardScanner/scan(_:)``'s findings (``Mode/redact``) or the answer itself (``Mode/detect``), and the
/// findings equal ``GuardScanner/scan(_:)``'s. Exceptions: a private key block longer than
/// ``maxKeyBlockBytes`` is reported when that many bytes have arrived, covering them, and the rest of the
/// block is swallowed; a custom pattern longer than the configuration's pattern window, or one that looks
/// behind the whitespace before it, may be missed.
public struct GuardStream: Sendable {
    /// What the stream does with findings.
    public enum Mode: Sendable, Hashable {
        /// Release text with each finding replaced by `[REDACTED:<rule>]`.
        case redact
        /// Release text unchanged; report findings only.
        case detect
    }

    /// What a stream lets through after a delta.
    ///
    /// A finding is reported in the same release as the text that contains it (redacted or not), so a
    /// caller that blocks on findings checks ``findings`` before it emits ``text``.
    public struct Release: Sendable, Hashable {
        /// Text that is safe to emit now.
        public let text: String
        /// Findings that became final, with UTF-8 byte offsets into the whole answer.
        public let findings: [GuardFinding]
    }

    private enum Phase {
        case scanning
        /// Inside a private key block that outgrew ``maxKeyBlockBytes``: bytes go nowhere until its END line.
        case swallowingKey
        case finished
    }

    /// The most bytes of an open private key block held back before it is reported.
    public static let maxKeyBlockBytes = 16 * 1024
    /// Released bytes kept for detectors that look behind a match (`password: ` before a value).
    static let contextBytes = 128

    public let mode: Mode
    private let scanner: GuardScanner
    /// Context and unreleased bytes.
    private var window: [UInt8] = []
    /// The answer offset of `window[0]`.
    private var windowStart = 0
    /// The answer offset up to which bytes are released (or swallowed).
    private var released = 0
    private var phase = Phase.scanning
    /// The start of the open private key block the unreleased bytes begin with, if any.
    private var openKeyBlock: Int?

    public init(scanner: GuardScanner, mode: Mode = .redact) {
        self.scanner = scanner
        self.mode = mode
    }

    /// Bytes received and not yet released.
    public var heldBytes: Int { windowStart + window.count - released }

    /// Takes the next delta of the answer.
    public mutating func feed(_ delta: String) -> Release {
        precondition(phase != .finished, "a finished GuardStream was fed")
        let previousEnd = window.count
        window.append(contentsOf: delta.utf8)
        if phase == .swallowingKey { return swallowKey() }
        // While the held bytes are an open key block, only an END line can change anything.
        if let start = openKeyBlock, start == released,
            !containsKeyEnd(from: previousEnd - ScanBuffer.longestKeyEndLine)
        {
            guard window.count - (start - windowStart) > Self.maxKeyBlockBytes else {
                return Release(text: "", findings: [])
            }
        }
        return advance(isComplete: false)
    }

    /// Ends the answer and releases everything still held.
    public mutating func finish() -> Release {
        precondition(phase != .finished, "a GuardStream was finished twice")
        defer { phase = .finished }
        guard phase == .swallowingKey else { return advance(isComplete: true) }
        let from = released - windowStart
        let text = mode == .detect ? String(decoding: window[from...], as: UTF8.self) : ""
        return Release(text: text, findings: [])
    }

    /// Scans the unreleased bytes and releases those whose verdict is final.
    private mutating func advance(isComplete: Bool) -> Release {
        let from = released - windowStart
        var outcome = window.withUnsafeBufferPointer { bytes in
            var pass = ScanPass(bytes, from: from, isComplete: isComplete, rules: scanner.rules)
            pass.run()
            var outcome = (
                findings: pass.findings,
                hold: pass.hold,
                openKeyBlock: pass.openKeyBlock,
                wholes: pass.findings.map(\.range) + pass.clusters
            )
            if !scanner.rules.patterns.isEmpty {
                let patterns = scanner.rules.patternFindings(bytes, from: from, isComplete: isComplete)
                outcome.findings += patterns.findings
                outcome.wholes += patterns.findings.map(\.range)
                outcome.hold = min(outcome.hold, patterns.hold)
            }
            return outcome
        }
        if let start = outcome.openKeyBlock, window.count - start > Self.maxKeyBlockBytes {
            return overflowKeyBlock(at: start)
        }
        // Never cut through a finding or an injection cluster: each is released whole, or later.
        var cut = outcome.hold
        while let crossing = outcome.wholes.first(where: { $0.lowerBound < cut && $0.upperBound > cut }) {
            cut = crossing.lowerBound
        }
        outcome.findings = outcome.findings.filter { $0.range.lowerBound < cut }.resolved()
        openKeyBlock = outcome.openKeyBlock == cut ? windowStart + cut : nil
        return release(from..<cut, findings: outcome.findings)
    }

    /// Releases `range` of the window with `findings` (window offsets).
    private mutating func release(_ range: Range<Int>, findings: [GuardFinding]) -> Release {
        let text: String
        if mode == .detect || findings.isEmpty {
            text = String(decoding: window[range], as: UTF8.self)
        } else {
            var output: [UInt8] = []
            window.withUnsafeBufferPointer { bytes in
                GuardScanner.redact(bytes, range, findings: findings, into: &output)
            }
            text = String(decoding: output, as: UTF8.self)
        }
        let findings = findings.map { $0.shifted(by: windowStart) }
        consume(upTo: range.upperBound)
        return Release(text: text, findings: findings)
    }

    /// Marks the window up to `end` as released and drops what is no longer needed as context.
    private mutating func consume(upTo end: Int) {
        released = windowStart + end
        var keep = max(0, end - Self.contextBytes)
        while keep < end && ByteClass.isContinuation(window[keep]) { keep += 1 }
        window.removeFirst(keep)
        windowStart += keep
    }

    /// Reports an open private key block that outgrew the bound, covering what has arrived, and swallows
    /// the rest of it. The bytes before it are released as if the answer ended there.
    private mutating func overflowKeyBlock(at start: Int) -> Release {
        let from = released - windowStart
        let before = window.withUnsafeBufferPointer { bytes in
            var pass = ScanPass(
                UnsafeBufferPointer(rebasing: bytes[..<start]),
                from: from,
                isComplete: true,
                rules: scanner.rules
            )
            pass.run()
            return pass.findings.resolved()
        }
        let key = GuardFinding(rule: .detector(.privateKey), range: start..<window.count)
        phase = .swallowingKey
        openKeyBlock = nil
        return release(from..<window.count, findings: before + [key])
    }

    /// Swallows bytes of an overgrown private key block up to its END line, then scans as usual.
    private mutating func swallowKey() -> Release {
        let from = released - windowStart
        let endLine = window.withUnsafeBufferPointer { bytes in
            ScanBuffer(bytes: bytes, isComplete: false).keyEndLine(searchingFrom: max(0, from - 8))
        }
        let swallowEnd =
            switch endLine {
            case .found(let end): max(from, end)
            case .partial(let start): max(from, start)
            case .absent: window.count
            }
        let swallowed = mode == .detect ? String(decoding: window[from..<swallowEnd], as: UTF8.self) : ""
        consume(upTo: swallowEnd)
        guard case .found = endLine else { return Release(text: swallowed, findings: []) }
        phase = .scanning
        let rest = advance(isComplete: false)
        return Release(text: swallowed + rest.text, findings: rest.findings)
    }

    /// Whether `-----END` occurs in the window from `index` on.
    private func containsKeyEnd(from index: Int) -> Bool {
        let marker = Array("-----END".utf8)
        var start = max(0, index)
        while start + marker.count <= window.count {
            if window[start] == marker[0] && window[start..<(start + marker.count)].elementsEqual(marker) {
                return true
            }
            start += 1
        }
        return false
    }
}

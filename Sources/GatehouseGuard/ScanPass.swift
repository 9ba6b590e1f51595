/// One scan of a byte buffer by the built-in detectors and keyword lists.
///
/// The pass visits each word start and each punctuation byte a detector can start at, from `from` on
/// (bytes before it are context for look-behind only). For incomplete text it also finds ``hold``: the
/// earliest offset whose verdict still depends on bytes that have not arrived. Findings starting before it
/// are final.
struct ScanPass {
    /// A phrase or tag match of the prompt-injection heuristic.
    struct InjectionHit {
        let family: InjectionLexicon.Family
        let weight: Double
        let range: Range<Int>
    }

    let buffer: ScanBuffer
    let from: Int
    let rules: ScanRules
    private let lexicon: InjectionLexicon
    private(set) var findings: [GuardFinding] = []
    private(set) var hold: Int
    /// The start of a private key block whose END line has not arrived.
    private(set) var openKeyBlock: Int?
    /// The extents of closed prompt-injection clusters in incomplete text: a stream releases each one whole,
    /// because its score depends on all of its hits.
    private(set) var clusters: [Range<Int>] = []
    private var hits: [InjectionHit] = []
    /// The earliest offset where a prompt-injection phrase or tag may still be arriving.
    private var injectionHold: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, isComplete: Bool, rules: ScanRules) {
        buffer = ScanBuffer(bytes: bytes, isComplete: isComplete)
        self.from = from
        self.rules = rules
        lexicon = InjectionLexicon.shared
        hold = bytes.count
        injectionHold = bytes.count
    }

    mutating func run() {
        let bytes = buffer.bytes
        let end = bytes.count
        if rules.detects(.genericSecret) {
            // A value at `from` may belong to a separator just before it.
            for index in max(0, from - 8)..<from
            where bytes[index] == UInt8(ascii: "=") || bytes[index] == UInt8(ascii: ":") {
                probeSecretValue(separator: index)
            }
        }
        var index = from
        while index < end {
            if ByteClass.isWord(bytes[index]) {
                var wordEnd = index + 1
                while wordEnd < end && ByteClass.isWord(bytes[wordEnd]) { wordEnd += 1 }
                // The rest of a word whose start is behind `from` or inside a key block: nothing starts here.
                if ByteClass.isWord(buffer.before(index)) {
                    index = wordEnd
                    continue
                }
                // A word still arriving may grow into a match; one longer than any match starting at a
                // word is probed like the rest, so that the hold stays bounded.
                if wordEnd == end && !buffer.isComplete && wordEnd - index <= ScanBuffer.longestJWT {
                    holdBack(from: index)
                    injectionHold = min(injectionHold, index)
                    break
                }
                probeWord(index, wordEnd)
                index = wordEnd
            } else {
                guard let next = probePunctuation(index) else { break }
                index = next
            }
        }
        if !buffer.isComplete && rules.detects(.email), let start = buffer.trailingLocalPartStart() {
            holdBack(from: start)
        }
        if !hits.isEmpty { reportInjection() }
    }

    private mutating func holdBack(from index: Int) { hold = min(hold, max(index, from)) }

    private mutating func record(_ rule: GuardRule, _ range: Range<Int>, score: Double? = nil) {
        if range.lowerBound >= from { findings.append(GuardFinding(rule: rule, range: range, score: score)) }
    }

    @inline(__always)
    private mutating func probe(
        _ detector: GuardDetector,
        at start: Int,
        _ match: (ScanBuffer) throws(NeedMore) -> Int?
    ) {
        do {
            if let matchEnd = try match(buffer) { record(.detector(detector), start..<matchEnd) }
        } catch {
            holdBack(from: start)
        }
    }

    private mutating func probeWord(_ start: Int, _ wordEnd: Int) {
        let first = buffer.bytes[start]
        if ByteClass.isDigit(first) {
            probeNumber(start)
        } else if ByteClass.isUpper(first) {
            if first == UInt8(ascii: "A") && rules.detects(.awsAccessKey) {
                probe(.awsAccessKey, at: start) { buffer throws(NeedMore) in try buffer.awsKeyEnd(at: start) }
            }
            if rules.detects(.iban) {
                probe(.iban, at: start) { buffer throws(NeedMore) in try buffer.ibanEnd(at: start) }
            }
        } else {
            switch first {
            case UInt8(ascii: "e") where rules.detects(.jwt):
                probe(.jwt, at: start) { buffer throws(NeedMore) in try buffer.jwtEnd(at: start) }
            case UInt8(ascii: "g") where rules.detects(.githubToken):
                probe(.githubToken, at: start) { buffer throws(NeedMore) in try buffer.githubTokenEnd(at: start) }
            case UInt8(ascii: "s") where rules.detects(.openAIKey):
                probe(.openAIKey, at: start) { buffer throws(NeedMore) in try buffer.openAIKeyEnd(at: start) }
            case UInt8(ascii: "x") where rules.detects(.slackToken):
                probe(.slackToken, at: start) { buffer throws(NeedMore) in try buffer.slackTokenEnd(at: start) }
            default:
                break
            }
        }
        if !rules.keywords.isEmpty { probeKeywords(start) }
        if rules.detects(.promptInjection) { probeInjectionWord(start, wordEnd) }
    }

    /// Probes the punctuation byte at `index`; returns where to go on, or nil when the rest is held.
    private mutating func probePunctuation(_ index: Int) -> Int? {
        switch buffer.bytes[index] {
        case UInt8(ascii: "@") where rules.detects(.email):
            guard let start = buffer.emailStart(at: index) else { break }
            do {
                if let domainEnd = try buffer.emailDomainEnd(at: index) { record(.detector(.email), start..<domainEnd) }
            } catch {
                holdBack(from: start)
            }
        case UInt8(ascii: "="), UInt8(ascii: ":"):
            if rules.detects(.genericSecret) { probeSecretValue(separator: index) }
        case UInt8(ascii: "-") where rules.detects(.privateKey):
            do {
                switch try buffer.privateKeyBlock(at: index) {
                case .closed(let blockEnd):
                    record(.detector(.privateKey), index..<blockEnd)
                    return blockEnd
                case .open:
                    holdBack(from: index)
                    openKeyBlock = index
                    return nil
                case nil:
                    break
                }
            } catch {
                holdBack(from: index)
            }
        case UInt8(ascii: "+"), UInt8(ascii: "("):
            probeNumber(index)
        case UInt8(ascii: "<"), UInt8(ascii: "["), UInt8(ascii: "#"):
            if rules.detects(.promptInjection) { probeTag(index) }
        default:
            break
        }
        return index + 1
    }

    private mutating func probeNumber(_ start: Int) {
        let phones = rules.detects(.phone)
        let cards = rules.detects(.creditCard)
        guard phones || cards else { return }
        do {
            if let (detector, numberEnd) = try buffer.numberEnd(at: start, phones: phones, cards: cards) {
                record(.detector(detector), start..<numberEnd)
            }
        } catch {
            holdBack(from: start)
        }
    }

    private mutating func probeSecretValue(separator: Int) {
        do {
            if let value = try buffer.secretValue(separator: separator) { record(.detector(.genericSecret), value) }
        } catch {
            holdBack(from: separator + 1)
        }
    }

    /// Records the longest keyword match starting at `start`.
    private mutating func probeKeywords(_ start: Int) {
        var longestEnd = start
        var rule: GuardRule?
        var incomplete = false
        for index in rules.keywords.candidates(startingWith: buffer.bytes[start]) {
            let keyword = rules.keywords.keywords[index]
            do {
                if let keywordEnd = try buffer.keywordEnd(keyword.bytes, at: start), keywordEnd > longestEnd {
                    longestEnd = keywordEnd
                    rule = keyword.rule
                }
            } catch {
                incomplete = true
            }
        }
        if incomplete { holdBack(from: start) }
        if let rule { record(rule, start..<longestEnd) }
    }

    private mutating func probeInjectionWord(_ start: Int, _ wordEnd: Int) {
        guard let id = lexicon.wordID(buffer.bytes, start..<wordEnd) else { return }
        for index in lexicon.phrasesStartingWith[id] {
            let phrase = lexicon.phrases[index]
            do {
                if let phraseEnd = try buffer.phraseEnd(phrase, after: wordEnd, lexicon: lexicon) {
                    hits.append(InjectionHit(family: phrase.family, weight: phrase.weight, range: start..<phraseEnd))
                }
            } catch {
                holdBack(from: start)
                injectionHold = min(injectionHold, start)
            }
        }
    }

    private mutating func probeTag(_ start: Int) {
        if buffer.bytes[start] == UInt8(ascii: "#") && buffer.before(start) == UInt8(ascii: "#") { return }
        for tag in lexicon.tags where tag.bytes[0] == buffer.bytes[start] {
            do {
                if let tagEnd = try buffer.tagEnd(tag, at: start) {
                    hits.append(InjectionHit(family: .roleTag, weight: tag.weight, range: start..<tagEnd))
                    return
                }
            } catch {
                holdBack(from: start)
                injectionHold = min(injectionHold, start)
                return
            }
        }
    }

    /// Groups hits into clusters and reports each cluster whose score reaches the threshold, at its
    /// strongest hit. A cluster that more bytes could still extend is held instead.
    ///
    /// A cluster's score combines the strongest hit of each phrase family: `1 - Π(1 - weight)`.
    private mutating func reportInjection() {
        hits.sort {
            ($0.range.lowerBound, $0.range.upperBound, $0.weight) < (
                $1.range.lowerBound, $1.range.upperBound, $1.weight
            )
        }
        var first = 0
        while first < hits.count {
            let clusterStart = hits[first].range.lowerBound
            var clusterEnd = hits[first].range.upperBound
            var next = first + 1
            var limit = min(clusterEnd + InjectionLexicon.clusterGap, clusterStart + InjectionLexicon.clusterSpan)
            while next < hits.count && hits[next].range.lowerBound <= limit {
                clusterEnd = max(clusterEnd, hits[next].range.upperBound)
                limit = min(clusterEnd + InjectionLexicon.clusterGap, clusterStart + InjectionLexicon.clusterSpan)
                next += 1
            }
            if !buffer.isComplete && min(buffer.end, injectionHold) <= limit {
                holdBack(from: clusterStart)
                return
            }
            if !buffer.isComplete { clusters.append(clusterStart..<clusterEnd) }
            let cluster = hits[first..<next]
            var strongest = cluster[first]
            var remaining = 1.0
            for family in InjectionLexicon.Family.allCases {
                var weight = 0.0
                for hit in cluster where hit.family == family { weight = max(weight, hit.weight) }
                remaining *= 1 - weight
            }
            for hit in cluster where hit.weight > strongest.weight { strongest = hit }
            let score = 1 - remaining
            if score >= rules.injectionThreshold {
                record(.detector(.promptInjection), strongest.range, score: score)
            }
            first = next
        }
    }
}

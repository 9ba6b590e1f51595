/// The prompt-injection heuristic's vocabulary: weighted phrase families and fake chat-template role tags.
///
/// A phrase is a sequence of slots; each slot is a set of words, and may be preceded by a few filler words
/// (`~2` in a spec allows two). Words are ASCII letters and digits, compared ignoring case, so punctuation
/// and extra whitespace between them do not matter.
struct InjectionLexicon: Sendable {
    enum Family: Int, CaseIterable {
        case override, persona, jailbreak, doAnythingNow, extraction, newInstructions, unrestricted, roleplay
        case encoded, roleTag
    }

    /// A set of word ids.
    struct WordSet: Sendable {
        private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        mutating func insert(_ id: Int) {
            let bit = UInt64(1) << UInt64(id & 63)
            switch id >> 6 {
            case 0: bits.0 |= bit
            case 1: bits.1 |= bit
            case 2: bits.2 |= bit
            default: bits.3 |= bit
            }
        }

        func contains(_ id: Int) -> Bool {
            let word =
                switch id >> 6 {
                case 0: bits.0
                case 1: bits.1
                case 2: bits.2
                default: bits.3
                }
            return word & (UInt64(1) << UInt64(id & 63)) != 0
        }
    }

    struct Slot: Sendable {
        let words: WordSet
        /// How many other words may come before this slot's word.
        let fillers: Int
        /// Whether the slot is a base64-looking blob instead of a word.
        let isBlob: Bool
    }

    struct Phrase: Sendable {
        let family: Family
        let weight: Double
        let slots: [Slot]
    }

    /// A literal tag; a space in it stands for up to four whitespace bytes.
    struct Tag: Sendable {
        let bytes: [UInt8]
        let weight: Double
    }

    static let shared = InjectionLexicon()

    /// A hit joins the cluster before it when it starts within this many bytes of the cluster's end...
    static let clusterGap = 160
    /// ... and within this many bytes of the cluster's start.
    static let clusterSpan = 256
    /// Words longer than this are in no phrase.
    static let longestWord = 24

    let phrases: [Phrase]
    /// Phrase indices by the id of a word their first slot accepts.
    let phrasesStartingWith: [[Int]]
    /// Tags, longest first where one extends another.
    let tags: [Tag]
    private let hashes: [UInt64]
    private let ids: [UInt8]
    /// Bit `n` of entry `b` is set when a vocabulary word of `n` bytes starts with byte `b`: most words fail
    /// this test and are never hashed.
    private let lengthsByFirstByte: [UInt32]

    private init() {
        let specs: [(Family, Double, String)] = [
            (
                .override, 0.6,
                "ignore|disregard|forget|override|bypass|skip|neglect"
                    + " ~3previous|prior|above|earlier|preceding|former|original|initial|system|developer|existing"
                    + " ~2instructions|instruction|rules|rule|directions|directives|prompts|prompt|guidelines"
                    + "|messages|constraints|commands|context|guidance|policies|policy|orders"
            ),
            (
                .override, 0.55,
                "ignore|disregard|forget|override|bypass ~2all|any|every"
                    + " ~1instructions|rules|guidelines|directions|directives|constraints|restrictions|prompts"
            ),
            (.override, 0.5, "ignore|disregard|forget ~2everything|anything ~3above|before|previously|earlier|prior"),
            (.persona, 0.35, "you are|re now"),
            (.persona, 0.4, "you are|re no longer"),
            (.persona, 0.3, "from now on ~2you"),
            (
                .jailbreak, 0.6,
                "act|acting|pretend|roleplay|behave|respond|answer|operate|function|become"
                    + " ~4dan|jailbroken|unrestricted|unfiltered|uncensored"
            ),
            (.jailbreak, 0.6, "you are|re now ~2dan|jailbroken|unrestricted|unfiltered|uncensored"),
            (.jailbreak, 0.6, "act|acting|pretend|simulate|become ~5developer|dan|god|jailbreak mode"),
            (.jailbreak, 0.6, "activate|enable|enter ~2dan|god|jailbreak mode"),
            (.jailbreak, 0.5, "dan|god|jailbreak mode"),
            (.jailbreak, 0.4, "developer mode"),
            (.jailbreak, 0.35, "jailbreak|jailbroken|jailbreaking"),
            (.doAnythingNow, 0.6, "do anything now"),
            (
                .extraction, 0.5,
                "reveal|print|repeat|show|output|display|leak|tell|give|share|dump|recite|expose|disclose"
                    + " ~4system|hidden|secret|initial|developer ~1prompt|prompts|instructions|message"
            ),
            (.extraction, 0.45, "what ~1is|are|was|were ~2system|hidden|initial|secret prompt|prompts|instructions"),
            (.extraction, 0.4, "repeat|print|output|recite ~3everything|text|words|all ~2above"),
            (.extraction, 0.2, "system prompt"),
            (.newInstructions, 0.45, "new|updated|revised|real|actual ~1instructions|instruction|directives|orders"),
            (
                .unrestricted, 0.35,
                "without|no|remove|disable|bypass|lift ~2restrictions|restriction|limitations|limits|filters|filter"
                    + "|censorship|guardrails|safeguards|boundaries|constraints|ethics|morals"
            ),
            (.roleplay, 0.3, "pretend ~2you|to|that"),
            (.roleplay, 0.25, "roleplay ~1as"),
            (.roleplay, 0.25, "role play ~1as"),
            (.roleplay, 0.25, "stay|remain ~1in character"),
            (.roleplay, 0.15, "pretend"),
            (.encoded, 0.45, "decode|decrypt|deobfuscate|base64 ~6<blob>"),
        ]
        var vocabulary: [String: Int] = [:]
        var phrases: [Phrase] = []
        for (family, weight, spec) in specs {
            var slots: [Slot] = []
            for token in spec.split(separator: " ") {
                var fillers = 0
                var alternatives = Substring(token)
                if alternatives.hasPrefix("~") {
                    fillers = Int(String(alternatives.dropFirst().prefix(1)))!
                    alternatives = alternatives.dropFirst(2)
                }
                if alternatives == "<blob>" {
                    slots.append(Slot(words: WordSet(), fillers: fillers, isBlob: true))
                    continue
                }
                var words = WordSet()
                for word in alternatives.split(separator: "|") {
                    let id = vocabulary[String(word)] ?? vocabulary.count
                    vocabulary[String(word)] = id
                    words.insert(id)
                }
                slots.append(Slot(words: words, fillers: fillers, isBlob: false))
            }
            phrases.append(Phrase(family: family, weight: weight, slots: slots))
        }
        precondition(vocabulary.count < 256, "the injection vocabulary outgrew its word sets")
        var startingWith = [[Int]](repeating: [], count: vocabulary.count)
        for (index, phrase) in phrases.enumerated() {
            for id in 0..<vocabulary.count where phrase.slots[0].words.contains(id) {
                startingWith[id].append(index)
            }
        }
        var lengthsByFirstByte = [UInt32](repeating: 0, count: 256)
        for word in vocabulary.keys {
            let first = Int(word.utf8.first!)
            lengthsByFirstByte[first] |= 1 << UInt32(word.utf8.count)
            lengthsByFirstByte[first & ~0x20] |= 1 << UInt32(word.utf8.count)
        }
        self.lengthsByFirstByte = lengthsByFirstByte
        var hashes = [UInt64](repeating: 0, count: 1024)
        var ids = [UInt8](repeating: 0, count: 1024)
        for (word, id) in vocabulary {
            let hash = Self.hash(Array(word.utf8)[...])
            var slot = Int(truncatingIfNeeded: hash >> 24) & 1023
            while hashes[slot] != 0 { slot = (slot + 1) & 1023 }
            hashes[slot] = hash
            ids[slot] = UInt8(id)
        }
        self.phrases = phrases
        self.phrasesStartingWith = startingWith
        self.hashes = hashes
        self.ids = ids
        self.tags = [
            ("<|im_start|> system", 0.7), ("<|im_start|>", 0.45), ("<|system|>", 0.6), ("<|im_end|>", 0.3),
            ("<|endoftext|>", 0.4), ("<<sys>>", 0.6), ("[inst]", 0.45), ("[/inst]", 0.3),
            ("### system", 0.35), ("### instructions", 0.35), ("### instruction", 0.35),
        ].map { Tag(bytes: Array($0.0.utf8), weight: $0.1) }
    }

    /// The id of the lower-cased word in `range`, if it is in the vocabulary.
    @inline(__always)
    func wordID(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard range.count <= Self.longestWord,
            lengthsByFirstByte[Int(bytes[range.lowerBound])] & (1 << UInt32(range.count)) != 0
        else { return nil }
        let hash = Self.hash(bytes[range])
        var slot = Int(truncatingIfNeeded: hash >> 24) & 1023
        while hashes[slot] != 0 {
            if hashes[slot] == hash { return Int(ids[slot]) }
            slot = (slot + 1) & 1023
        }
        return nil
    }

    /// FNV-1a over ASCII-lower-cased bytes, never zero (zero marks an empty table slot).
    @inline(__always)
    private static func hash<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(ByteClass.lowercased(byte))) &* 0x100_0000_01b3 }
        return hash | 1
    }
}

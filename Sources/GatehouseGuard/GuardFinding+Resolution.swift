extension [GuardFinding] {
    /// The findings sorted by start (then longest first), with overlapping findings of one rule merged.
    ///
    /// A generic secret inside a specific credential's finding, and any finding inside a private key
    /// block, is dropped: the more specific finding already covers it.
    func resolved() -> [GuardFinding] {
        let sorted = byStart()
        let covering = sorted.filter { finding in
            if case .detector(let detector) = finding.rule { return detector.isSpecificSecret }
            return false
        }
        var resolved: [GuardFinding] = []
        // The latest finding of each rule, searched linearly: there are few rules, and hashing costs more.
        var latest: [(rule: GuardRule, index: Int)] = []
        for finding in sorted where !covering.contains(where: { $0.covers(finding) }) {
            let slot = latest.firstIndex { $0.rule == finding.rule }
            if let slot, resolved[latest[slot].index].range.overlaps(finding.range) {
                let index = latest[slot].index
                let merged = resolved[index]
                let upper = Swift.max(merged.range.upperBound, finding.range.upperBound)
                let score = merged.score.map { Swift.max($0, finding.score ?? $0) }
                resolved[index] = GuardFinding(rule: merged.rule, range: merged.range.lowerBound..<upper, score: score)
                continue
            }
            if let slot { latest[slot].index = resolved.count } else { latest.append((finding.rule, resolved.count)) }
            resolved.append(finding)
        }
        return resolved
    }

    /// The findings sorted by start, longer first where two start together.
    func byStart() -> [GuardFinding] {
        sorted { ($0.range.lowerBound, -$0.range.upperBound) < ($1.range.lowerBound, -$1.range.upperBound) }
    }
}

extension GuardFinding {
    /// Whether this credential finding makes `other` redundant: a generic secret inside it, or anything
    /// inside a private key block.
    fileprivate func covers(_ other: GuardFinding) -> Bool {
        guard other.rule != rule, range.lowerBound <= other.range.lowerBound,
            other.range.upperBound <= range.upperBound
        else { return false }
        return rule == .detector(.privateKey) || other.rule == .detector(.genericSecret)
    }
}

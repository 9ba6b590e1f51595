extension [GuardFinding] {
    /// The findings sorted by start (then longest first), with overlapping findings of one rule merged.
    ///
    /// A generic secret inside a specific credential's finding, and any finding inside a private key
    /// block, is dropped: the more specific finding already covers it.
    ///
    /// One sweep in start order: for each credential detector, the furthest end of its findings that
    /// start at or before the current one. A finding is covered when such an end reaches past it, so
    /// the work stays linear however many credential-shaped tokens a text holds.
    func resolved() -> [GuardFinding] {
        let sorted = byStart()
        let covering = sorted.filter { finding in
            if case .detector(let detector) = finding.rule { return detector.isSpecificSecret }
            return false
        }
        var reach: [(detector: GuardDetector, end: Int)] = []
        var nextCovering = 0
        var resolved: [GuardFinding] = []
        // The latest finding of each rule, searched linearly: there are few rules, and hashing costs more.
        var latest: [(rule: GuardRule, index: Int)] = []
        for finding in sorted {
            while nextCovering < covering.count && covering[nextCovering].range.lowerBound <= finding.range.lowerBound {
                let credential = covering[nextCovering]
                nextCovering += 1
                guard case .detector(let detector) = credential.rule else { continue }
                if let slot = reach.firstIndex(where: { $0.detector == detector }) {
                    reach[slot].end = Swift.max(reach[slot].end, credential.range.upperBound)
                } else {
                    reach.append((detector, credential.range.upperBound))
                }
            }
            if reach.contains(where: { finding.isCovered(by: $0.detector, reaching: $0.end) }) { continue }
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
    /// Whether a finding of the credential `detector` that starts no later than this one and ends at
    /// `end` makes this one redundant: a generic secret inside it, or anything inside a private key block.
    fileprivate func isCovered(by detector: GuardDetector, reaching end: Int) -> Bool {
        guard rule != .detector(detector), range.upperBound <= end else { return false }
        return detector == .privateKey || rule == .detector(.genericSecret)
    }
}

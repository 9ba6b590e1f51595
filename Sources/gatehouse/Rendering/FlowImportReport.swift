import GatehouseCore
import GatehouseFlows
import GatehousePolicy

/// What `flows import` did: lines read, flows imported, malformed lines, and what the policies say.
struct FlowImportReport: Encodable {
    struct Row: Encodable {
        let from: String
        let to: String
        let port: String
        let observed: String
        let evaluated: String
        let proposed: String?
        let because: String
    }

    struct Malformed: Encodable {
        let file: String
        let line: Int
        let reason: String
    }

    let lines: Int
    let flows: Int
    let skipped: Int
    /// The first malformed lines (all are counted in `malformedCount`).
    let malformed: [Malformed]
    let malformedCount: Int
    let evaluated: Int
    let unmapped: Int
    /// The first flows the policies decide otherwise than observed (all are counted).
    let disagreements: [Row]
    let disagreementCount: Int
    let changes: [Row]
    let changeCount: Int
    let stored: Int

    init(reader: FlowLogReader, importer: FlowImport) {
        lines = reader.lines
        flows = reader.flowCount
        skipped = reader.skipped
        malformed = reader.problems.map { Malformed(file: $0.file, line: $0.line, reason: $0.reason) }
        malformedCount = reader.problemCount
        evaluated = importer.evaluated
        unmapped = importer.unmapped
        func row(_ outcome: FlowEvaluation.Outcome, explaining explained: Decision?) -> Row {
            let observed = outcome.observed
            let decision = outcome.decision
            return Row(
                from: decision?.source ?? observed.source.peer.description,
                to: decision?.destination ?? observed.destination.peer.description,
                port: "\(observed.protocol)/\(observed.port.map(String.init) ?? "-")",
                observed: observed.action?.rawValue ?? "-",
                evaluated: decision.map { FlowAction($0.verdict).rawValue } ?? "-",
                proposed: outcome.proposed.map { FlowAction($0.verdict).rawValue },
                because: explained?.summary ?? ""
            )
        }
        disagreements = importer.disagreements.map { row($0, explaining: $0.decision) }
        disagreementCount = importer.disagreementCount
        changes = importer.changes.map { row($0, explaining: $0.proposed) }
        changeCount = importer.changeCount
        stored = importer.stored
    }

    func text(evaluated wasEvaluated: Bool, proposed: Bool, dryRun: Bool) -> String {
        var text = "read \(lines) lines: \(flows) flows, \(skipped) skipped (replies and other events), "
        text += "\(malformedCount) malformed\n"
        if wasEvaluated {
            text += "evaluated \(evaluated) flows against the loaded policy set"
            text += unmapped > 0 ? " (\(unmapped) could not be mapped onto the cluster state)\n" : "\n"
            text += Self.section(
                count: disagreementCount,
                rows: disagreements.map { [$0.from, $0.to, $0.port, $0.observed, $0.evaluated, $0.because] },
                title: "the policies disagree with what was observed for",
                none: "the policies give every observed verdict",
                header: ["FROM", "TO", "PORT", "OBSERVED", "POLICIES SAY", "BECAUSE"]
            )
        }
        if proposed {
            text += Self.section(
                count: changeCount,
                rows: changes.map { [$0.from, $0.to, $0.port, $0.evaluated, $0.proposed ?? "-", $0.because] },
                title: "the proposed policy set changes",
                none: "the proposed policy set changes no imported flow",
                header: ["FROM", "TO", "PORT", "NOW", "PROPOSED", "BECAUSE"]
            )
        }
        text += dryRun ? "dry run: nothing stored\n" : "stored \(stored) aggregated flows\n"
        return text
    }

    /// "TITLE N flows (the first M):" and a table of them, or `none`.
    private static func section(count: Int, rows: [[String]], title: String, none: String, header: [String]) -> String {
        guard !rows.isEmpty else { return none + "\n" }
        let shown = count > rows.count ? " (the first \(rows.count))" : ""
        return "\(title) \(count) flows\(shown):\n" + TableText.render(header: header, rows: rows)
    }
}

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
    let malformed: [Malformed]
    let evaluated: Int
    let unmapped: Int
    let disagreements: [Row]
    let changes: [Row]
    let stored: Int

    init(reader: FlowLogReader, evaluation: FlowEvaluation, engine: PolicyEngine?, stored: Int) {
        lines = reader.lines
        flows = reader.flows.count
        skipped = reader.skipped
        malformed = reader.problems.map { Malformed(file: $0.file, line: $0.line, reason: $0.reason) }
        evaluated = evaluation.outcomes.filter { $0.decision != nil }.count
        unmapped = engine == nil ? 0 : evaluation.outcomes.count - evaluated
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
        disagreements = evaluation.disagreements.map { row($0, explaining: $0.decision) }
        changes = evaluation.changes.map { row($0, explaining: $0.proposed) }
        self.stored = stored
    }

    func text(evaluated wasEvaluated: Bool, proposed: Bool, dryRun: Bool) -> String {
        var text = "read \(lines) lines: \(flows) flows, \(skipped) skipped (replies and other events), "
        text += "\(malformed.count) malformed\n"
        if wasEvaluated {
            text += "evaluated \(evaluated) flows against the loaded policy set"
            text += unmapped > 0 ? " (\(unmapped) could not be mapped onto the cluster state)\n" : "\n"
            if disagreements.isEmpty {
                text += "the policies give every observed verdict\n"
            } else {
                text += "the policies disagree with what was observed for \(disagreements.count) flows:\n"
                text += TableText.render(
                    header: ["FROM", "TO", "PORT", "OBSERVED", "POLICIES SAY", "BECAUSE"],
                    rows: disagreements.map { [$0.from, $0.to, $0.port, $0.observed, $0.evaluated, $0.because] }
                )
            }
        }
        if proposed {
            if changes.isEmpty {
                text += "the proposed policy set changes no imported flow\n"
            } else {
                text += "the proposed policy set changes \(changes.count) flows:\n"
                text += TableText.render(
                    header: ["FROM", "TO", "PORT", "NOW", "PROPOSED", "BECAUSE"],
                    rows: changes.map { [$0.from, $0.to, $0.port, $0.evaluated, $0.proposed ?? "-", $0.because] }
                )
            }
        }
        text += dryRun ? "dry run: nothing stored\n" : "stored \(stored) aggregated flows\n"
        return text
    }
}

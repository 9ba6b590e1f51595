import Foundation

/// Reads flow logs, one JSON object per line, Hubble's or Calico's (told apart line by line: Hubble's
/// have a `verdict`, Calico's an `action`). A line that cannot be read is reported with its number and
/// the rest are read; blank lines are skipped, and so are Hubble events that are not policy verdicts on
/// new connections. Flows are taken out as they come (`takeFlows`), so a stream of any length is read
/// in bounded memory; the first `problemLimit` problems are kept, all are counted.
public struct FlowLogReader: Sendable {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let reason: String
        public var description: String { "\(file):\(line): \(reason)" }
    }

    public static let problemLimit = 1_000

    /// Flows read and not yet taken.
    public private(set) var flows: [ObservedFlow] = []
    public private(set) var flowCount = 0
    public private(set) var problems: [Problem] = []
    public private(set) var problemCount = 0
    /// Lines read that were events of another kind (replies, traces, L7 events).
    public private(set) var skipped = 0
    public private(set) var lines = 0

    public init() {}

    /// Reads `text` (the contents of `file`, for messages).
    public mutating func read(_ text: String, file: String) {
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            read(line: line, number: number, file: file)
        }
    }

    /// Hands over the flows read so far.
    public mutating func takeFlows() -> [ObservedFlow] {
        defer { flows = [] }
        return flows
    }

    /// Reads line `number` of `file`.
    public mutating func read(line: Substring, number: Int, file: String) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return }
        lines += 1
        guard let data = trimmed.data(using: .utf8),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else {
            problem(Problem(file: file, line: number, reason: "not a JSON object"))
            return
        }
        do throws(FlowLogError) {
            let flow: ObservedFlow?
            if (object["flow"] as? [String: Any])?["verdict"] != nil || object["verdict"] != nil {
                flow = try HubbleFlowLog.parse(object)
            } else if object["action"] != nil || (object["flow"] as? [String: Any])?["action"] != nil {
                flow = try CalicoFlowLog.parse(object)
            } else {
                throw FlowLogError(reason: "neither a Hubble flow (verdict) nor a Calico flow (action)")
            }
            if let flow {
                flows.append(flow)
                flowCount += 1
            } else {
                skipped += 1
            }
        } catch {
            problem(Problem(file: file, line: number, reason: error.reason))
        }
    }

    private mutating func problem(_ problem: Problem) {
        problemCount += 1
        if problems.count < Self.problemLimit { problems.append(problem) }
    }
}

import Foundation

/// Reads flow logs, one JSON object per line, Hubble's or Calico's (told apart line by line: Hubble's
/// have a `verdict`, Calico's an `action`). A line that cannot be read is reported with its number and
/// the rest are read; blank lines are skipped, and so are Hubble events that are not policy verdicts on
/// new connections.
public struct FlowLogReader: Sendable {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let reason: String
        public var description: String { "\(file):\(line): \(reason)" }
    }

    public private(set) var flows: [ObservedFlow] = []
    public private(set) var problems: [Problem] = []
    /// Lines read that were events of another kind (replies, traces, L7 events).
    public private(set) var skipped = 0
    public private(set) var lines = 0

    public init() {}

    /// Reads `text` (the contents of `file`, for messages).
    public mutating func read(_ text: String, file: String) {
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            lines += 1
            guard let data = trimmed.data(using: .utf8),
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else {
                problems.append(Problem(file: file, line: number, reason: "not a JSON object"))
                continue
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
                if let flow { flows.append(flow) } else { skipped += 1 }
            } catch {
                problems.append(Problem(file: file, line: number, reason: error.reason))
            }
        }
    }
}

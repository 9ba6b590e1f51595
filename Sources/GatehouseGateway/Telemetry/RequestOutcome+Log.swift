import GatehouseCore
import GatehouseStore

/// The request's log line, from its outcome: one line per request, never a credential or a body.
extension RequestOutcome {
    var logLine: RequestLogLine {
        var line = RequestLogLine(requestID: audit.requestID)
        // A path that is no route is the caller's text: not written to the log (the audit record keeps it).
        line.add("gatehouse.route", DataPlane.Route(rawValue: audit.route) == nil ? "-" : audit.route)
        line.add("gatehouse.status", audit.status)
        line.add("gatehouse.identity", audit.identity)
        line.add("gatehouse.auth", audit.authentication)
        line.add("gatehouse.model", audit.model)
        // A policy's denial says which rule or tier; any other answer is the verdict alone.
        if let access, access.verdict == .deny {
            line.add("gatehouse.decision", "\(access.outcome)")
        } else {
            line.add("gatehouse.decision", audit.decision.rawValue)
        }
        line.add("gatehouse.trace", audit.trace)
        if attempts != nil {
            line.add("gatehouse.stream", stream ? "true" : "false")
            line.add("gatehouse.upstream", audit.upstream)
            line.add("gatehouse.attempts", attempts)
            line.add("gatehouse.bytes", bytesOut)
        }
        if let input = audit.tokensIn, let output = audit.tokensOut {
            line.add("gatehouse.tokens", "\(input)+\(output)\(audit.tokensEstimated == true ? "~" : "")")
        }
        line.add("gatehouse.cost", audit.cost?.dollars(decimals: 6))
        line.add("gatehouse.reason", audit.reason?.code)
        line.add("gatehouse.detail", detail)
        line.add("gatehouse.output_bound", overranBound)
        line.add("gatehouse.upstream_status", upstreamStatus)
        line.add("gatehouse.upstream_error", upstreamError)
        if let started { line.add("gatehouse.duration_ms", milliseconds: .now - started) }
        return line
    }
}

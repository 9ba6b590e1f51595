import GatehouseCore
import GatehouseFlows
import GatehouseStore

/// Where a finished request goes besides the audit trail: a flow record, the metrics, and its spans
/// when it is traced.
final class GatewayTelemetry: Sendable {
    let flows: FlowRecorder
    let metrics = GatewayMetrics()
    private let spans: SpanExporter
    private let state: GatewayState

    init(flows: FlowRecorder, spans: SpanExporter, state: GatewayState) {
        self.flows = flows
        self.spans = spans
        self.state = state
    }

    func observe(_ record: RequestOutcome) {
        let configuration = state.runtime.configuration
        metrics.observe(record, identityLabels: configuration.metricsIdentityLabels)
        metrics.observe(access: record.access, findings: record.audit.findings)
        if configuration.flows.enabled { flows.record(record.flow) }
        if let traced = record.spans, configuration.traces != nil { spans.enqueue(traced.spans(of: record)) }
    }
}

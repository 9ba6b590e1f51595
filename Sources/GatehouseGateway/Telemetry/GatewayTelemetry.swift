import GatehouseCore
import GatehouseFlows
import GatehouseStore

/// Where a finished request goes besides the audit trail: a flow record and the metrics.
final class GatewayTelemetry: Sendable {
    let flows: FlowRecorder
    let metrics = GatewayMetrics()
    private let state: GatewayState

    init(flows: FlowRecorder, state: GatewayState) {
        self.flows = flows
        self.state = state
    }

    func observe(_ record: RequestRecord) {
        let configuration = state.runtime.configuration
        metrics.observe(record, identityLabels: configuration.metricsIdentityLabels)
        metrics.observe(access: record.access, findings: record.audit.findings)
        if configuration.flows.enabled { flows.record(record.flow) }
    }
}

import GatehouseFlows
import ServiceLifecycle

/// Runs the flow recorder as a service: at shutdown (after the server has drained, as services stop
/// in reverse order) it writes every bucket still open, so no request's flow is lost.
struct FlowRecording: Service {
    let recorder: FlowRecorder

    func run() async throws {
        try? await gracefulShutdown()
        recorder.shutdown()
    }
}

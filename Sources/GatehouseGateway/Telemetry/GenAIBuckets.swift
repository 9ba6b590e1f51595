/// Histogram bucket boundaries the OpenTelemetry GenAI semantic conventions advise (semconv v1.41.1,
/// `model/gen-ai/metrics.yaml`).
enum GenAIBuckets {
    /// `gen_ai.client.token.usage`.
    static let tokens: [Double] = [
        1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864,
    ]
    /// `gen_ai.server.request.duration` (and the client operation durations), in seconds.
    static let requestDuration: [Double] = [
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ]
    /// `gen_ai.server.time_to_first_token`, in seconds.
    static let timeToFirstToken: [Double] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ]
    /// `gen_ai.server.time_per_output_token`, in seconds.
    static let timePerOutputToken: [Double] = [
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
    ]
}

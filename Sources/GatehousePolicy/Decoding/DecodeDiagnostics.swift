/// Collects what decoding noticed but did not refuse: unknown fields, unknown kinds.
final class DecodeDiagnostics {
    var warnings: [ResourceError] = []
}

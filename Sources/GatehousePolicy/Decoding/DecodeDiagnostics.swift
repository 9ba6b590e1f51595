/// Collects what decoding noticed but did not refuse: unknown fields, unknown kinds.
package final class DecodeDiagnostics {
    package var warnings: [ResourceError] = []

    package init() {}
}

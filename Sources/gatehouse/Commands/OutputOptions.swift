import ArgumentParser

/// `-o table|json|yaml`.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table
        case json
        case yaml
    }

    @Option(name: [.customShort("o"), .long], help: "Output format: table, json or yaml.")
    var output: Format = .table
}

import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseFlows
import GatehousePolicy
import GatehouseStore

/// `gatehouse flows import hubble.jsonl -f cluster/ [--against proposed/]`: flow logs from Hubble and
/// Calico become flow records, evaluated against the loaded policy set.
struct FlowsImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import flow logs from Hubble (hubble observe -o json) and Calico (Goldmane, Whisker).",
        discussion: """
            Each line is one JSON flow; Hubble's and Calico's may be mixed. With -f (cluster state and
            policies, as the policy commands read them), every flow is mapped onto the pods and evaluated:
            the import reports where the policies disagree with what was observed, and with --against,
            what a proposed policy set would change. Malformed lines are reported with their numbers and
            the rest is imported. Exit status: 0 ok, 1 when some lines were malformed, 2 on bad input.
            """
    )

    @Argument(help: "Flow log files, one JSON flow per line (- reads standard input).")
    var logs: [String]

    @Option(
        name: [.customShort("f"), .customLong("filename")],
        parsing: .upToNextOption,
        help: "Cluster state and policies to evaluate the flows against: files, folders or k8s://[CONTEXT]."
    )
    var files: [String] = []

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .customLong("against"), parsing: .upToNextOption, help: "A proposed policy set to compare with.")
    var against: [String] = []

    @Flag(help: "Read and evaluate, but store nothing.")
    var dryRun = false

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !logs.isEmpty else { throw ValidationError("give at least one flow log file (or - for standard input)") }
        if !against.isEmpty && files.isEmpty && !cluster.cluster {
            throw ValidationError("--against compares with the set given by -f or --cluster: give one of them too")
        }
    }

    func run() async throws {
        var engine: PolicyEngine?
        var proposed: PolicyEngine?
        let sources = files + cluster.sources
        if !sources.isEmpty {
            let bundle = try await InputOptions.load(sources, strict: false, cluster: cluster)
            engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
            if !against.isEmpty {
                let new = try await InputOptions.load(against, strict: false, cluster: cluster)
                proposed = PolicyEngine(cluster: bundle.cluster.merging(new.cluster), policySet: new.policySet)
            }
        }
        var reader = FlowLogReader()
        do {
            let importer = FlowImport(
                engine: engine,
                proposed: proposed,
                store: dryRun ? nil : try data.open()
            )
            for path in logs {
                guard let lines = FlowLogLines(path: path) else {
                    Console.error("\(path): cannot be read")
                    throw ExitCode(2)
                }
                let name = path == "-" ? "stdin" : path
                // Evaluated and stored in batches, so memory stays bounded whatever the length.
                try lines.readEach { line, number in
                    reader.read(line: line, number: number, file: name)
                    if reader.flows.count >= 10_000 { try importer.process(reader.takeFlows()) }
                }
            }
            try importer.process(reader.takeFlows())
            try importer.finish()
            let report = FlowImportReport(reader: reader, importer: importer)
            switch output.output {
            case .table:
                print(report.text(evaluated: engine != nil, proposed: proposed != nil, dryRun: dryRun), terminator: "")
            case .json, .yaml:
                print(try StructuredOutput.render(report, as: output.output))
            }
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(1)
        }
        for problem in reader.problems.prefix(20) { Console.warning(problem.description) }
        if reader.problemCount > 20 { Console.warning("… and \(reader.problemCount - 20) more malformed lines") }
        if reader.problemCount > 0 { throw ExitCode(1) }
    }
}

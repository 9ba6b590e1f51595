import ArgumentParser
import GatehouseCore
import GatehousePolicy

/// `gatehouse policy lint`: findings a zero-trust reviewer wants, with stable codes.
struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Review policies against the cluster state: gaps, dead rules, risky allows.",
        discussion: "Exit status: 0 when there is no warning or error finding, 1 when there is, 2 on bad input."
    )

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let bundle = try await input.load()
        let findings = PolicyLinter(bundle: bundle).findings()
        switch output.output {
        case .table:
            for finding in findings {
                let field = finding.field.map { " \($0)" } ?? ""
                let place = finding.location.map { " (\($0))" } ?? ""
                print(
                    "\(finding.severity.rawValue.uppercased()) \(finding.code): \(finding.object)\(field): \(finding.message)\(place)"
                )
            }
            print("\(findings.count) finding(s)")
        case .json, .yaml:
            print(try StructuredOutput.render(findings, as: output.output), terminator: "")
        }
        if findings.contains(where: { $0.severity >= .warning }) { throw ExitCode(1) }
    }
}

import ArgumentParser
import Foundation
import GatehouseCore
import GatehousePolicy

/// `gatehouse policy conformance FILE.json`: runs a conformance corpus.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run a conformance corpus and print every failing probe.",
        discussion: "Closes with 'N passed, M failed' (probes); exit 0 only when none failed, 2 on a bad corpus."
    )

    @Argument(help: "Corpus files in the format of the conformance README.")
    var files: [String]

    @Flag(name: .shortAndLong, help: "Print passing probes too.")
    var verbose = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one corpus file") }
    }

    func run() throws {
        var results: [ConformanceRunner.ProbeResult] = []
        for file in files {
            do throws(ResourceError) {
                let text = try ResourceLoader.read(file)
                results += ConformanceRunner.run(try ConformanceCorpus(text: text, file: file))
            } catch {
                Console.error(error.description)
                throw ExitCode(2)
            }
        }
        let failed = results.filter { !$0.passed }.count
        switch output.output {
        case .table:
            for result in results where verbose || !result.passed { print(describe(result)) }
            print("\(results.count - failed) passed, \(failed) failed")
        case .json, .yaml:
            let report = Report(
                passed: results.count - failed,
                failed: failed,
                probes: results.filter { verbose || !$0.passed }.map(Report.Probe.init)
            )
            print(try StructuredOutput.render(report, as: output.output), terminator: "")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    private func describe(_ result: ConformanceRunner.ProbeResult) -> String {
        let probe = result.probe
        var text =
            "\(result.passed ? "PASS" : "FAIL") \(result.caseName): \(probe.from) -> \(probe.to) "
            + "\(probe.protocol)/\(probe.port) (\(probe.location.fileAndLine))"
        guard !result.passed else { return text }
        text += "\n  source: \(result.source)"
        switch result.decision {
        case .success(let decision):
            text += "\n  expected \(probe.expected), got \(decision.verdict)"
            for line in DecisionText.render(decision).split(separator: "\n", omittingEmptySubsequences: false) {
                text += "\n    \(line)"
            }
        case .failure(let errors):
            text += "\n  expected \(probe.expected), but the case cannot be evaluated:"
            for error in errors.errors { text += "\n    \(error)" }
        }
        return text
    }

    /// The machine-readable result: counts, and the failing probes (all with --verbose) with their decisions.
    struct Report: Encodable {
        struct Probe: Encodable {
            let caseName: String
            let source: String
            let from: String
            let to: String
            let `protocol`: String
            let port: UInt16
            let expected: Verdict
            let passed: Bool
            let decision: Decision?
            let errors: [String]?

            init(_ result: ConformanceRunner.ProbeResult) {
                caseName = result.caseName
                source = result.source
                from = result.probe.from
                to = result.probe.to
                self.protocol = result.probe.protocol.description
                port = result.probe.port
                expected = result.probe.expected
                passed = result.passed
                switch result.decision {
                case .success(let decision):
                    self.decision = result.passed ? nil : decision
                    errors = nil
                case .failure(let failure):
                    decision = nil
                    errors = failure.errors.map(\.description)
                }
            }
        }

        let passed: Int
        let failed: Int
        let probes: [Probe]
    }
}

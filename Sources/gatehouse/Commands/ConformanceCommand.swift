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

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one corpus file") }
    }

    func run() throws {
        var passed = 0
        var failed = 0
        for file in files {
            let corpus: ConformanceCorpus
            do {
                guard let data = FileManager.default.contents(atPath: file),
                    let text = String(data: data, encoding: .utf8)
                else { throw ResourceError(.unreadable, "cannot read the file", field: file) }
                corpus = try ConformanceCorpus(text: text, file: file)
            } catch let error as ResourceError {
                Console.error(error.description)
                throw ExitCode(2)
            }
            for result in ConformanceRunner.run(corpus) {
                if result.passed {
                    passed += 1
                    if verbose { print("PASS \(describe(result))") }
                    continue
                }
                failed += 1
                print("FAIL \(describe(result))")
                print("  source: \(result.source)")
                switch result.decision {
                case .success(let decision):
                    print("  expected \(result.probe.expected), got \(decision.verdict)")
                    for line in DecisionText.render(decision).split(separator: "\n", omittingEmptySubsequences: false) {
                        print("    \(line)")
                    }
                case .failure(let errors):
                    print("  expected \(result.probe.expected), but the case cannot be evaluated:")
                    for error in errors.errors { print("    \(error)") }
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    private func describe(_ result: ConformanceRunner.ProbeResult) -> String {
        let probe = result.probe
        return "\(result.caseName): \(probe.from) -> \(probe.to) \(probe.protocol)/\(probe.port) "
            + "(\(probe.location.file):\(probe.location.line))"
    }
}

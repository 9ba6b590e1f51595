import ArgumentParser
import GatehousePolicy

/// `-f PATH...` and `--strict`, shared by the policy commands.
struct InputOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        parsing: .upToNextOption,
        help: "A file or folder of YAML/JSON (policies and cluster state); repeatable; - reads standard input."
    )
    var files: [String] = []

    @Flag(help: "Treat unknown kinds and unknown fields as errors.")
    var strict = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file or folder with -f") }
    }

    /// Loads the files, printing warnings; on errors prints them all and exits 2 (no partial policy set).
    func load() throws -> ResourceBundle {
        try InputOptions.load(files, strict: strict)
    }

    static func load(_ files: [String], strict: Bool) throws -> ResourceBundle {
        do {
            let bundle = try ResourceLoader(strict: strict).load(paths: files)
            for warning in bundle.warnings { Console.warning(warning.description) }
            return bundle
        } catch {
            for problem in error.errors { Console.error(problem.description) }
            throw ExitCode(2)
        }
    }
}

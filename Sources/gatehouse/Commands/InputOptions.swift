import ArgumentParser
import GatehouseCluster
import GatehousePolicy

/// `-f PATH...`, `--cluster` and `--strict`, shared by the policy commands.
struct InputOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        parsing: .upToNextOption,
        help: """
            A file or folder of YAML/JSON (policies and cluster state), or k8s://[CONTEXT] for a live cluster; \
            repeatable; - reads standard input.
            """
    )
    var files: [String] = []

    @Flag(help: "Treat unknown kinds and unknown fields as errors.")
    var strict = false

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        guard !files.isEmpty || cluster.cluster else {
            throw ValidationError("give at least one file or folder with -f, or --cluster")
        }
    }

    /// Loads the files and the cluster, printing warnings; on errors prints them all and exits 2 (no
    /// partial policy set).
    func load() async throws -> ResourceBundle {
        try await InputOptions.load(files + cluster.sources, strict: strict, cluster: cluster)
    }

    /// Loads files, folders and `k8s://` sources together, so a policy file may refer to the cluster's
    /// tiers and a duplicate between the two is found.
    static func load(_ sources: [String], strict: Bool, cluster: ClusterOptions) async throws -> ResourceBundle {
        var paths: [String] = []
        var texts: [(text: String, file: String)] = []
        for source in sources {
            if source.hasPrefix(ClusterOptions.scheme) {
                texts += try await cluster.read(source).pages.map { ($0.text, $0.location) }
            } else {
                paths.append(source)
            }
        }
        do {
            let bundle = try ResourceLoader(strict: strict).load(paths: paths, texts: texts)
            for warning in bundle.warnings { Console.warning(warning.description) }
            return bundle
        } catch {
            for problem in error.errors { Console.error(problem.description) }
            throw ExitCode(2)
        }
    }
}

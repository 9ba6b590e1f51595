import ArgumentParser
import Foundation
import GatehouseGateway
import GatehouseStore

/// `gatehouse keys create --name N --label k=v ... [--expires 30d] -o json`: prints the key once.
struct KeysCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key and print it once (only its hash is kept)."
    )

    @Option(help: "The key's name: 1-63 letters, digits, '-', '_' or '.'.")
    var name: String

    @Option(name: .customLong("label"), help: "A label k=v for access policies (repeatable).")
    var labels: [String] = []

    @Option(help: "When the key stops working: a duration (90m, 12h, 30d) or an RFC 3339 time.")
    var expires: String?

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        for label in labels where !label.contains("=") {
            throw ValidationError("--label \(label): expected key=value")
        }
        if let expires, ExpiryParser.date(expires, now: Date()) == nil {
            throw ValidationError("--expires \(expires): expected a duration (90m, 12h, 30d) or an RFC 3339 time")
        }
    }

    func run() throws {
        var labelMap: [String: String] = [:]
        for label in labels {
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            labelMap[String(parts[0])] = String(parts[1])
        }
        let expiresAt = expires.flatMap { ExpiryParser.date($0, now: Date()) }
        do {
            let store = try Store(directory: data.url)
            let created = try store.createKey(kind: .api, name: name, labels: labelMap, expiresAt: expiresAt)
            switch output.output {
            case .table:
                print(created.secret.text)
                Console.warning(
                    "key \(created.key.name) (id \(created.key.id)) created; it is shown once and not stored"
                )
            case .json, .yaml:
                let json = KeyJSON.render(created.key, secret: created.secret.text)
                print(output.output == .json ? json : try KeyListing.yaml(fromJSON: json))
            }
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(error.code == .unavailable ? 1 : 2)
        }
    }
}

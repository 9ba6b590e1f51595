import ArgumentParser
import Foundation
import GatehouseGateway
import GatehouseStore

/// `gatehouse keys revoke NAME|ID`.
struct KeysRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an API key.")

    @Argument(help: "The key's name or id.")
    var key: String

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let store = try data.open()
            let revoked = try store.revokeKey(kind: .api, key)
            switch output.output {
            case .table: print("key \(revoked.name) (id \(revoked.id)) revoked")
            case .json, .yaml: print(try KeyListing.render([revoked], format: output.output, single: true))
            }
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(error.code == .notFound ? 1 : 2)
        }
    }
}

import ArgumentParser
import Foundation
import GatehouseGateway
import GatehouseStore

/// `gatehouse keys list`: names, ids, labels and states; never secrets.
struct KeysListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List API keys.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let store = try data.open()
            print(try KeyListing.render(try store.keys(kind: .api), format: output.output))
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(1)
        }
    }
}

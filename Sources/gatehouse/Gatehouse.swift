import ArgumentParser
import Foundation
import GatehouseGateway
import NIOCore
import NIOPosix

/// The `gatehouse` command: kubectl-style nouns and verbs over the Gatehouse libraries.
///
/// Exit codes: 0 ok, 1 findings or failures, 2 bad input or usage.
@main
struct Gatehouse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "A zero-trust layer for AI workloads on Kubernetes.",
        version: Gateway.version,
        subcommands: [
            ServeCommand.self, KeysCommand.self, UsageCommand.self, BudgetsCommand.self, AuditCommand.self,
            FlowsCommand.self, PolicyCommand.self, BlueprintCommand.self, StoreCommand.self, FixtureModelCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if command is ServeCommand || command is FixtureModelCommand {
                // Servers run their tasks on NIO's event loops: no hop between Swift's global pool and
                // the loop that owns a connection.
                NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            }
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // Usage errors exit 2, as kubectl and the rest of this command do, not sysexits' 64.
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

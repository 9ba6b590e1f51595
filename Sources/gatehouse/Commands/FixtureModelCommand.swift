import ArgumentParser
import GatehouseFixtureModel
import GatehouseGateway
import Logging
import ServiceLifecycle
import UnixSignals

/// `gatehouse fixture-model`: the fixture model server alone, for load tests and demos. Not a model.
struct FixtureModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixture-model",
        abstract: "Run the built-in fixture model server (for tests and load tests; it is not a model)."
    )

    @Option(help: "host:port to listen on.")
    var listen: String = "127.0.0.1:9000"

    @Option(name: .customLong("event-interval-ms"), help: "Milliseconds between streamed events.")
    var eventIntervalMilliseconds: Int = 0

    func validate() throws {
        guard ListenAddress(parsing: listen) != nil else { throw ValidationError("--listen: expected host:port") }
        guard eventIntervalMilliseconds >= 0 else { throw ValidationError("--event-interval-ms must not be negative") }
    }

    func run() async throws {
        let address = ListenAddress(parsing: listen)!
        let fixture = try await FixtureModel.start(
            host: address.host,
            port: address.port,
            configuration: FixtureModel.Configuration(eventInterval: .milliseconds(eventIntervalMilliseconds))
        )
        Console.line(
            "fixture model (not a real model) at \(fixture.baseURL), serving \(FixtureModel.Configuration().models.joined(separator: ", "))"
        )
        let group = ServiceGroup(
            services: [fixture],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "gatehouse.fixture")
        )
        try await group.run()
    }
}

import GatehouseStore
import Logging
import ServiceLifecycle

/// Polls the store's generation counter so that keys created or revoked by another process (or the
/// admin API) take effect within `interval`, without a restart.
public struct KeyDirectoryRefresher: Service {
    let directory: KeyDirectory
    let store: Store
    let interval: Duration
    let logger: Logger

    public init(directory: KeyDirectory, store: Store, interval: Duration = .milliseconds(250), logger: Logger) {
        self.directory = directory
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if try directory.reload(from: store) { logger.info("keys reloaded") }
            } catch {
                // Keep the last good keys: a locked or briefly unreadable database must not lock callers out.
                logger.warning("keys not reloaded", metadata: ["gatehouse.error": "\(error.reason)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}

import Foundation
import GatehousePolicy
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads `gatehouse.yaml` on SIGHUP and when the file changes. The new file is validated whole
/// first; an invalid one is refused with its errors logged and the last good configuration stays in
/// force. Listen addresses and TLS files are read at start only.
struct ConfigurationReloader: ServiceLifecycle.Service {
    let file: String
    let state: GatewayState
    let overrides: @Sendable (inout GatewayConfiguration) -> Void
    let logger: Logger

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                    reload(reason: "SIGHUP")
                }
            }
            group.addTask {
                var seen = modified()
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: .seconds(1))
                    let now = modified()
                    if now != seen {
                        seen = now
                        reload(reason: "file changed")
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Loads, validates and applies the file; returns whether it was applied.
    @discardableResult
    func reload(reason: String) -> Bool {
        do {
            var configuration = try GatewayConfiguration.load(file: file)
            overrides(&configuration)
            let current = state.runtime.configuration
            if configuration.listen != current.listen || configuration.adminListen != current.adminListen
                || configuration.tls != current.tls
            {
                logger.warning("listen addresses and TLS settings change only on restart")
            }
            do {
                try state.apply(configuration)
            } catch {
                logger.error(
                    "configuration refused; the last good one stays in force",
                    metadata: ["gatehouse.error": "\(error)"]
                )
                return false
            }
            logger.info(
                "configuration reloaded",
                metadata: ["gatehouse.reason": "\(reason)", "gatehouse.file": "\(file)"]
            )
            return true
        } catch {
            for problem in error.errors {
                logger.error(
                    "configuration refused; the last good one stays in force",
                    metadata: ["gatehouse.error": "\(problem)"]
                )
            }
            return false
        }
    }

    /// Which file the path leads to, through symbolic links, and when it was written. A ConfigMap volume
    /// updates by pointing its `..data` link at a new directory, leaving the link named by `--config` (and
    /// that link's own time) as it was.
    private func modified() -> FileVersion? {
        let resolved = URL(filePath: file).resolvingSymlinksInPath().path
        guard let date = (try? FileManager.default.attributesOfItem(atPath: resolved))?[.modificationDate] as? Date
        else { return nil }
        return FileVersion(path: resolved, modified: date)
    }

    private struct FileVersion: Equatable {
        let path: String
        let modified: Date
    }
}

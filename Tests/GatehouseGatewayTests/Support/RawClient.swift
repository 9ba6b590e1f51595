import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Sends exact bytes over TCP and returns what came back until the server closed or `timeout`
/// passed: for inputs no well-behaved HTTP client would send.
enum RawClient {
    struct Exchange {
        let response: String
        /// Whether the server closed the connection.
        let closed: Bool
        let elapsed: Duration
    }

    static func exchange(
        port: Int,
        _ chunks: [String],
        pause: Duration = .zero,
        timeout: Duration = .seconds(3)
    ) async throws -> Exchange {
        let started = ContinuousClock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Exchange?.self) { group in
                group.addTask {
                    for chunk in chunks {
                        try? await outbound.write(ByteBuffer(string: chunk))
                        if pause > .zero { try await Task.sleep(for: pause) }
                    }
                    try await Task.sleep(for: .seconds(3600))
                    return nil
                }
                let received = Received()
                group.addTask {
                    do {
                        for try await buffer in inbound { received.text.withLock { $0 += String(buffer: buffer) } }
                    } catch {}
                    return Exchange(response: received.value, closed: true, elapsed: ContinuousClock.now - started)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return Exchange(response: received.value, closed: false, elapsed: timeout)
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let result { return result }
                }
                return Exchange(response: "", closed: false, elapsed: timeout)
            }
        }
    }

    private final class Received: Sendable {
        let text = Mutex("")
        var value: String { text.withLock { $0 } }
    }
}

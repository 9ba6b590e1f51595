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
        let channel = try await connect(port: port)
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

    /// One connection for a conversation: `body` gets a function that sends a request's bytes and returns
    /// the status code of the next whole response (head and `content-length` body) read back.
    static func session(port: Int, _ body: (_ send: (String) async throws -> Int) async throws -> Void) async throws {
        let channel = try await connect(port: port)
        try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            var pending: [UInt8] = []
            func send(_ request: String) async throws -> Int {
                try await outbound.write(ByteBuffer(string: request))
                while true {
                    if let status = takeResponse(from: &pending) { return status }
                    guard let buffer = try await responses.next() else { throw ChannelError.eof }
                    pending += buffer.readableBytesView
                }
            }
            try await body(send)
        }
    }

    /// A loopback connection read and written as byte buffers.
    private static func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// The status of the first whole response in `bytes`, which it removes; nil while incomplete.
    private static func takeResponse(from bytes: inout [UInt8]) -> Int? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        let length =
            head.components(separatedBy: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let total = end + separator.count + length
        guard bytes.count >= total, let status = Int(head.dropFirst("http/1.1 ".count).prefix(3)) else { return nil }
        bytes.removeFirst(total)
        return status
    }

    private final class Received: Sendable {
        let text = Mutex("")
        var value: String { text.withLock { $0 } }
    }
}

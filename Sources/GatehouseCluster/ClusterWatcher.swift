import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// Lists, then watches, every resource it is given, each in its own task following `ResourceWatch`,
/// and reports what it sees as `ClusterUpdate`s.
///
/// A resource whose first list fails ends the watch with that error (bad credentials or RBAC are for
/// the user to fix, not to retry); later failures are retried with backoff and reported.
public struct ClusterWatcher: Sendable {
    public let client: KubernetesClient
    public let resources: [APIResource]
    /// Objects per page of a list; 0 lists whole.
    public var pageSize = 500
    /// How long the server keeps one watch request open (`timeoutSeconds`) before it is opened again.
    public var watchTimeout = 300
    /// The longest event line accepted: an object is at most 1.5 MiB in etcd, and the watch's frame
    /// adds little.
    public var maximumEventBytes = 16 << 20

    public init(client: KubernetesClient, resources: [APIResource]) {
        self.client = client
        self.resources = resources
    }

    /// Runs until the task is cancelled, calling `report` with each update (from one task at a time
    /// per resource; several resources report concurrently).
    public func run(report: @escaping @Sendable (ClusterUpdate) async -> Void) async throws(ClusterError) {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for resource in resources {
                    group.addTask { try await watch(resource, report: report) }
                }
                // The first failure ends the watch at once (`waitForAll` would wait for every watch to end).
                while try await group.next() != nil {}
            }
        } catch let error as ClusterError {
            throw error
        } catch is CancellationError {
            return
        } catch {
            throw ClusterError(.server, "watching the cluster failed: \(error)")
        }
    }

    private func watch(
        _ resource: APIResource,
        report: @escaping @Sendable (ClusterUpdate) async -> Void
    ) async throws(ClusterError) {
        let clock = ContinuousClock()
        var machine = ResourceWatch<ContinuousClock.Instant>()
        var action = machine.start
        var listedOnce = false
        while !Task.isCancelled {
            let event: ResourceWatch<ContinuousClock.Instant>.Event
            do throws(ClusterError) {
                switch action {
                case .list:
                    let (objects, version) = try await list(resource)
                    listedOnce = true
                    await report(.listed(resource, objects))
                    event = .listed(resourceVersion: version)
                case .watch(let version):
                    event = try await stream(resource, from: version, machine: &machine, report: report)
                case .wait(let until):
                    do {
                        try await clock.sleep(until: until)
                    } catch {
                        return
                    }
                    event = .timerFired
                }
            } catch {
                // A first list that fails, or a watch RBAC forbids, is for the user to fix: retrying would
                // only hide it. A 401 is retried: a token file may be rotated meanwhile.
                guard listedOnce, error.code != .forbidden else { throw error }
                if error.code == .gone {
                    await report(.expired(resource, error))
                    event = .expired
                } else {
                    event = .failed
                    await report(.retrying(resource, error, retryIn: machine.backoffAfterOneMoreFailure))
                }
            }
            if let next = machine.handle(event, now: clock.now) { action = next }
        }
    }

    /// Every object, from all the pages of one list, and the list's resourceVersion.
    private func list(_ resource: APIResource) async throws(ClusterError) -> ([WatchedObject], String) {
        let (pages, version) = try await ClusterReader.list(resource, client: client, pageSize: pageSize)
        var objects: [WatchedObject] = []
        for page in pages {
            guard let list = try? JSONSerialization.jsonObject(with: Data(page.text.utf8)) as? [String: Any],
                let items = list["items"] as? [[String: Any]]
            else {
                throw ClusterError(.server, "list \(resource): the answer is not a JSON list")
            }
            for var item in items {
                item["kind"] = resource.kind
                item["apiVersion"] = resource.apiVersion
                if let object = ClusterWatcher.object(item) { objects.append(object) }
            }
        }
        return (objects, version)
    }

    /// One watch request, reading events until the server ends it; returns what ended it.
    private func stream(
        _ resource: APIResource,
        from version: String,
        machine: inout ResourceWatch<ContinuousClock.Instant>,
        report: @escaping @Sendable (ClusterUpdate) async -> Void
    ) async throws(ClusterError) -> ResourceWatch<ContinuousClock.Instant>.Event {
        let action = "watch \(resource)"
        let response = try await client.send(
            resource.path,
            query: [
                ("watch", "1"), ("resourceVersion", version), ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", String(watchTimeout)),
            ],
            action: action,
            timeout: .seconds(Int64(watchTimeout) + 30)
        )
        var pending = ByteBuffer()
        let opened = ContinuousClock.now
        var events = 0
        do {
            for try await chunk in response.body {
                pending.writeImmutableBuffer(chunk)
                while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let length = newline - pending.readerIndex
                    let line = pending.readSlice(length: length + 1)!
                    events += 1
                    if let ended = try await handle(line, resource: resource, machine: &machine, report: report) {
                        return ended
                    }
                }
                guard pending.readableBytes <= maximumEventBytes else {
                    throw ClusterError(.server, "\(action): an event is larger than \(maximumEventBytes >> 20) MiB")
                }
                pending.discardReadBytes()
            }
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError(.unreachable, "\(action): the connection to \(client.connection.server) broke: \(error)")
        }
        // As client-go: a watch that ends within a second with no event is a failure (a proxy closing
        // it at once, say), retried after a backoff rather than at once, again and again.
        if events == 0 && opened.duration(to: .now) < .seconds(1) {
            throw ClusterError(.server, "\(action): the server ended the watch at once")
        }
        return .watchEnded
    }

    /// One event line: reported and recorded; a non-nil result ends the watch (an `ERROR` event).
    private func handle(
        _ line: ByteBuffer,
        resource: APIResource,
        machine: inout ResourceWatch<ContinuousClock.Instant>,
        report: @escaping @Sendable (ClusterUpdate) async -> Void
    ) async throws(ClusterError) -> ResourceWatch<ContinuousClock.Instant>.Event? {
        guard let event = try? JSONSerialization.jsonObject(with: Data(buffer: line)) as? [String: Any],
            let type = event["type"] as? String, var object = event["object"] as? [String: Any]
        else {
            throw ClusterError(.server, "watch \(resource): an event is not JSON")
        }
        if type == "ERROR" {
            let code = object["code"] as? Int
            let message = (object["message"] as? String).map { ": \($0.prefix(512))" } ?? ""
            if code == 410 { throw ClusterError(.gone, "watch \(resource): gone (410)\(message)") }
            throw ClusterError(
                .server,
                "watch \(resource): the server sent an error \(code.map(String.init) ?? "")\(message)"
            )
        }
        let metadata = object["metadata"] as? [String: Any]
        let version = metadata?["resourceVersion"] as? String ?? ""
        if type == "BOOKMARK" {
            _ = machine.handle(.progressed(resourceVersion: version), now: .now)
            return nil
        }
        guard let change = ClusterUpdate.Change(rawValue: type) else {
            throw ClusterError(.server, "watch \(resource): an event of unknown type \(type.prefix(40))")
        }
        object["kind"] = object["kind"] ?? resource.kind
        object["apiVersion"] = object["apiVersion"] ?? resource.apiVersion
        if let watched = ClusterWatcher.object(object) { await report(.changed(resource, change, watched)) }
        _ = machine.handle(.progressed(resourceVersion: version), now: .now)
        return nil
    }

    private static func object(_ item: [String: Any]) -> WatchedObject? {
        guard let metadata = item["metadata"] as? [String: Any], let name = metadata["name"] as? String,
            let data = try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys])
        else { return nil }
        return WatchedObject(
            namespace: metadata["namespace"] as? String,
            name: name,
            resourceVersion: metadata["resourceVersion"] as? String ?? "",
            json: String(decoding: data, as: UTF8.self)
        )
    }
}

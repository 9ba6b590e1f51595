import Foundation
import NIOCore
import NIOFoundationCompat

/// Reads a cluster as the policy engine needs it: finds which group versions serve each kind of the
/// catalogue, then lists every one, page by page, as client-go's pager does.
public struct ClusterReader: Sendable {
    public let client: KubernetesClient
    public let catalog: ResourceCatalog
    /// Objects per page (`limit`), as client-go's default pager; 0 asks for each list whole.
    public var pageSize = 500

    public init(client: KubernetesClient, catalog: ResourceCatalog = .policyEngine) {
        self.client = client
        self.catalog = catalog
    }

    /// The resources to read, and a note for each kind the cluster does not serve.
    public func discover() async throws(ClusterError) -> (resources: [APIResource], notes: [String]) {
        struct GroupList: Decodable {
            struct Group: Decodable {
                struct Version: Decodable { let version: String }
                let name: String
                let versions: [Version]
            }
            let groups: [Group]
        }
        let groups: GroupList = try await decode("/apis", action: "discover API groups (GET /apis)")
        var served = Set([GroupVersion(group: "", version: "v1")])
        for group in groups.groups {
            for version in group.versions { served.insert(GroupVersion(group: group.name, version: version.version)) }
        }
        var plurals: [GroupVersion: Set<String>] = [:]
        var resources: [APIResource] = []
        // Kinds left out, by the group versions that would have served them: one note for each.
        var missing: [(offered: String, kinds: [String])] = []
        for entry in catalog.entries {
            var found: APIResource?
            for candidate in entry.versions {
                let groupVersion = GroupVersion(group: candidate.group, version: candidate.version)
                guard served.contains(groupVersion) else { continue }
                if plurals[groupVersion] == nil { plurals[groupVersion] = try await self.plurals(groupVersion) }
                if plurals[groupVersion]?.contains(entry.plural) == true {
                    found = APIResource(
                        group: candidate.group,
                        version: candidate.version,
                        plural: entry.plural,
                        kind: entry.kind,
                        namespaced: entry.namespaced
                    )
                    break
                }
            }
            if let found {
                resources.append(found)
            } else {
                let offered = entry.versions.map { $0.group.isEmpty ? $0.version : "\($0.group)/\($0.version)" }
                    .joined(separator: " or ")
                if let index = missing.firstIndex(where: { $0.offered == offered }) {
                    missing[index].kinds.append(entry.kind)
                } else {
                    missing.append((offered, [entry.kind]))
                }
            }
        }
        let notes = missing.map {
            "\($0.offered) is not served by this cluster: \($0.kinds.joined(separator: ", ")) skipped"
        }
        return (resources, notes)
    }

    /// Discovers, then lists every resource; pages in the catalogue's order.
    public func read() async throws(ClusterError) -> ClusterSnapshot {
        let (resources, notes) = try await discover()
        var snapshot = ClusterSnapshot()
        snapshot.notes = notes
        let client = self.client
        let pageSize = self.pageSize
        let lists: [(APIResource, [ClusterSnapshot.Page], String)]
        do {
            lists = try await withThrowingTaskGroup(of: (Int, APIResource, [ClusterSnapshot.Page], String).self) {
                group in
                for (index, resource) in resources.enumerated() {
                    group.addTask {
                        let (pages, version) = try await ClusterReader.list(
                            resource,
                            client: client,
                            pageSize: pageSize
                        )
                        return (index, resource, pages, version)
                    }
                }
                var results: [(Int, APIResource, [ClusterSnapshot.Page], String)] = []
                for try await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2, $0.3) }
            }
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError(.server, "listing the cluster failed: \(error)")
        }
        for (resource, pages, version) in lists {
            snapshot.pages += pages
            snapshot.resourceVersions[resource] = version
        }
        return snapshot
    }

    /// Every page of one list. A `continue` token that has expired (410) starts the list again, as
    /// client-go's pager falls back to a full list; twice more at most.
    static func list(
        _ resource: APIResource,
        client: KubernetesClient,
        pageSize: Int
    ) async throws(ClusterError) -> ([ClusterSnapshot.Page], String) {
        struct ListMetadata: Decodable {
            struct Metadata: Decodable {
                let resourceVersion: String?
                let `continue`: String?
            }
            let metadata: Metadata?
        }
        let action = "list \(resource)"
        var attempts = 0
        while true {
            var pages: [ClusterSnapshot.Page] = []
            var token: String?
            var version = ""
            do throws(ClusterError) {
                repeat {
                    var query = pageSize > 0 ? [("limit", String(pageSize))] : []
                    if let token { query.append(("continue", token)) }
                    let body = try await client.get(resource.path, query: query, action: action)
                    guard let list = try? JSONDecoder().decode(ListMetadata.self, from: Data(buffer: body)) else {
                        throw ClusterError(.server, "\(action): the answer is not a JSON list")
                    }
                    if version.isEmpty { version = list.metadata?.resourceVersion ?? "" }
                    pages.append(
                        ClusterSnapshot.Page(
                            resource: resource,
                            text: String(buffer: body),
                            location: "k8s://\(client.connection.name)\(resource.path)"
                                + (pages.isEmpty ? "" : "?page=\(pages.count + 1)")
                        )
                    )
                    token = list.metadata?.continue.flatMap { $0.isEmpty ? nil : $0 }
                } while token != nil
                return (pages, version)
            } catch  where error.code == .gone && token != nil && attempts < 2 {
                attempts += 1
            }
        }
    }

    private func plurals(_ groupVersion: GroupVersion) async throws(ClusterError) -> Set<String> {
        struct ResourceList: Decodable {
            struct Resource: Decodable { let name: String }
            let resources: [Resource]
        }
        let path = groupVersion.group.isEmpty ? "/api/v1" : "/apis/\(groupVersion.group)/\(groupVersion.version)"
        do throws(ClusterError) {
            let list: ResourceList = try await decode(path, action: "discover \(path)")
            return Set(list.resources.map(\.name))
        } catch  where error.code == .notFound {
            return []
        }
    }

    private func decode<Value: Decodable>(_ path: String, action: String) async throws(ClusterError) -> Value {
        let body = try await client.get(path, action: action)
        do {
            return try JSONDecoder().decode(Value.self, from: Data(buffer: body))
        } catch {
            throw ClusterError(.server, "\(action): the answer is not what the API promises")
        }
    }

    private struct GroupVersion: Hashable {
        let group: String
        let version: String
    }
}

import Foundation
import GatehouseCluster
import GatehouseCore
import GatehousePolicy

/// The evaluated state of a watched cluster: each update is loaded into a new bundle and compared with
/// the last good one.
struct PolicyWatch {
    private var mirror: ClusterMirror
    private var current: (bundle: ResourceBundle, findings: [LintFinding])?
    /// Whether an object could not be loaded since the last good state: changes made meanwhile are not
    /// in the next event's own object, so that event compares every flow.
    private var missedChanges = false
    /// The most flows an event lists of those it opened, and of those it closed; nil lists all.
    let maximumFlows: Int?

    init(resources: [APIResource], origin: String, maximumFlows: Int?) {
        mirror = ClusterMirror(resources: resources, origin: origin)
        self.maximumFlows = maximumFlows
    }

    /// The event an update makes, or nil when there is none yet (kinds still being listed) or it changes
    /// nothing.
    mutating func handle(_ update: ClusterUpdate, at time: Date) -> WatchEvent? {
        guard mirror.apply(update), mirror.isComplete else { return nil }
        let bundle: ResourceBundle
        do {
            bundle = try ResourceLoader().load(paths: [], texts: mirror.texts)
        } catch {
            missedChanges = current != nil
            return event(update, type: .invalid, at: time, errors: error.errors.map(\.description))
        }
        let findings = PolicyLinter(bundle: bundle).findings()
        guard let (old, oldFindings) = current else {
            current = (bundle, findings)
            return WatchEvent(
                type: .synced,
                time: time,
                kind: nil,
                namespace: nil,
                name: nil,
                resourceVersion: nil,
                opened: [],
                closed: [],
                openedTotal: 0,
                closedTotal: 0,
                lint: .init(added: findings, resolved: []),
                checkedFlows: 0,
                objects: mirror.count,
                errors: nil
            )
        }
        current = (bundle, findings)
        let diff =
            missedChanges
            ? PolicyDiff(
                old: (old.cluster, old.policySet),
                new: (bundle.cluster, bundle.policySet),
                touched: nil,
                listing: maximumFlows
            )
            : PolicyWatch.diff(update, old: old, new: bundle, listing: maximumFlows)
        missedChanges = false
        func listed(_ verdict: Verdict) -> [WatchEvent.FlowChange] {
            diff.changes.filter { $0.after == verdict }.map {
                WatchEvent.FlowChange(
                    from: $0.from,
                    to: $0.to,
                    protocol: $0.protocol,
                    ports: $0.ports,
                    reason: $0.afterReason
                )
            }
        }
        let before = Set(oldFindings.map(Key.init))
        let after = Set(findings.map(Key.init))
        return event(
            update,
            type: nil,
            at: time,
            opened: listed(.allow),
            closed: listed(.deny),
            openedTotal: diff.openedCount,
            closedTotal: diff.closedCount,
            lint: .init(
                added: findings.filter { !before.contains(Key($0)) },
                resolved: oldFindings.filter { !after.contains(Key($0)) }
            ),
            checkedFlows: diff.checkedFlows
        )
    }

    /// The flows a change can touch: a policy's own subjects (the cluster is the same), a pod's own flows,
    /// a namespace's or service account's pods' flows; services, endpoint slices and network sets can
    /// matter to any flow.
    private static func diff(
        _ update: ClusterUpdate,
        old: ResourceBundle,
        new: ResourceBundle,
        listing: Int?
    ) -> PolicyDiff {
        let sides = (old: (old.cluster, old.policySet), new: (new.cluster, new.policySet))
        guard case .changed(let resource, _, let object) = update else {
            return PolicyDiff(old: sides.old, new: sides.new, touched: nil, listing: listing)
        }
        switch resource.kind {
        case "Pod":
            return PolicyDiff(old: sides.old, new: sides.new, touched: [object.key], listing: listing)
        case "Namespace", "ServiceAccount":
            let namespace = resource.kind == "Namespace" ? object.name : object.namespace ?? ""
            let pods = (old.cluster.pods + new.cluster.pods).filter { $0.namespace == namespace }
            return PolicyDiff(old: sides.old, new: sides.new, touched: Set(pods.map(\.description)), listing: listing)
        case "Service", "EndpointSlice", "NetworkSet", "GlobalNetworkSet":
            return PolicyDiff(old: sides.old, new: sides.new, touched: nil, listing: listing)
        default:
            return PolicyDiff(cluster: new.cluster, old: old.policySet, new: new.policySet, listing: listing)
        }
    }

    private func event(
        _ update: ClusterUpdate,
        type: WatchEvent.Change?,
        at time: Date,
        opened: [WatchEvent.FlowChange] = [],
        closed: [WatchEvent.FlowChange] = [],
        openedTotal: Int = 0,
        closedTotal: Int = 0,
        lint: WatchEvent.Findings = .init(added: [], resolved: []),
        checkedFlows: Int = 0,
        errors: [String]? = nil
    ) -> WatchEvent {
        var kind: String?
        var object: WatchedObject?
        var change = WatchEvent.Change.relisted
        switch update {
        case .changed(let resource, let what, let changed):
            kind = resource.kind
            object = changed
            switch what {
            case .added: change = .added
            case .modified: change = .modified
            case .deleted: change = .deleted
            }
        case .listed(let resource, _):
            kind = resource.kind
        case .retrying:
            break
        }
        return WatchEvent(
            type: type ?? change,
            time: time,
            kind: kind,
            namespace: object?.namespace,
            name: object?.name,
            resourceVersion: object?.resourceVersion,
            opened: opened,
            closed: closed,
            openedTotal: openedTotal,
            closedTotal: closedTotal,
            lint: lint,
            checkedFlows: checkedFlows,
            objects: nil,
            errors: errors
        )
    }

    /// A finding without its location, which moves whenever another object of its list changes.
    private struct Key: Hashable {
        let code: String
        let severity: LintFinding.Severity
        let object: String
        let field: String?
        let message: String

        init(_ finding: LintFinding) {
            code = finding.code
            severity = finding.severity
            object = finding.object
            field = finding.field
            message = finding.message
        }
    }
}

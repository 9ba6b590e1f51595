import Foundation
import GatehouseCluster
import GatehouseCore
import GatehousePolicy

/// The evaluated state of a watched cluster: updates are loaded into a new bundle and compared with the
/// last good one.
///
/// Pods, namespaces and service accounts change often (a rollout, a scale-up): the updates of theirs that
/// arrive together are taken as one, so the cluster is loaded once for all of them, and the event lists
/// them with the flows they opened and closed together. Any other update is an event of its own.
struct PolicyWatch {
    private var mirror: ClusterMirror
    private var current: (bundle: ResourceBundle, findings: [LintFinding])?
    /// Whether an object could not be loaded since the last good state: changes made meanwhile are not
    /// in the next event's own objects, so that event compares every flow.
    private var missedChanges = false
    /// The most flows an event lists of those it opened, and of those it closed; nil lists all.
    let maximumFlows: Int?

    init(resources: [APIResource], origin: String, maximumFlows: Int?) {
        mirror = ClusterMirror(resources: resources, origin: origin)
        self.maximumFlows = maximumFlows
    }

    /// The updates waiting, cut into runs: consecutive changes of pods, namespaces and service accounts
    /// together, anything else alone.
    static func runs(_ updates: [ClusterUpdate]) -> [[ClusterUpdate]] {
        var runs: [[ClusterUpdate]] = []
        for update in updates {
            if PolicyWatch.touchedPods(update) != nil, let last = runs.last?.last,
                PolicyWatch.touchedPods(last) != nil
            {
                runs[runs.count - 1].append(update)
            } else {
                runs.append([update])
            }
        }
        return runs
    }

    /// The event a run of updates makes, or nil when there is none yet (kinds still being listed) or the
    /// run changes nothing.
    mutating func handle(_ run: [ClusterUpdate], at time: Date) -> WatchEvent? {
        var changed: [ClusterUpdate] = []
        for update in run where mirror.apply(update) { changed.append(update) }
        guard !changed.isEmpty, mirror.isComplete else { return nil }
        let bundle: ResourceBundle
        do {
            bundle = try ResourceLoader().load(paths: [], texts: mirror.texts)
        } catch {
            missedChanges = current != nil
            return event(changed, type: .invalid, at: time, errors: error.errors.map(\.description))
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
                objects: nil,
                opened: [],
                closed: [],
                openedTotal: 0,
                closedTotal: 0,
                lint: .init(added: findings, resolved: []),
                checkedFlows: 0,
                objectCount: mirror.count,
                errors: nil
            )
        }
        current = (bundle, findings)
        let diff = self.diff(missedChanges ? nil : changed, old: old, new: bundle)
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
            changed,
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

    /// The pods whose flows an update can change (`namespace/name`, or a whole namespace as `namespace/`),
    /// or nil when it can change any flow, or only through policies.
    private static func touchedPods(_ update: ClusterUpdate) -> Set<String>? {
        guard case .changed(let resource, _, let object) = update else { return nil }
        switch resource.kind {
        case "Pod": return [object.key]
        case "Namespace": return ["\(object.name)/"]
        case "ServiceAccount": return ["\(object.namespace ?? "")/"]
        default: return nil
        }
    }

    /// The flows the changes can touch: a policy's own subjects (the cluster is the same), the pods of a
    /// run of pod, namespace and service account changes; services, endpoint slices and network sets (and
    /// anything after an object that could not be loaded: `changes` nil) can matter to any flow.
    private func diff(_ changes: [ClusterUpdate]?, old: ResourceBundle, new: ResourceBundle) -> PolicyDiff {
        let sides = (old: (old.cluster, old.policySet), new: (new.cluster, new.policySet))
        guard let changes else {
            return PolicyDiff(old: sides.old, new: sides.new, touched: nil, listing: maximumFlows)
        }
        let touched = changes.map(PolicyWatch.touchedPods)
        if touched.allSatisfy({ $0 != nil }) {
            let names = touched.reduce(into: Set<String>()) { $0.formUnion($1 ?? []) }
            let pods = (old.cluster.pods + new.cluster.pods).map(\.description).filter { pod in
                names.contains(pod) || names.contains(String(pod.prefix { $0 != "/" }) + "/")
            }
            return PolicyDiff(old: sides.old, new: sides.new, touched: Set(pods), listing: maximumFlows)
        }
        if changes.count == 1, case .changed(let resource, _, _) = changes[0],
            !["Service", "EndpointSlice", "NetworkSet", "GlobalNetworkSet"].contains(resource.kind)
        {
            return PolicyDiff(cluster: new.cluster, old: old.policySet, new: new.policySet, listing: maximumFlows)
        }
        return PolicyDiff(old: sides.old, new: sides.new, touched: nil, listing: maximumFlows)
    }

    private func event(
        _ changes: [ClusterUpdate],
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
        let described = changes.map(PolicyWatch.describe)
        let single = described.count == 1 ? described[0] : nil
        return WatchEvent(
            type: type ?? single?.change ?? .changes,
            time: time,
            kind: single?.kind,
            namespace: single?.object?.namespace,
            name: single?.object?.name,
            resourceVersion: single?.object?.resourceVersion,
            objects: single == nil ? described.map(\.line) : nil,
            opened: opened,
            closed: closed,
            openedTotal: openedTotal,
            closedTotal: closedTotal,
            lint: lint,
            checkedFlows: checkedFlows,
            objectCount: single == nil ? described.count : nil,
            errors: errors
        )
    }

    /// One update as the event names it.
    private static func describe(
        _ update: ClusterUpdate
    ) -> (change: WatchEvent.Change, kind: String?, object: WatchedObject?, line: String) {
        switch update {
        case .changed(let resource, let what, let object):
            let change: WatchEvent.Change
            switch what {
            case .added: change = .added
            case .modified: change = .modified
            case .deleted: change = .deleted
            }
            return (change, resource.kind, object, "\(change.rawValue) \(resource.kind) \(object.key)")
        case .listed(let resource, _):
            return (.relisted, resource.kind, nil, "RELISTED \(resource.kind)")
        case .retrying(let resource, _, _), .expired(let resource, _):
            return (.relisted, resource.kind, nil, "RETRYING \(resource.kind)")
        }
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

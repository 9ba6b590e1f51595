import GatehouseCore

/// Accumulates decoded objects and every error, so one run reports all problems.
struct BundleBuilder {
    var bundle = ResourceBundle()
    var errors: [ResourceError] = []
    let diagnostics = DecodeDiagnostics()
    private var seen: [String: SourceLocation] = [:]
    private var pods: [Endpoint] = []

    mutating func add(text: String, file: String) {
        let documents: [ResourceValue]
        do {
            documents = try ResourceValue.documents(in: text, file: file)
        } catch {
            errors.append(error)
            return
        }
        for document in documents {
            add(Field(value: document, file: file, diagnostics: diagnostics))
        }
    }

    /// Adds one object (or the items of a `List`); an error is recorded and the object skipped.
    ///
    /// The API server's typed lists (`PodList`, as `GET /api/v1/pods` answers) leave `kind` and
    /// `apiVersion` out of their items: those come from the list, as client-go fills them in.
    mutating func add(_ field: Field, listed: (apiVersion: String, kind: String)? = nil) {
        do {
            let object = try field.looseObject()
            let apiVersion = try object["apiVersion"]?.string() ?? listed?.apiVersion ?? ""
            let kind: String
            if let own = try object["kind"]?.string() {
                kind = own
            } else if let listed {
                kind = listed.kind
            } else {
                kind = try object.required("kind").string()
            }
            if kind == "List" || kind.hasSuffix("List") && object["items"] != nil {
                let member = kind == "List" ? nil : (apiVersion: apiVersion, kind: String(kind.dropLast(4)))
                for item in try object.required("items").list() { add(item, listed: member) }
                return
            }
            try decode(object, apiVersion: apiVersion, kind: kind)
        } catch {
            errors.append(error)
        }
    }

    private mutating func decode(_ object: FieldObject, apiVersion: String, kind: String) throws(ResourceError) {
        var group = apiVersion.split(separator: "/").dropLast().joined(separator: "/")
        // Calico's own API (projectcalico.org/v3) and the custom resources that back it in clusters
        // without Calico's API server (crd.projectcalico.org/v1) carry the same specs.
        if group == "crd.projectcalico.org" { group = "projectcalico.org" }
        if let policy = try policy(object, group: group, kind: kind) {
            // Policies are checked for unknown top-level fields too (state objects carry many we never read).
            _ = try object.field.object(known: KubernetesDecoder.objectFields)
            try remember(policy.kind.rawValue, policy.namespace, policy.name, object)
            bundle.policySet.add(policy)
            return
        }
        switch (group, kind) {
        case ("", "Namespace"):
            let namespace = try KubernetesDecoder.namespace(object)
            try remember("Namespace", nil, namespace.name, object)
            bundle.cluster.add(namespace)
        case ("", "Pod"):
            let pod = try KubernetesDecoder.pod(object)
            try remember("Pod", pod.namespace, pod.name, object)
            // A pod that has run to completion holds no workload endpoint (Calico deletes it, Cilium its
            // endpoint), yet keeps its podIP, which a running pod may already reuse.
            let phase = try object["status"]?.looseObject()["phase"]?.string()
            if phase != "Succeeded" && phase != "Failed" { pods.append(pod) }
        case ("", "ServiceAccount"):
            let account = try KubernetesDecoder.serviceAccount(object)
            try remember("ServiceAccount", account.namespace, account.name, object)
            bundle.cluster.add(account)
        case ("", "Service"):
            let service = try KubernetesDecoder.service(object)
            try remember("Service", service.namespace, service.name, object)
            bundle.cluster.add(service)
        case ("discovery.k8s.io", "EndpointSlice"):
            let slice = try KubernetesDecoder.endpointSlice(object)
            try remember("EndpointSlice", slice.namespace, slice.name, object)
            bundle.cluster.add(slice)
        case ("projectcalico.org", "Tier"):
            let tier = try CalicoDecoder.tier(object)
            try remember("Tier", nil, tier.name, object)
            bundle.policySet.add(tier)
        case ("projectcalico.org", "NetworkSet"), ("projectcalico.org", "GlobalNetworkSet"):
            let set = try CalicoDecoder.networkSet(object, global: kind == "GlobalNetworkSet")
            try remember(kind, set.namespace, set.name, object)
            bundle.cluster.add(set)
        default:
            diagnostics.warnings.append(
                object.field.error(
                    .unknownKind,
                    "kind \(kind) (\(apiVersion.isEmpty ? "no apiVersion" : apiVersion)) is not used; ignored"
                )
            )
        }
    }

    /// The policy an object is, or nil when it is not a policy kind.
    private func policy(_ object: FieldObject, group: String, kind: String) throws(ResourceError) -> Policy? {
        switch (group, kind) {
        case ("networking.k8s.io", "NetworkPolicy"):
            return try KubernetesDecoder.networkPolicy(object, staged: false)
        case ("projectcalico.org", "StagedKubernetesNetworkPolicy"):
            return try KubernetesDecoder.networkPolicy(object, staged: true)
        case ("projectcalico.org", "NetworkPolicy"):
            return try CalicoDecoder.policy(object, kind: .calicoNetworkPolicy, diagnostics: diagnostics)
        case ("projectcalico.org", "GlobalNetworkPolicy"):
            return try CalicoDecoder.policy(object, kind: .globalNetworkPolicy, diagnostics: diagnostics)
        case ("projectcalico.org", "StagedNetworkPolicy"):
            return try CalicoDecoder.policy(object, kind: .stagedNetworkPolicy, diagnostics: diagnostics)
        case ("projectcalico.org", "StagedGlobalNetworkPolicy"):
            return try CalicoDecoder.policy(object, kind: .stagedGlobalNetworkPolicy, diagnostics: diagnostics)
        case ("policy.networking.k8s.io", "AdminNetworkPolicy"):
            return try ClusterNetworkPolicyDecoder.policy(object, flavor: .admin)
        case ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"):
            return try ClusterNetworkPolicyDecoder.policy(object, flavor: .baseline)
        case ("policy.networking.k8s.io", "ClusterNetworkPolicy"):
            return try ClusterNetworkPolicyDecoder.policy(object, flavor: .cluster)
        default:
            return nil
        }
    }

    /// Refuses a second object of the same kind, namespace and name: which one counts would be a guess.
    private mutating func remember(
        _ kind: String,
        _ namespace: String?,
        _ name: String,
        _ object: FieldObject
    ) throws(ResourceError) {
        let key = "\(kind)/\(namespace ?? "")/\(name)"
        if let first = seen[key] {
            throw object.field.error(
                .duplicate,
                "\(kind) \(namespace.map { "\($0)/" } ?? "")\(name) is defined twice (first at \(first))"
            )
        }
        seen[key] = object.field.location
    }

    mutating func finish(strict: Bool) throws(ResourceErrors) -> ResourceBundle {
        bundle.cluster.add(pods: pods)
        pods = []
        let tiers = Set(bundle.policySet.tiers.map(\.name))
        for policy in bundle.policySet.policies where !tiers.contains(policy.tier) {
            errors.append(
                ResourceError(
                    .unknownReference,
                    "\(policy.reference) names tier \"\(policy.tier)\", which is not defined",
                    at: policy.location,
                    field: "spec.tier"
                )
            )
        }
        bundle.warnings = diagnostics.warnings
        if strict { errors += diagnostics.warnings }
        guard errors.isEmpty else { throw ResourceErrors(errors) }
        return bundle
    }
}

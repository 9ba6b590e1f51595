import GatehousePolicy
import Testing

/// What `policy apply` sends: each object's own text, named, and staged Calico policies made enforced.
@Suite("Manifest documents")
struct ManifestDocumentTests {
    @Test func splitAtDocumentMarkersKeepingEachObjectsText() throws {
        let text = """
            # warning: a comment-only document is skipped
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: a, namespace: ai}  # why: a comment stays
            spec: {podSelector: {}}
            ---
            apiVersion: projectcalico.org/v3
            kind: StagedGlobalNetworkPolicy
            metadata:
              name: security.b
            spec: {tier: security, selector: all()}
            """
        let documents = try ManifestDocument.split(text: text, file: "p.yaml")
        #expect(documents.map(\.name) == ["a", "security.b"])
        #expect(documents[0].namespace == "ai" && documents[1].namespace == nil)
        #expect(documents[0].text.contains("# why: a comment stays"))
        #expect(documents[1].location.line == 8 && documents[1].group == "projectcalico.org")
        let promoted = try #require(documents[1].promoted())
        #expect(promoted.kind == "GlobalNetworkPolicy" && promoted.text.contains("\nkind: GlobalNetworkPolicy\n"))
        #expect(documents[0].promoted() == nil)
    }

    @Test func refused() throws {
        for (text, expected) in [
            ("apiVersion: v1\nkind: List\nitems: []", "a List is not applied"),
            ("apiVersion: v1\nkind: Pod\nmetadata: {}", "metadata.name: required field is missing"),
        ] {
            do {
                _ = try ManifestDocument.split(text: text, file: "p.yaml")
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.description.contains(expected), "\(error.description)")
            }
        }
        let staged = """
            apiVersion: projectcalico.org/v3
            kind: StagedNetworkPolicy
            metadata: {name: x, namespace: ai}
            spec: {stagedAction: Delete}
            """
        let document = try #require(try ManifestDocument.split(text: staged, file: "p.yaml").first)
        #expect(document.promoted() == nil, "a staged removal has no enforced twin")
    }

    @Test func stagedKubernetesNetworkPolicyBecomesANetworkPolicy() throws {
        let staged = """
            apiVersion: projectcalico.org/v3
            kind: StagedKubernetesNetworkPolicy
            metadata: {name: rsvp-default-deny, namespace: ai}
            spec: {podSelector: {}, policyTypes: ["Ingress", "Egress"]}
            """
        let document = try #require(try ManifestDocument.split(text: staged, file: "p.yaml").first)
        let promoted = try #require(document.promoted())
        #expect(promoted.apiVersion == "networking.k8s.io/v1" && promoted.kind == "NetworkPolicy")
        #expect(promoted.text.hasPrefix("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:"))
        // The promoted text decodes as the NetworkPolicy it now says it is.
        let bundle = try ResourceLoader().load(paths: [], texts: [(promoted.text, "p.yaml")])
        #expect(bundle.policySet.policies.map(\.kind) == [.kubernetesNetworkPolicy])
    }
}

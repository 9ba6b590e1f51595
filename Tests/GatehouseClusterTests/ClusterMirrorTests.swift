import Testing

@testable import GatehouseCluster

@Suite("cluster mirror")
struct ClusterMirrorTests {
    let pods = APIResource(group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true)
    let policies = APIResource(
        group: "networking.k8s.io",
        version: "v1",
        plural: "networkpolicies",
        kind: "NetworkPolicy",
        namespaced: true
    )

    func pod(_ name: String, version: String) -> WatchedObject {
        WatchedObject(namespace: "ai", name: name, resourceVersion: version, json: #"{"v":"\#(version)"}"#)
    }

    @Test func completeOnlyOnceEveryKindIsListedAndRepeatsChangeNothing() {
        var mirror = ClusterMirror(resources: [pods, policies], origin: "k8s://test")
        let changed1 = mirror.apply(.listed(pods, [pod("b", version: "2"), pod("a", version: "1")]))
        #expect(changed1)
        #expect(!mirror.isComplete)
        // A kind's first list counts as a change even when empty: it completes the mirror.
        let changed = mirror.apply(.listed(policies, []))
        #expect(changed && mirror.isComplete)
        #expect(
            mirror.texts.map(\.file) == [
                "k8s://test/api/v1/pods", "k8s://test/apis/networking.k8s.io/v1/networkpolicies",
            ]
        )
        #expect(mirror.texts[0].text == #"{"apiVersion":"v1","kind":"PodList","items":[{"v":"1"},{"v":"2"}]}"#)
        // An event replayed after a reconnect, and the deletion of what is not there, change nothing.
        let changed2 = mirror.apply(.changed(pods, .modified, pod("a", version: "1")))
        #expect(!changed2)
        let changed3 = mirror.apply(.changed(pods, .deleted, pod("z", version: "9")))
        #expect(!changed3)
        let changed4 = mirror.apply(.changed(pods, .modified, pod("a", version: "3")))
        #expect(changed4)
        let changed5 = mirror.apply(.changed(pods, .deleted, pod("b", version: "4")))
        #expect(changed5)
        #expect(mirror.count == 1)
        // A list after 410 Gone replaces the kind's objects.
        let changed6 = mirror.apply(.listed(pods, [pod("c", version: "5")]))
        #expect(changed6)
        #expect(mirror.texts[0].text == #"{"apiVersion":"v1","kind":"PodList","items":[{"v":"5"}]}"#)
    }
}

/// A field path such as `spec.ingress[0].from[1]`, built as a chain and spelled out only for an error.
package final class FieldPath: Sendable {
    package enum Component: Sendable {
        case key(String)
        case index(Int)
    }

    package let parent: FieldPath?
    package let component: Component?

    package init(parent: FieldPath? = nil, component: Component? = nil) {
        self.parent = parent
        self.component = component
    }

    package static let root = FieldPath()

    package var description: String {
        guard let component else { return "" }
        let head = parent?.description ?? ""
        switch component {
        case .key(let key): return head.isEmpty ? key : "\(head).\(key)"
        case .index(let index): return "\(head)[\(index)]"
        }
    }
}

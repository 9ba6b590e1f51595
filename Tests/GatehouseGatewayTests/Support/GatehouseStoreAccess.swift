import Foundation
import GatehouseStore

enum GatehouseStoreAccess {
    /// A new API key in the data directory's store.
    static func key(in directory: URL, name: String = "caller") throws -> String {
        try Store(directory: directory).createKey(kind: .api, name: name, labels: [:], expiresAt: nil).secret.text
    }
}

/// The fields of a mapping being decoded. Mappings are small, so lookup is a scan, not a hash table.
package struct FieldObject {
    package let field: Field
    package let pairs: [(key: String, value: ResourceValue)]

    package init(field: Field, pairs: [(key: String, value: ResourceValue)]) {
        self.field = field
        self.pairs = pairs
    }

    /// Every entry, null values included.
    package var entries: [(key: String, field: Field)] { pairs.map { ($0.key, field.child($0.value, key: $0.key)) } }

    /// The field, or nil when it is absent or null.
    package subscript(key: String) -> Field? {
        guard let entry = entry(key), !entry.isNull else { return nil }
        return entry
    }

    /// The field even when its value is null.
    package func entry(_ key: String) -> Field? {
        guard let pair = pairs.first(where: { $0.key == key }) else { return nil }
        return field.child(pair.value, key: key)
    }

    /// Whether the key is present at all, even with a null value.
    package func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    package func required(_ key: String) throws(ResourceError) -> Field {
        guard let entry = self[key] else {
            let path = field.path.isEmpty ? key : "\(field.path).\(key)"
            throw ResourceError(.missingField, "required field is missing", at: field.location, field: path)
        }
        return entry
    }
}

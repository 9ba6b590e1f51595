import Foundation
import Yams

/// JSON and YAML output of any `Encodable` value, with sorted keys so output is stable.
enum StructuredOutput {
    static func render(_ value: some Encodable, as format: OutputOptions.Format) throws -> String {
        switch format {
        case .json, .table:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        case .yaml:
            let encoder = YAMLEncoder()
            encoder.options.sortKeys = true
            return try encoder.encode(value)
        }
    }
}

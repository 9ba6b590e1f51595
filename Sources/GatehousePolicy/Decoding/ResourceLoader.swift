import Foundation
import GatehouseCore

/// Reads Kubernetes-style YAML and JSON (files, folders, multi-document files, `List` objects) into a
/// cluster state and a policy set. Fails closed: any error means no bundle at all.
public struct ResourceLoader: Sendable {
    /// Whether unknown kinds and fields are errors rather than warnings.
    public var strict: Bool

    public init(strict: Bool = false) { self.strict = strict }

    /// Loads files and folders (`*.yaml`, `*.yml`, `*.json`, recursively); `-` reads standard input.
    public func load(paths: [String]) throws(ResourceErrors) -> ResourceBundle {
        try load(paths: paths, texts: [])
    }

    private func add(paths: [String], to builder: inout BundleBuilder) {
        for path in paths {
            let files: [String]
            do {
                files = try ResourceLoader.files(in: path)
            } catch {
                builder.errors.append(error)
                continue
            }
            for file in files {
                let text: String
                do {
                    text = try ResourceLoader.read(file)
                } catch {
                    builder.errors.append(error)
                    continue
                }
                builder.add(text: text, file: file)
            }
        }
    }

    /// Loads one text, as if read from `file`.
    public func load(text: String, file: String) throws(ResourceErrors) -> ResourceBundle {
        try load(paths: [], texts: [(text: text, file: file)])
    }

    /// Loads files and folders, then texts read elsewhere (a live cluster's lists), named by `file`.
    public func load(paths: [String], texts: [(text: String, file: String)]) throws(ResourceErrors) -> ResourceBundle {
        var builder = BundleBuilder()
        add(paths: paths, to: &builder)
        for (text, file) in texts { builder.add(text: text, file: file) }
        return try builder.finish(strict: strict)
    }

    /// The files a path names: itself, or a folder's `*.yaml`, `*.yml` and `*.json` (recursively, hidden
    /// ones left out), sorted; `-` is standard input.
    public static func files(in path: String) throws(ResourceError) -> [String] {
        if path == "-" { return [path] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ResourceError(.unreadable, "no such file or directory", at: nil, field: path)
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw ResourceError(.unreadable, "cannot list the directory", field: path)
        }
        var files: [String] = []
        while let entry = enumerator.nextObject() as? String {
            // Hidden files and folders (.git, editor state) are never policy.
            if entry.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            let lower = entry.lowercased()
            guard lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json") else { continue }
            files.append((path as NSString).appendingPathComponent(entry))
        }
        return files.sorted()
    }

    /// The text of a file, or of standard input for `-`.
    public static func read(_ file: String) throws(ResourceError) -> String {
        let data: Data?
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard FileManager.default.fileExists(atPath: file) else {
                throw ResourceError(.unreadable, "no such file or directory", field: file)
            }
            data = FileManager.default.contents(atPath: file)
        }
        guard let data else { throw ResourceError(.unreadable, "cannot read the file", field: file) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ResourceError(.unreadable, "not UTF-8 text", at: SourceLocation(file: file, line: 1, column: 1))
        }
        return text
    }
}

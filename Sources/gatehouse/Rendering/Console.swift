import Foundation

/// Writing to standard output and standard error.
enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    /// A line on standard output, written at once (not buffered), for a process another one is watching.
    static func line(_ message: String) {
        FileHandle.standardOutput.write(Data((message + "\n").utf8))
    }

    /// A table with no rows: a note on standard error (as kubectl's "No resources found"), nothing on
    /// standard output; otherwise the table.
    static func table(_ text: String, empty: String) {
        if text.isEmpty {
            FileHandle.standardError.write(Data("\(empty)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }

    /// Something left out on purpose (a kind the cluster does not serve), not a problem.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}

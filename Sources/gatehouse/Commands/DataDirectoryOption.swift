import ArgumentParser
import Foundation

/// `--data-dir`: where the database, keys and the self-signed certificate live.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The data directory (created on first use).")
    var dataDirectory: String = ".gatehouse"

    var url: URL { URL(filePath: dataDirectory, directoryHint: .isDirectory) }
}

import Foundation
import GatehouseTesting

// Writes the synthetic benchmark cluster: gatehouse-synth OUTPUT-FOLDER [NAMESPACES PODS-PER-NAMESPACE]
let arguments = CommandLine.arguments.dropFirst()
guard let folder = arguments.first else {
    FileHandle.standardError.write(Data("usage: gatehouse-synth OUTPUT-FOLDER [NAMESPACES PODS-PER-NAMESPACE]\n".utf8))
    exit(2)
}
let numbers = arguments.dropFirst().compactMap { Int($0) }
let cluster =
    numbers.count == 2 ? SyntheticCluster(namespaces: numbers[0], podsPerNamespace: numbers[1]) : SyntheticCluster()
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
for file in cluster.files() {
    try file.text.write(
        toFile: (folder as NSString).appendingPathComponent(file.name),
        atomically: true,
        encoding: .utf8
    )
}
print("wrote \(cluster.namespaces * cluster.podsPerNamespace) pods in \(cluster.namespaces) namespaces to \(folder)")

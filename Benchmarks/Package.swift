// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so that the main build and CI never compile the harness.
let package = Package(
    name: "GatehouseBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "gatehouse", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .executableTarget(
            name: "PolicyBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "GatehousePolicy", package: "gatehouse"),
                .product(name: "GatehouseTesting", package: "gatehouse"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Benchmarks/PolicyBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "gatehouse-synth",
            dependencies: [.product(name: "GatehouseTesting", package: "gatehouse")]
        ),
    ]
)

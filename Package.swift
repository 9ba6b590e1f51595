// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "gatehouse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gatehouse", targets: ["gatehouse"]),
        .library(name: "GatehouseCore", targets: ["GatehouseCore"]),
        .library(name: "GatehousePolicy", targets: ["GatehousePolicy"]),
        .library(name: "GatehouseStore", targets: ["GatehouseStore"]),
        .library(name: "GatehouseGuard", targets: ["GatehouseGuard"]),
        .library(name: "GatehouseCluster", targets: ["GatehouseCluster"]),
        .library(name: "GatehouseFlows", targets: ["GatehouseFlows"]),
        .library(name: "GatehouseGateway", targets: ["GatehouseGateway"]),
        .library(name: "GatehouseFixtureModel", targets: ["GatehouseFixtureModel"]),
        .library(name: "GatehouseTesting", targets: ["GatehouseTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "GatehouseCore"),
        .target(
            name: "GatehousePolicy",
            dependencies: [
                "GatehouseCore",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "GatehouseStore",
            dependencies: [
                "GatehouseCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "GatehouseCluster",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "GatehouseGuard"),
        .target(
            name: "GatehouseFlows",
            dependencies: [
                "GatehouseCore",
                "GatehousePolicy",
                "GatehouseStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "GatehouseGateway",
            dependencies: [
                "GatehouseCore",
                "GatehousePolicy",
                "GatehouseStore",
                "GatehouseGuard",
                "GatehouseFlows",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [
                .embedInCode("Admin/Console/Files/index.html"),
                .embedInCode("Admin/Console/Files/app.js"),
                .embedInCode("Admin/Console/Files/app.css"),
            ]
        ),
        .target(
            name: "GatehouseFixtureModel",
            dependencies: [
                "GatehouseCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "gatehouse",
            dependencies: [
                "GatehouseCore",
                "GatehousePolicy",
                "GatehouseStore",
                "GatehouseGateway",
                "GatehouseFlows",
                "GatehouseFixtureModel",
                "GatehouseCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(name: "GatehouseTesting", dependencies: ["GatehouseCore", "GatehousePolicy", "GatehouseStore"]),
        .executableTarget(
            name: "gatehouse-guard-bench",
            dependencies: [
                "GatehouseCore",
                "GatehouseGateway",
                "GatehouseGuard",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/guard"
        ),
        .executableTarget(
            name: "gatehouse-flow-bench",
            dependencies: [
                "GatehouseCore",
                "GatehouseStore",
                "GatehouseFlows",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/flows"
        ),
        .executableTarget(
            name: "gatehouse-ledger-bench",
            dependencies: ["GatehouseCore", "GatehouseStore"],
            path: "Benchmarks/ledger"
        ),
        .testTarget(name: "GatehouseCoreTests", dependencies: ["GatehouseCore", "GatehouseTesting"]),
        .testTarget(
            name: "GatehousePolicyTests",
            dependencies: ["GatehouseCore", "GatehousePolicy", "GatehouseTesting"]
        ),
        .testTarget(name: "GatehouseCLITests", dependencies: ["gatehouse", "GatehouseTesting"]),
        .testTarget(name: "GatehouseGuardTests", dependencies: ["GatehouseGuard"]),
        .testTarget(name: "GatehouseClusterTests", dependencies: ["GatehouseCluster"]),
        .testTarget(
            name: "GatehouseFlowsTests",
            dependencies: [
                "GatehouseCore",
                "GatehousePolicy",
                "GatehouseStore",
                "GatehouseFlows",
                "GatehouseTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "GatehouseGatewayTests",
            dependencies: [
                "GatehouseCore",
                "GatehouseStore",
                "GatehouseGateway",
                "GatehouseFixtureModel",
                "GatehouseTesting",
                "GatehousePolicy",
                "GatehouseGuard",
                "GatehouseFlows",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)

// Strict settings for every target, from one place.
for target in package.targets {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("MemberImportVisibility"),
            .treatAllWarnings(as: .error),
        ]
}

// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "gatehouse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gatehouse", targets: ["gatehouse"]),
        .library(name: "GatehouseCore", targets: ["GatehouseCore"]),
        .library(name: "GatehousePolicy", targets: ["GatehousePolicy"]),
        .library(name: "GatehouseTesting", targets: ["GatehouseTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
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
        .executableTarget(
            name: "gatehouse",
            dependencies: [
                "GatehouseCore",
                "GatehousePolicy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "GatehouseTesting", dependencies: ["GatehouseCore", "GatehousePolicy"]),
        .testTarget(name: "GatehouseCoreTests", dependencies: ["GatehouseCore", "GatehouseTesting"]),
        .testTarget(
            name: "GatehousePolicyTests",
            dependencies: ["GatehouseCore", "GatehousePolicy", "GatehouseTesting"]
        ),
        .testTarget(name: "GatehouseCLITests", dependencies: ["gatehouse", "GatehouseTesting"]),
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

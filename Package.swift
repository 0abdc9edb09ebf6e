// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "PycKit",
    products: [
        .library(name: "PycKit", targets: ["PycKit"]),
        .executable(name: "pyckit", targets: ["pyckit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.0"),
    ],
    targets: [
        .target(
            name: "PycKit",
            dependencies: [.product(name: "BigInt", package: "BigInt")]
        ),
        .target(
            name: "PycKitCommands",
            dependencies: [
                "PycKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "pyckit", dependencies: ["PycKitCommands"]),
        .target(name: "PycKitTestSupport", dependencies: ["PycKit"]),
        .testTarget(
            name: "PycKitTests",
            dependencies: ["PycKit", "PycKitTestSupport", .product(name: "BigInt", package: "BigInt")],
            exclude: ["Fixtures"]
        ),
    ]
)

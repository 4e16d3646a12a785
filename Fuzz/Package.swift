// swift-tools-version:6.2
// libFuzzer targets for every parser of untrusted bytes. Not part of the main build:
// they need `-sanitize=fuzzer`, whose libFuzzer supplies `main`. Build and run with
// `Fuzz/run.sh` (a bounded run per target, as `.ci/run` does) or `Fuzz/campaign.sh` (long).
import PackageDescription

let fuzzFlags: [SwiftSetting] = []

let package = Package(
    name: "tokend-fuzz",
    dependencies: [
        .package(name: "tokend", path: ".."),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [.target(name: "FuzzSupport", path: "Sources/FuzzSupport")] + ["fuzz-json", "fuzz-signature", "fuzz-jwt", "fuzz-audit", "fuzz-secrets", "fuzz-control"].map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "TokenCore", package: "tokend"),
                           .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Sources/\(name)",
            swiftSettings: fuzzFlags
        )
    } + [
        // The HTTP/1.1 pipeline over EmbeddedChannel: needs the server library and NIO's embedded channel.
        .executableTarget(
            name: "fuzz-http",
            dependencies: ["FuzzSupport", .product(name: "TokenServer", package: "tokend"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")],
            path: "Sources/fuzz-http",
            swiftSettings: fuzzFlags
        ),
    ],
    swiftLanguageModes: [.v6]
)

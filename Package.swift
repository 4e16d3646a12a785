// swift-tools-version:6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tokend",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tokend", targets: ["tokend"]),
        .library(name: "TokenCore", targets: ["TokenCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // TOML for the secrets file: toml++ behind a small Swift API, with line/column errors.
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // libcrypto from OpenSSL (libssl-dev): SHA-2, RAND_bytes, CRYPTO_memcmp.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The domain, no networking: crypto, JSON, JWT, token profiles, policy, secrets.
        .target(
            name: "TokenCore",
            dependencies: [
                "COpenSSL",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "tokend",
            dependencies: [
                "TokenCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // `swift run -c release tokend-bench`: mint vs. raw HMAC throughput on one core.
        .executableTarget(
            name: "tokend-bench",
            dependencies: ["TokenCore"],
            path: "Benchmarks/tokend-bench",
            swiftSettings: strictSettings
        ),
        // Helpers shared by the test targets: temporary files, sample secrets, running `tokend`.
        .target(
            name: "TestSupport",
            dependencies: ["TokenCore"],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TokenCoreTests",
            dependencies: ["TokenCore", "TestSupport"],
            swiftSettings: strictSettings
        ),
        // Runs the built `tokend` binary as a user would.
        .testTarget(
            name: "CLITests",
            dependencies: ["TokenCore", "TestSupport", "tokend"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

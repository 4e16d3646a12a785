// swift-tools-version:6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tokend",
    // Linux only, so no `platforms`: the audit file calls Glibc's fdatasync and open directly,
    // and the release image is Debian's.
    products: [
        .executable(name: "tokend", targets: ["tokend"]),
        .library(name: "TokenCore", targets: ["TokenCore"]),
        .library(name: "TokenServer", targets: ["TokenServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // ServerQuiescingHelper: the listener closes, connections finish their request and close.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // RFC 8941 structured fields: Signature-Input, Signature and Content-Digest are dictionaries.
        .package(url: "https://github.com/apple/swift-http-structured-headers.git", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Shared state for many replicas: the Swift server ecosystem's PostgreSQL driver.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // The CLI's HTTP client (`mint --url`, `health`) and the tests' real client.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // libcrypto from OpenSSL (libssl-dev): SHA-2, RAND_bytes, CRYPTO_memcmp.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The domain, no networking: crypto, JSON, JWT, token profiles, policy, secrets, caller
        // authentication over plain request values, audit log.
        .target(
            name: "TokenCore",
            dependencies: [
                "COpenSSL",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
            ],
            swiftSettings: strictSettings
        ),
        // The HTTP service: a SwiftNIO HTTP/1.1 pipeline of one-job handlers (HTTP/), the routes,
        // metrics, logs and lifecycle. No framework: five routes do not need a router, and the
        // token work runs inline on the event loop.
        .target(
            name: "TokenServer",
            dependencies: [
                "TokenCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // The OpenAPI document, compiled into the binary (served at GET /openapi.yaml), so
            // the binary alone is the whole deployment.
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strictSettings
        ),
        // Shared state in PostgreSQL: replay ledger, rate limits, audit chains, schema migrations.
        .target(
            name: "TokenPostgres",
            dependencies: [
                "TokenCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Only for `ConnectionPoolError`, which the pool throws when it cannot connect.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "tokend",
            dependencies: [
                "TokenCore",
                "TokenServer",
                "TokenPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        // `swift run -c release tokend-bench`: mint vs. raw HMAC throughput on one core.
        .executableTarget(
            name: "tokend-bench",
            dependencies: ["TokenCore", "COpenSSL"],
            path: "Benchmarks/tokend-bench",
            swiftSettings: strictSettings
        ),
        // Helpers shared by the test targets: temporary files, sample secrets, running `tokend`.
        .target(
            name: "TestSupport",
            dependencies: [
                "TokenCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TokenCoreTests",
            dependencies: ["TokenCore", "TestSupport"],
            swiftSettings: strictSettings
        ),
        // A real `tokend serve` on a loopback port, driven by a real HTTP client.
        .testTarget(
            name: "ServerTests",
            dependencies: ["TokenCore", "TestSupport", "tokend", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        // The HTTP layer in process: the connection state machine as a value, the pipeline over
        // EmbeddedChannel (what only a real process shows stays in ServerTests).
        .testTarget(
            name: "HTTPTests",
            dependencies: [
                "TokenServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The PostgreSQL implementations against a real (throwaway) PostgreSQL server.
        .testTarget(
            name: "TokenPostgresTests",
            dependencies: [
                "TokenCore", "TokenPostgres", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
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

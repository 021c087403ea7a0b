// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "smta",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SMTACore", targets: ["SMTACore"]),
        .library(name: "SMTASupabase", targets: ["SMTASupabase"]),
        .library(name: "SMTAPayload", targets: ["SMTAPayload"]),
        .library(name: "SMTAOIDC", targets: ["SMTAOIDC"]),
        .library(name: "SMTAHummingbird", targets: ["SMTAHummingbird"]),
        .executable(name: "smta", targets: ["smta"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Build tooling: turns the .sql files of a target into Swift string constants,
        // so the `smta` binary carries its schema with it.
        .executableTarget(name: "SQLEmbedder", path: "Plugins/SQLEmbedder"),
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["SQLEmbedder"], path: "Plugins/EmbedSQL"),

        // The SMTA-compatible schema: core migrations, shipped as embedded SQL.
        .target(
            name: "SMTASchema",
            path: "Schema",
            exclude: ["migrations", "README.md"],
            plugins: ["EmbedSQL"]
        ),

        // The core library: identity, the adapter protocol and JWT toolkit, gate, migrator, configuration.
        .target(
            name: "SMTACore",
            dependencies: [
                "SMTASchema",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Identity adapters: each turns a request's credentials into an Identity and
        // carries its own SQL part.
        .target(
            name: "SMTASupabase",
            dependencies: [
                "SMTACore", "SMTASchema",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Adapters/Supabase",
            exclude: ["SQL"],
            sources: ["Sources"],
            plugins: ["EmbedSQL"]
        ),
        .target(
            name: "SMTAPayload",
            dependencies: [
                "SMTACore", "SMTASchema",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Adapters/Payload",
            exclude: ["SQL"],
            sources: ["Sources"],
            plugins: ["EmbedSQL"]
        ),

        .target(
            name: "SMTAOIDC",
            dependencies: [
                "SMTACore", "SMTASchema",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Adapters/OIDC",
            exclude: ["SQL"],
            sources: ["Sources"],
            plugins: ["EmbedSQL"]
        ),

        // Hummingbird apps: a middleware that authenticates each request with the configured
        // adapter and hands the handler the caller and the gate.
        .target(
            name: "SMTAHummingbird",
            dependencies: [
                "SMTACore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The bridge server: PostgREST's RPC dialect over the gate, health, webhooks.
        .target(
            name: "SMTABridge",
            dependencies: [
                "SMTACore", "SMTAHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // Local development: a private PostgreSQL cluster (used by `smta dev` and the tests).
        .target(name: "SMTADev", dependencies: ["SMTACore"]),

        // The `smta` command-line tool.
        .executableTarget(
            name: "smta",
            dependencies: [
                "SMTACore", "SMTASupabase", "SMTAPayload", "SMTAOIDC", "SMTABridge", "SMTADev",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),

        // Tests.
        .target(
            name: "SMTATestSupport",
            dependencies: [
                "SMTACore", "SMTADev", "SMTASchema",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SMTATestSupport"
        ),
        .testTarget(
            name: "SMTACoreTests",
            dependencies: [
                "SMTACore", "SMTADev", "SMTASchema", "SMTASupabase", "SMTAPayload", "SMTATestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/SMTACoreTests"
        ),
        .testTarget(
            name: "SupabaseAdapterTests",
            dependencies: [
                "SMTACore", "SMTASupabase", "SMTATestSupport",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SupabaseAdapterTests"
        ),
        .testTarget(
            name: "PayloadAdapterTests",
            dependencies: [
                "SMTACore", "SMTAPayload", "SMTATestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/PayloadAdapterTests"
        ),
        .testTarget(
            name: "OIDCAdapterTests",
            dependencies: [
                "SMTACore", "SMTAOIDC", "SMTATestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/OIDCAdapterTests"
        ),
        .testTarget(
            name: "BridgeTests",
            dependencies: [
                "SMTABridge", "SMTACore", "SMTADev", "SMTASchema", "SMTASupabase", "SMTAPayload", "SMTAOIDC", "SMTATestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            path: "Tests/BridgeTests"
        ),
        .testTarget(
            name: "SMTAHummingbirdTests",
            dependencies: [
                "SMTAHummingbird", "SMTACore", "SMTASchema", "SMTASupabase", "SMTATestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/SMTAHummingbirdTests"
        ),
        .testTarget(
            name: "SchemaTests",
            dependencies: ["SMTACore", "SMTASchema", "SMTASupabase", "SMTAPayload", "SMTAOIDC", "SMTATestSupport"],
            path: "Tests/SchemaTests"
        ),
    ]
)

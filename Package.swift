// swift-tools-version: 6.0
import PackageDescription

// One target per layer, flowing one way:
// C module -> Redis client -> domain core -> store -> worker runtime -> command line -> executable.
// The benchmarks sit apart (Benchmarks/): they import the product, never the reverse, and
// `swift build --product dupwatch` builds none of them.
let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "DupWatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dupwatch", targets: ["dupwatch"]),
        .executable(name: "dupwatch-bench", targets: ["dupwatch-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // hiredis 0.14 from Debian's libhiredis-dev: module map + shim, nothing else. No
        // pkgConfig: hiredis's .pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses with a
        // warning on every build, and the headers are in the default include path anyway.
        .systemLibrary(name: "CHiredis"),
        // zlib from Debian's zlib1g-dev, the same way: `dupwatch import` reads .gz files itself.
        .systemLibrary(name: "CZlib"),
        // Thin, safe Swift layer: owns the redisContext, copies replies into Swift values.
        .target(
            name: "RedisClient",
            dependencies: ["CHiredis"],
            swiftSettings: strictness
        ),
        // Events, validation, rules. No I/O.
        .target(
            name: "DupWatchCore",
            swiftSettings: strictness
        ),
        // Key schema, state loading, atomic batch commits as command values, read model.
        .target(
            name: "DupWatchStore",
            dependencies: [
                "DupWatchCore", "RedisClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness
        ),
        // The consumer-group runtime: read, decide, commit, recover.
        .target(
            name: "DupWatchWorker",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictness
        ),
        // `dupwatch import`: order files (CSV or JSON lines, gzip or plain) streamed into customer
        // state through the worker's own loader, rules, commit and lease.
        .target(
            name: "DupWatchImport",
            dependencies: ["CZlib", "DupWatchCore", "DupWatchStore", "DupWatchWorker", "RedisClient"],
            swiftSettings: strictness
        ),
        // The website's side: the Hummingbird app (API, live alerts, demo page, /metrics,
        // /healthz, /readyz), built by a function that tests call. Never imports the worker.
        .target(
            name: "DupWatchHTTP",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "RedisClient",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: strictness
        ),
        // What both executables parse and print the same way: connection options, log levels,
        // durations, tables, JSON output.
        .target(
            name: "DupWatchCLI",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "RedisClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness
        ),
        .executableTarget(
            name: "dupwatch",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "DupWatchWorker", "RedisClient", "DupWatchCLI", "DupWatchHTTP", "DupWatchImport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictness
        ),

        // MARK: Benchmarks (never part of the product)

        // Seeded workloads, the drain and latency benchmarks, the latency-floor relays, reports.
        .target(
            name: "DupWatchBench",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "RedisClient",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/DupWatchBench",
            swiftSettings: strictness
        ),
        .executableTarget(
            name: "dupwatch-bench",
            dependencies: [
                "DupWatchBench", "DupWatchCore", "DupWatchStore", "RedisClient", "DupWatchCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/dupwatch-bench",
            swiftSettings: strictness
        ),

        // MARK: Tests

        // Starts a throwaway redis-server on a free port in a temp dir; finds built executables.
        .target(
            name: "TestSupport",
            dependencies: ["RedisClient"],
            path: "Tests/TestSupport",
            swiftSettings: strictness
        ),
        .testTarget(
            name: "DupWatchCoreTests",
            dependencies: ["DupWatchCore", "TestSupport"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "TestSupport"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "DupWatchLogicTests",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "DupWatchWorker", "RedisClient", "DupWatchCLI", "DupWatchImport", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "DupWatchIntegrationTests",
            dependencies: [
                "RedisClient", "TestSupport", "DupWatchCore", "DupWatchStore", "DupWatchWorker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictness
        ),
        // SIGKILLed workers and redis-servers against a crash-free run of a seeded workload.
        // The real server (in process, on a real port) against a throwaway redis-server.
        .testTarget(
            name: "DupWatchHTTPTests",
            dependencies: [
                "DupWatchHTTP", "DupWatchCore", "DupWatchStore", "RedisClient", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "DupWatchChaosTests",
            dependencies: ["RedisClient", "TestSupport", "DupWatchBench"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "DupWatchBenchTests",
            dependencies: ["DupWatchBench", "DupWatchCore", "DupWatchStore", "RedisClient", "TestSupport"],
            swiftSettings: strictness
        ),
    ]
)

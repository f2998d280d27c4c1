// swift-tools-version: 6.0
import PackageDescription

// One target per layer: C module -> Redis client -> domain core -> store -> worker runtime -> executable.
let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "DupWatch",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dupwatch", targets: ["dupwatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // hiredis 0.14 from Debian's libhiredis-dev: module map + shim, nothing else.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
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
        // Key schema, state loading, atomic batch commits, read model.
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
            swiftSettings: strictness,
            // jemalloc instead of glibc's malloc (Debian's libjemalloc-dev; redis-server already
            // depends on its libjemalloc2): the worker allocates and frees many small objects per
            // event on two threads, and jemalloc took about 9% off its CPU per event
            // (docs/DESIGN.md, "Performance: where the time goes").
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        // Seeded workloads, the drain and latency benchmarks, and their reports.
        .target(
            name: "DupWatchBench",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "RedisClient",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictness
        ),
        .executableTarget(
            name: "dupwatch",
            dependencies: [
                "DupWatchCore", "DupWatchStore", "DupWatchWorker", "RedisClient", "DupWatchBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictness
        ),
        // Starts a throwaway redis-server on a free port in a temp dir.
        .target(
            name: "TestSupport",
            dependencies: ["RedisClient"],
            path: "Tests/TestSupport",
            swiftSettings: strictness
        ),
        .testTarget(
            name: "DupWatchCoreTests",
            dependencies: ["DupWatchCore"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "TestSupport"],
            swiftSettings: strictness
        ),
        .testTarget(name: "DupWatchLogicTests", dependencies: ["DupWatchCore", "DupWatchStore", "DupWatchWorker", "RedisClient", "DupWatchBench"], swiftSettings: strictness),
        .testTarget(
            name: "DupWatchIntegrationTests",
            dependencies: ["RedisClient", "TestSupport", "DupWatchCore", "DupWatchStore", "DupWatchBench"],
            swiftSettings: strictness
        ),
    ]
)

// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "jiayuan-kiosk",
    platforms: [.macOS(.v14)],
    products: [
        // The kiosk (one per front desk) and the district hub (one or more per district): two programs, two packages.
        .executable(name: "jiayuan", targets: ["jiayuan"]),
        .executable(name: "jiayuan-hub", targets: ["jiayuan-hub"]),
    ],
    dependencies: [
        // Pinned to exact versions: the appliance's order file and memory budget depend on the exact code.
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", exact: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        // The hub's /metrics: Prometheus' text format (it brings swift-metrics and swift-atomics, pinned below).
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        // Not used by our targets directly, but pinned too: everything the build compiles is named here, at one
        // version (Package.resolved stays out of the repository). Raise one on purpose, then regenerate the
        // appliance's order file (kiosk/dev/order-file.sh) and check the memory budget (docs/memory.md).
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-algorithms.git", exact: "1.2.1"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", exact: "1.1.4"),
        .package(url: "https://github.com/apple/swift-atomics.git", exact: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections.git", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", exact: "1.7.3"),
        .package(url: "https://github.com/apple/swift-http-structured-headers.git", exact: "1.7.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", exact: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-transport-services.git", exact: "1.28.0"),
        .package(url: "https://github.com/apple/swift-numerics.git", exact: "1.1.1"),
        .package(url: "https://github.com/apple/swift-service-context.git", exact: "1.5.1"),
        .package(url: "https://github.com/apple/swift-system.git", exact: "1.8.1"),
    ],
    targets: [
        // The target graph and what each target may never import: docs/architecture.md.

        // MARK: Domain: the rules, no I/O.
        // Cards, members, venues, config, the check-in decision.
        .target(name: "JiayuanDomain", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The upload contract shared by the kiosk and the hub: wire events, batches, the chain's rules. No I/O.
        .target(name: "JiayuanWire", dependencies: ["JiayuanDomain", .product(name: "Crypto", package: "swift-crypto")]),

        // MARK: Thin wrappers, one per C library (each hides its pointers behind a Swift API).
        .systemLibrary(name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .target(name: "JiayuanQR", dependencies: ["CQREncode"]),
        // Debian's libcups2-dev ships no cups.pc.
        .systemLibrary(name: "CCUPS", providers: [.apt(["libcups2-dev"])]),
        .target(name: "JiayuanCUPS", dependencies: ["CCUPS"]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "JiayuanGzip", dependencies: ["CZlib"]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "JiayuanHTTP", dependencies: ["CCurl"]),
        // The hub's only: the kiosk never links libpq.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "JiayuanPostgres", dependencies: ["CLibPQ"]),
        // systemd's sd_notify (READY, WATCHDOG, STOPPING) without libsystemd: one datagram; the kiosk and the hub.
        .target(name: "JiayuanSystemd"),
        // Starting programs with posix_spawn (Foundation's Process.run can crash on Linux with many descriptors open).
        .target(name: "JiayuanProcess"),

        // MARK: The kiosk's parts.
        // The kiosk's SQLite database (GRDB, WAL, migrations, the attendance log); the only target that sees GRDB's writer.
        .target(
            name: "JiayuanStore",
            dependencies: ["JiayuanDomain", "JiayuanWire", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Printing: documents, text layout, ESC/POS, the HTML preview, the durable spooler to CUPS or files.
        .target(name: "JiayuanPrinting", dependencies: ["JiayuanDomain", "JiayuanStore", "JiayuanQR", "JiayuanCUPS"]),
        // Scanners: evdev (exclusive grab), serial, stdin, FIFO; their decoders.
        .target(name: "JiayuanScanning"),
        // The kiosk's side of the upload: one runner for the command and the service.
        .target(name: "JiayuanSync", dependencies: ["JiayuanDomain", "JiayuanWire", "JiayuanStore", "JiayuanGzip", "JiayuanHTTP"]),
        // The application services: data directory, check-in, members, staff, reports, doctor, backup, set-up.
        .target(
            name: "JiayuanKiosk",
            dependencies: [
                "JiayuanDomain", "JiayuanStore", "JiayuanPrinting", "JiayuanCUPS", "JiayuanScanning", "JiayuanSync",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The running kiosk: the resident door, the staff console's door, and the services beside them.
        .target(
            name: "JiayuanWeb",
            dependencies: [
                "JiayuanDomain", "JiayuanStore", "JiayuanKiosk", "JiayuanCUPS", "JiayuanScanning", "JiayuanPrinting", "JiayuanSync",
                "JiayuanSystemd", "JiayuanProcess",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Benchmarks (jiayuan bench …), linked only by the executables.
        .target(
            name: "JiayuanBench",
            dependencies: [
                "JiayuanDomain", "JiayuanStore", "JiayuanKiosk", "JiayuanWeb", "JiayuanPrinting", "JiayuanCUPS", "JiayuanProcess",
                // Only for the bare-SQLite baseline the check-in bench measures the kiosk against.
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),

        // MARK: The district hub.
        .target(
            name: "JiayuanHub",
            dependencies: [
                "JiayuanDomain", "JiayuanWire", "JiayuanGzip", "JiayuanPostgres", "JiayuanSystemd",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // MARK: The thin command lines.
        .executableTarget(
            name: "jiayuan",
            dependencies: [
                "JiayuanDomain", "JiayuanStore", "JiayuanKiosk", "JiayuanCUPS", "JiayuanPrinting", "JiayuanSync", "JiayuanWeb",
                "JiayuanBench", "JiayuanProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The hub's program; its `bench upload` drives a kiosk's uploader against it, hence the kiosk targets.
        .executableTarget(
            name: "jiayuan-hub",
            dependencies: [
                "JiayuanDomain", "JiayuanWire", "JiayuanHub", "JiayuanHTTP", "JiayuanStore", "JiayuanKiosk", "JiayuanSync", "JiayuanBench",
                "JiayuanGzip", "JiayuanProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libFuzzer targets for every parser fed from outside (docs/fuzzing.md). kiosk/fuzz.sh builds them with
        // -sanitize=fuzzer,address -DJIAYUAN_FUZZ; a normal build makes a tool that replays inputs through them.
        .executableTarget(
            name: "jiayuan-fuzz",
            dependencies: [
                "JiayuanDomain", "JiayuanWire", "JiayuanScanning", "JiayuanGzip", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/Fuzz/Sources"
        ),

        // MARK: Tests.
        .target(
            name: "JiayuanTestSupport",
            dependencies: ["JiayuanDomain", "JiayuanStore", "JiayuanKiosk", "JiayuanPrinting", "JiayuanBench", "JiayuanProcess"],
            path: "Tests/JiayuanTestSupport"
        ),
        .testTarget(
            name: "JiayuanDomainTests",
            dependencies: [
                "JiayuanDomain", "JiayuanWire", "JiayuanTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "JiayuanStoreTests",
            dependencies: ["JiayuanStore", "JiayuanTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "JiayuanKioskTests", dependencies: ["JiayuanKiosk", "JiayuanQR", "JiayuanTestSupport"]),
        // Checks Package.resolved against the pins above. It names one product of each package that only our
        // dependencies use, so SwiftPM counts every pinned package as used (no "not used by any target").
        .testTarget(
            name: "JiayuanPinTests",
            dependencies: [
                "JiayuanTestSupport",
                .product(name: "Algorithms", package: "swift-algorithms"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "StructuredFieldValues", package: "swift-http-structured-headers"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOTransportServices", package: "swift-nio-transport-services"),
                .product(name: "RealModule", package: "swift-numerics"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(name: "JiayuanCLITests", dependencies: ["JiayuanTestSupport", "JiayuanKiosk", "JiayuanHub"]),
        .testTarget(
            name: "JiayuanPrintingTests",
            dependencies: ["JiayuanKiosk", "JiayuanCUPS", "JiayuanPrinting", "JiayuanQR", "JiayuanTestSupport"]
        ),
        .testTarget(name: "JiayuanCUPSTests", dependencies: ["JiayuanCUPS", "JiayuanTestSupport"]),
        .testTarget(name: "JiayuanScanningTests", dependencies: ["JiayuanScanning"]),
        .testTarget(
            name: "JiayuanWebTests",
            dependencies: [
                "JiayuanWeb", "JiayuanKiosk", "JiayuanStore", "JiayuanDomain", "JiayuanTestSupport", "JiayuanHTTP", "JiayuanCUPS",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "JiayuanPostgresTests", dependencies: ["JiayuanPostgres", "JiayuanTestSupport"]),
        .testTarget(name: "JiayuanWireTests", dependencies: ["JiayuanDomain", "JiayuanWire", "JiayuanGzip", "JiayuanTestSupport"]),
        .testTarget(
            name: "JiayuanSyncTests",
            dependencies: [
                "JiayuanHub", "JiayuanKiosk", "JiayuanSync", "JiayuanStore", "JiayuanDomain", "JiayuanWire", "JiayuanHTTP", "JiayuanGzip",
                "JiayuanBench", "JiayuanTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ]
)

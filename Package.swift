// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "jiayuan-kiosk",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "jiayuan", targets: ["jiayuan"])
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
    ],
    targets: [
        // Pure domain: cards, members, venues, config, the check-in decision. No I/O.
        .target(
            name: "JiayuanDomain",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // libqrencode, wrapped by exactly one Swift target (JiayuanQR).
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        .target(name: "JiayuanQR", dependencies: ["CQREncode"]),
        // libcups (Debian's libcups2-dev ships no cups.pc), wrapped by exactly one Swift target (JiayuanCUPS).
        .systemLibrary(name: "CCUPS", providers: [.apt(["libcups2-dev"])]),
        .target(name: "JiayuanCUPS", dependencies: ["CCUPS"]),
        // zlib (gzip upload bodies), wrapped by exactly one Swift target (JiayuanGzip).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "JiayuanGzip", dependencies: ["CZlib"]),
        // libcurl (HTTP and HTTPS to the hub), wrapped by exactly one Swift target (JiayuanHTTP).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "JiayuanHTTP", dependencies: ["CCurl"]),
        // libpq (the hub on PostgreSQL), wrapped by exactly one Swift target (JiayuanPostgres).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "JiayuanPostgres", dependencies: ["CLibPQ"]),
        // The district hub: receiver, stores (SQLite, PostgreSQL), figures.
        .target(
            name: "JiayuanHub",
            dependencies: [
                "JiayuanDomain", "JiayuanGzip", "JiayuanPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Printing: the document model, ESC/POS and HTML preview.
        .target(name: "JiayuanPrint", dependencies: ["JiayuanQR", "JiayuanDomain"]),
        // Scanner sources: evdev (exclusive grab), serial, stdin, FIFO.
        .target(name: "JiayuanScanner"),
        // The kiosk web app and its services (Hummingbird, swift-service-lifecycle).
        .target(
            name: "JiayuanServer",
            dependencies: [
                "JiayuanDomain", "JiayuanStore", "JiayuanKit", "JiayuanCUPS", "JiayuanScanner", "JiayuanPrint",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Storage: GRDB, WAL, migrations, the attendance log.
        .target(
            name: "JiayuanStore",
            dependencies: ["JiayuanDomain", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Application services: data directory, check-in service, members, reports, demo, bench.
        .target(
            name: "JiayuanKit",
            dependencies: [
                "JiayuanDomain", "JiayuanStore", "JiayuanQR", "JiayuanPrint", "JiayuanCUPS", "JiayuanGzip", "JiayuanHTTP",
                "JiayuanScanner",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The thin command-line executable.
        .executableTarget(
            name: "jiayuan",
            dependencies: [
                "JiayuanKit", "JiayuanCUPS", "JiayuanPrint", "JiayuanServer", "JiayuanHub", "JiayuanHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libFuzzer targets for every parser fed from outside (docs/fuzzing.md). kiosk/fuzz.sh builds them with
        // -sanitize=fuzzer,address -DJIAYUAN_FUZZ; a normal build makes a tool that replays inputs through them.
        .executableTarget(
            name: "jiayuan-fuzz",
            dependencies: ["JiayuanDomain", "JiayuanScanner", "JiayuanGzip", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/Fuzz/Sources"
        ),
        // Test helpers.
        .target(
            name: "JiayuanTestSupport",
            dependencies: ["JiayuanDomain", "JiayuanStore", "JiayuanKit", "JiayuanPrint"],
            path: "Tests/JiayuanTestSupport"
        ),
        .testTarget(
            name: "JiayuanDomainTests",
            dependencies: [
                "JiayuanDomain", "JiayuanTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "JiayuanStoreTests", dependencies: ["JiayuanStore", "JiayuanTestSupport"]),
        .testTarget(name: "JiayuanKitTests", dependencies: ["JiayuanKit", "JiayuanQR", "JiayuanTestSupport"]),
        .testTarget(name: "JiayuanCLITests", dependencies: ["JiayuanTestSupport", "JiayuanKit"]),
        .testTarget(name: "JiayuanPrintTests", dependencies: ["JiayuanPrint", "JiayuanQR", "JiayuanTestSupport"]),
        .testTarget(name: "JiayuanCUPSTests", dependencies: ["JiayuanCUPS", "JiayuanTestSupport"]),
        .testTarget(name: "JiayuanScannerTests", dependencies: ["JiayuanScanner"]),
        .testTarget(
            name: "JiayuanServerTests",
            dependencies: [
                "JiayuanServer", "JiayuanKit", "JiayuanStore", "JiayuanDomain", "JiayuanTestSupport", "JiayuanHTTP",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "JiayuanPostgresTests", dependencies: ["JiayuanPostgres", "JiayuanTestSupport"]),
        .testTarget(name: "JiayuanWireTests", dependencies: ["JiayuanDomain", "JiayuanGzip", "JiayuanTestSupport"]),
        .testTarget(
            name: "JiayuanUploadTests",
            dependencies: [
                "JiayuanHub", "JiayuanKit", "JiayuanStore", "JiayuanDomain", "JiayuanHTTP", "JiayuanGzip", "JiayuanTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(name: "JiayuanPrintingTests", dependencies: ["JiayuanKit", "JiayuanCUPS", "JiayuanPrint", "JiayuanTestSupport"]),
    ]
)

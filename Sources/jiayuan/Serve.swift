import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore
import JiayuanWeb
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan serve`: the long-running kiosk. It only reads the configuration and builds the application.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the kiosk: resident screen and API, scanners, print spooler, closing sweep (SIGTERM stops it gracefully).")
    @OptionGroup var data: DataOption
    @Option(help: "The resident screen's address: this machine only (default from jiayuan.toml, else 127.0.0.1).") var host: String?
    @Option(help: "The resident screen's port (default from jiayuan.toml, else 8080).") var port: Int?
    @Option(help: "The staff console's address (default [console] host, else 127.0.0.1; HTTPS only off loopback).") var consoleHost: String?
    @Option(help: "The staff console's port (default [console] port, else 8443).") var consolePort: Int?
    @Option(help: "The screen's files (default: installed or source-tree assets/).") var assets: String?
    @Flag(help: "Do not start the configured scanners.") var noScanners = false

    func validate() throws {
        if let host, let problem = KioskConfig.residentHostProblem(host) { throw ValidationError(problem) }
        if let consolePort, !(0...65535).contains(consolePort) {
            throw ValidationError("--console-port is a port number (0: any free port)")
        }
    }

    func run() async throws {
        // A small appliance: a couple of malloc arenas instead of one per thread keeps the resident memory low.
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        var logger = Logger(label: "jiayuan")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let kiosk = try data.open()
        // One kiosk process per data directory; `restore` waits for it to stop.
        let lock = try ServeLock.acquire(data.directory)
        defer { lock.release() }
        let assetsPath = assets ?? ServeOptions.defaultAssetsPath()
        let console = ConsoleOptions(
            host: consoleHost ?? kiosk.config.console.host, port: consolePort ?? kiosk.config.console.port, assetsPath: assetsPath)
        let options = ServeOptions(
            host: host ?? kiosk.config.host, port: port ?? kiosk.config.port, assetsPath: assetsPath, scanners: !noScanners,
            console: console)
        if kiosk.config.demo, (try? kiosk.database.staffCredentials(name: DemoData.staffName)) != nil {
            let scheme = console.requiresTLS ? "https" : "http"
            let shown = console.host == "0.0.0.0" || console.host == "::" ? "THIS-PC" : console.host
            print(
                "Staff console: \(scheme)://\(shown):\(console.port)/staff/login — demo account \(DemoData.staffName), PIN \(DemoData.staffPIN)"
            )
        }
        let app = try buildApplication(kiosk: kiosk, options: options, logger: logger)
        try await app.runService()
    }
}

/// glibc's `mallopt` (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

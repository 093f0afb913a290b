import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanSync
import Logging
import ServiceLifecycle

/// How `jiayuan serve` runs.
public struct ServeOptions: Sendable {
    public var host: String
    public var port: Int
    /// The folder with index.html, app.js, app.css, sounds/.
    public var assetsPath: String
    /// Start the scanners of the config (tests may turn them off).
    public var scanners: Bool = true
    /// The staff console's own door; nil: no console (a test of the resident door alone).
    public var console: ConsoleOptions?

    /// Creates options.
    public init(host: String, port: Int, assetsPath: String, scanners: Bool = true, console: ConsoleOptions? = nil) {
        self.host = host
        self.port = port
        self.assetsPath = assetsPath
        self.scanners = scanners
        self.console = console
    }

    /// The assets folder: `$JIAYUAN_ASSETS`, an installed copy, or the one in this source tree.
    public static func defaultAssetsPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var candidates: [String] = []
        if let env = environment["JIAYUAN_ASSETS"], !env.isEmpty { candidates.append(env) }
        candidates.append("/usr/share/jiayuan/assets")
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("../../../assets").standardized.path)
        candidates.append(FileManager.default.currentDirectoryPath + "/assets")
        var source = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { source.deleteLastPathComponent() }
        candidates.append(source.path + "/assets")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") } ?? candidates.last!
    }
}

/// Builds the kiosk application: routes in controllers, and every long-running part (scanner readers,
/// print spooler, closing sweep, systemd watchdog) as a service of the same group, stopped gracefully on
/// SIGTERM.
public func buildApplication(kiosk: Kiosk, options: ServeOptions, logger: Logger) throws -> some ApplicationProtocol {
    // The resident door serves unauthenticated check-ins and the screen's stream: this machine only.
    if let problem = KioskConfig.residentHostProblem(options.host) { throw KioskError(problem) }
    let events = KioskEvents()
    let service = try CheckInService(kiosk: kiosk)
    let voice = VoiceCache(directory: kiosk.data.path + "/voice")
    let coordinator = ScanCoordinator(kiosk: kiosk, service: service, events: events, voice: voice, logger: logger)
    let registry = ScannerRegistry()
    let router = buildRouter(kiosk: kiosk, options: options, coordinator: coordinator, events: events, voice: voice, registry: registry)

    // Issue 13: the door's caps (ConnectionLimits.swift); the watchdog probes the door itself.
    let door = ConnectionGuard(limits: .door(), logger: logger)
    var services: [any Service] = [
        SpoolerService(printing: PrintService(kiosk: kiosk), logger: logger),
        SweepService(kiosk: kiosk, coordinator: coordinator, logger: logger),
        WatchdogService(kiosk: kiosk, coordinator: coordinator, logger: logger, door: door),
    ]
    if kiosk.config.upload.hub != nil {
        do {
            services.append(
                UploadService(uploader: Uploader(kiosk: kiosk, settings: try UploadSettings(config: kiosk.config.upload)), logger: logger))
        } catch {
            logger.error("uploads are off", metadata: ["error": "\(KioskError.describe(error))"])
        }
    }
    if let console = options.console {
        services.append(
            try buildConsole(
                kiosk: kiosk, options: console, reader: coordinator.service.reader, desk: StaffDesk(service: coordinator.service),
                logger: logger))
    }
    if options.scanners {
        for scanner in kiosk.config.scanners {
            services.append(
                ScannerService(config: scanner, dataPath: kiosk.data.path, coordinator: coordinator, registry: registry, logger: logger))
        }
    }
    return Application(
        router: router,
        server: door.server,
        configuration: door.configuration(address: .hostname(options.host, port: options.port), serverName: "jiayuan"),
        services: services,
        onServerRunning: { channel in
            door.listening(on: channel)
            logger.notice("kiosk screen ready", metadata: ["http.address": "\(channel.localAddress?.description ?? "?")"])
            WatchdogService.notify(ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], "READY=1\nSTATUS=serving")
        },
        logger: logger)
}

/// The routes, for the application and for route tests.
public func buildRouter(
    kiosk: Kiosk, options: ServeOptions, coordinator: ScanCoordinator, events: KioskEvents, voice: VoiceCache?, registry: ScannerRegistry
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: FileMiddleware(options.assetsPath, urlBasePath: "/assets", searchForIndexHtml: false))
    router.get("/") { _, _ -> Response in
        guard let html = FileManager.default.contents(atPath: options.assetsPath + "/index.html") else {
            return errorResponse("the screen's files are missing (\(options.assetsPath))", status: .internalServerError)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: html)))
    }
    APIController(kiosk: kiosk, coordinator: coordinator, events: events, voice: voice, scanners: registry).addRoutes(to: router)
    HealthController(kiosk: kiosk, coordinator: coordinator, scanners: registry).addRoutes(to: router)
    return router
}

import Foundation
import Hummingbird
import HummingbirdTLS
import JiayuanDomain
import JiayuanKiosk
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The staff console's door: its own listener (`[console] host`/`port`), plain HTTP on loopback and HTTPS
/// only anywhere else. The resident screen's door never serves `/staff`.
public struct ConsoleOptions: Sendable {
    public var host: String
    public var port: Int
    /// The folder with `console/templates` and `console/static`.
    public var assetsPath: String

    /// Options.
    public init(host: String, port: Int, assetsPath: String) {
        self.host = host
        self.port = port
        self.assetsPath = assetsPath
    }

    /// Whether this listener must speak HTTPS (anywhere but loopback).
    public var requiresTLS: Bool { !KioskConfig.isLoopbackHost(host) }
}

/// The console's routes: log-in and the static files in the open, everything else behind the session
/// middleware and the form-token middleware, every error a page in plain words.
func buildConsoleRouter(kiosk: Kiosk, options: ConsoleOptions, reader: ScanReader, desk: StaffDesk, logger: Logger) -> Router<
    ConsoleContext
> {
    let env = ConsoleEnvironment(
        kiosk: kiosk, auth: StaffAuth(database: kiosk.database, clock: kiosk.clock), desk: desk, reader: reader,
        views: ConsoleViews(directory: options.assetsPath + "/console/templates"), logger: logger, secure: options.requiresTLS,
        throttle: NIOLockedValueBox(SignInThrottle()))
    let router = Router(context: ConsoleContext.self)
    router.add(middleware: ConsoleErrorMiddleware(env: env))
    router.add(middleware: FileMiddleware(options.assetsPath + "/console/static", urlBasePath: "/staff/static", searchForIndexHtml: false))
    router.get("/") { _, _ in env.redirect("/staff") }
    let staff = router.group("staff")
    SignInController(env: env).addRoutes(to: staff)
    let signedIn = staff.group().add(middleware: SessionMiddleware(env: env)).add(middleware: CSRFMiddleware())
    SignInController(env: env).addSessionRoutes(to: signedIn)
    FloorController(env: env).addRoutes(to: signedIn)
    MembersController(env: env).addRoutes(to: signedIn)
    SlipsController(env: env).addRoutes(to: signedIn)
    FiguresController(env: env).addRoutes(to: signedIn)
    AuditController(env: env).addRoutes(to: signedIn)
    return router
}

/// Why the console's door cannot open, as cases a caller can switch on.
public enum ConsoleDoorError: Error, CustomStringConvertible {
    /// The certificate or key cannot be read or used.
    case certificate(String)

    public var description: String {
        switch self {
        case .certificate(let why): "the staff console cannot start HTTPS: \(why)"
        }
    }
}

/// The TLS configuration of the console on a non-loopback address: TLS 1.2 or newer, the configured
/// certificate or the kiosk's own (made now, with a line in the log, when a data directory from before the
/// console had its own door has none).
func consoleTLS(kiosk: Kiosk, logger: Logger) throws -> TLSConfiguration {
    let certificate = ConsoleCertificate(data: kiosk.data, config: kiosk.config.console)
    if !certificate.exists, kiosk.config.console.tlsCert == nil {
        do {
            let fingerprint = try certificate.create(
                hostNames: ConsoleCertificate.hostNames(console: kiosk.config.console),
                addresses: ConsoleCertificate.addresses(console: kiosk.config.console))
            logger.notice(
                "made the staff console's self-signed certificate",
                metadata: ["console.certificate": "\(certificate.certificatePath)", "console.sha256": "\(fingerprint)"])
        } catch {
            throw ConsoleDoorError.certificate("\(error)")
        }
    }
    do {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: certificate.keyPath, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        return tls
    } catch {
        throw ConsoleDoorError.certificate("cannot read \(certificate.certificatePath) and \(certificate.keyPath) (\(error))")
    }
}

/// The console's application on its own listener, as a service of the kiosk's group.
func buildConsole(
    kiosk: Kiosk, options: ConsoleOptions, reader: ScanReader, desk: StaffDesk, logger: Logger
) throws -> any Service {
    let router = buildConsoleRouter(kiosk: kiosk, options: options, reader: reader, desk: desk, logger: logger)
    // The same caps as the resident door (issue 13): connections from the descriptor limit, 10 s to send a
    // request, the longest-idle connection closed first.
    let door = ConnectionGuard(limits: .door(), logger: logger)
    let configuration = door.configuration(address: .hostname(options.host, port: options.port), serverName: "jiayuan-console")
    let scheme = options.requiresTLS ? "https" : "http"
    let ready: @Sendable (any Channel) async -> Void = { channel in
        door.listening(on: channel)
        logger.notice("staff console ready", metadata: ["http.address": "\(scheme)://\(channel.localAddress?.description ?? "?")"])
    }
    if options.requiresTLS {
        let tls = try consoleTLS(kiosk: kiosk, logger: logger)
        return Application(
            router: router, server: try .tls(.http1(configuration: door.http1Configuration), tlsConfiguration: tls),
            configuration: configuration,
            onServerRunning: ready, logger: logger)
    }
    return Application(router: router, server: door.server, configuration: configuration, onServerRunning: ready, logger: logger)
}

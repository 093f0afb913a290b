import Foundation
import JiayuanSystemd
import Logging
import ServiceLifecycle

/// `jiayuan-hub serve` under systemd (`Type=notify`): `WATCHDOG=1` every half `$WATCHDOG_USEC` while the
/// database answers a trivial query through the store (run off the cooperative pool), so systemd restarts
/// a hub that lost its database for longer than `WatchdogSec`; `STOPPING=1` as soon as shutdown begins.
/// `READY=1` is sent by ``buildHubApplication(store:options:logger:)`` once the server listens.
public struct HubWatchdogService: Service, CustomStringConvertible {
    public var description: String { "systemd watchdog" }
    let store: any HubStore
    let logger: Logger
    let socketPath: String?
    let interval: Double
    let watchdog: Bool

    /// A watchdog over `store`, configured from `environment` (`NOTIFY_SOCKET`, `WATCHDOG_USEC`).
    public init(store: any HubStore, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.store = store
        self.logger = logger
        socketPath = SystemdNotify.socketPath(environment)
        interval = SystemdNotify.watchdogInterval(environment)
        watchdog = environment["WATCHDOG_USEC"].flatMap { Int($0) }.map { $0 > 0 } ?? false
    }

    public func run() async throws {
        if socketPath != nil, watchdog {
            try? await cancelWhenGracefulShutdown { try await loop() }
        } else {
            try? await gracefulShutdown()
        }
        SystemdNotify.send(socketPath, "STOPPING=1")
    }

    func loop() async throws {
        let store = self.store
        var answering = true
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await onLane { try store.ping() }
                if !answering { logger.notice("the database answers again; watchdog pings resumed") }
                answering = true
                SystemdNotify.send(socketPath, "WATCHDOG=1")
            } catch {
                // No pings: systemd restarts the hub if the database stays away longer than WatchdogSec.
                if answering {
                    logger.error("the database does not answer; watchdog pings stopped", metadata: ["error": "\(error)"])
                }
                answering = false
            }
            try await Task.sleep(until: started + .seconds(interval))
        }
    }
}

/// Runs the hub until SIGTERM or SIGINT: the HTTP server and the systemd watchdog in one service group.
/// The watchdog is shut down first (services stop in reverse order), so systemd hears `STOPPING=1` before
/// the server finishes the requests in flight.
public func runHub(store: any HubStore, options: HubOptions, logger: Logger) async throws {
    let app = buildHubApplication(store: store, options: options, logger: logger)
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: app), .init(service: HubWatchdogService(store: store, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

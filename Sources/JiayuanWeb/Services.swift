import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanScanning
import JiayuanStore
import JiayuanSync
import JiayuanSystemd
import JiayuanWire
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// What each scanner is doing, for `/healthz`.
public actor ScannerRegistry {
    private var states: [String: [String: String]] = [:]

    /// An empty registry.
    public init() {}

    func set(_ name: String, source: String, venue: String?, state: String) {
        states[name] = ["name": name, "source": source, "venue": venue ?? "", "state": state]
    }

    func snapshot() -> [[String: String]] { states.keys.sorted().map { states[$0]! } }
}

/// Reads one scanner and hands each code to the coordinator.
struct ScannerService: Service, CustomStringConvertible {
    var description: String { "scanner \(config.name)" }
    let config: ScannerConfig
    let dataPath: String
    let coordinator: ScanCoordinator
    let registry: ScannerRegistry
    let logger: Logger

    func run() async throws {
        let source: ScannerSource
        do {
            source = try ScannerSource(parsing: config.source, baud: config.baud).resolved(relativeTo: dataPath)
        } catch {
            logger.error("scanner not started", metadata: ["scan.scanner": "\(config.name)", "error": "\(error)"])
            await registry.set(config.name, source: config.source, venue: config.venue, state: "error: \(error)")
            try await gracefulShutdown()
            return
        }
        await registry.set(config.name, source: config.source, venue: config.venue, state: "reading")
        let log = logger
        let name = config.name
        let reader = ScannerReader(source: source, gapTimeout: 0.1) { line in log.notice("\(line)", metadata: ["scan.scanner": "\(name)"]) }
        // Cancelling the loop on shutdown ends the stream, which stops the reader's thread.
        await cancelWhenGracefulShutdown {
            for await input in reader.inputs() {
                switch input {
                case .code(let code): await coordinator.scan(code, scanner: config.name, venue: config.venue)
                case .junk(let reason): await coordinator.junk(reason: reason, scanner: config.name)
                }
            }
        }
        await registry.set(config.name, source: config.source, venue: config.venue, state: "stopped")
        logger.debug("scanner service stopped", metadata: ["scan.scanner": "\(config.name)"])
        // A source that ended (stdin at end of input) must not stop the kiosk: wait for the real shutdown.
        try? await gracefulShutdown()
    }
}

/// Sends queued print jobs every second (and follows CUPS jobs), off the cooperative pool.
struct SpoolerService: Service, CustomStringConvertible {
    var description: String { "print spooler" }
    let printing: PrintService
    let logger: Logger

    func run() async throws {
        let printing = self.printing
        // Cancelled on shutdown between passes; every job's state is already on disk.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let report = try await offload(on: Lane.printing) { try printing.spoolNow() }
                    for queue in report.resumed {
                        logger.notice("the printer queue was stopped; started it again", metadata: ["print.queue": "\(queue)"])
                    }
                    for (queue, why) in report.resumeFailed {
                        logger.warning(
                            "the printer queue is stopped and could not be started again",
                            metadata: ["print.queue": "\(queue)", "error": "\(why)"])
                    }
                } catch {
                    logger.warning("print spooler pass failed", metadata: ["error": "\(KioskError.describe(error))"])
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Uploads the attendance log to the hub: batches back to back while there is a backlog, a look every
/// `interval` when there is none, exponential back-off with jitter after a failure, and a stop (with a
/// staff alert, raised by the uploader) when the hub refuses the chain.
struct UploadService: Service, CustomStringConvertible {
    var description: String { "uploader" }
    let uploader: Uploader
    let logger: Logger

    func run() async throws {
        let runner = UploadRunner(uploader: uploader)
        let logger = self.logger
        try? await cancelWhenGracefulShutdown {
            _ = try await runner.run(.continuous(interval: uploader.settings.interval, stoppedPause: .seconds(60))) { progress in
                switch progress {
                case .sent(let count, let through):
                    logger.debug("upload batch acknowledged", metadata: ["upload.count": "\(count)", "upload.through": "\(through)"])
                case .rewound(let expected):
                    logger.notice("the hub asked for a resend", metadata: ["upload.expected_seq": "\(expected)"])
                case .stopped(let seq):
                    logger.error("uploads stopped: the hub refused the chain", metadata: ["upload.seq": "\(seq)"])
                case .failed(let message, let wait):
                    logger.warning("upload failed", metadata: ["error": "\(message)", "upload.retry_seconds": "\(Int(wait))"])
                case .busy(let wait):
                    logger.info("the hub is busy", metadata: ["upload.retry_seconds": "\(Int(wait))"])
                }
            }
        }
    }
}

/// Runs the closing-time sweep every minute.
struct SweepService: Service, CustomStringConvertible {
    var description: String { "closing sweep" }
    let kiosk: Kiosk
    let coordinator: ScanCoordinator
    let logger: Logger

    func run() async throws {
        let kiosk = self.kiosk
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let result = try await offload {
                        var rng = SystemRandomNumberGenerator()
                        return try kiosk.database.sweep(venues: kiosk.config.venues, at: kiosk.clock(), engine: kiosk.engine, rng: &rng)
                    }
                    if !result.checkedOut.isEmpty || !result.alerts.isEmpty {
                        logger.notice(
                            "closing sweep",
                            metadata: ["sweep.checkouts": "\(result.checkedOut.count)", "sweep.alerts": "\(result.alerts.count)"])
                        await coordinator.publishOccupancy()
                    }
                } catch {
                    logger.warning("closing sweep failed", metadata: ["error": "\(KioskError.describe(error))"])
                }
                try await Task.sleep(for: .seconds(60))
            }
        }
    }
}

/// Talks to systemd: `WATCHDOG=1` while the database takes writes and the kiosk answers a request through
/// its own door (`door`: a real loopback request to `ListenerProbe.path`, so a listener wedged by a flood of
/// connections stops the pings and systemd restarts the kiosk). `READY=1` is sent when the HTTP server is
/// listening, from `buildApplication` (a datagram to `$NOTIFY_SOCKET`; no libsystemd needed).
struct WatchdogService: Service, CustomStringConvertible {
    var description: String { "systemd watchdog" }
    let kiosk: Kiosk
    let coordinator: ScanCoordinator
    let logger: Logger
    let socketPath: String?
    let interval: Double
    /// The listener that must answer (nil: not probed).
    let door: ConnectionGuard?

    init(
        kiosk: Kiosk, coordinator: ScanCoordinator, logger: Logger, door: ConnectionGuard? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.kiosk = kiosk
        self.coordinator = coordinator
        self.logger = logger
        self.door = door
        socketPath = SystemdNotify.socketPath(environment)
        interval = SystemdNotify.watchdogInterval(environment)
    }

    /// Whether the door answers a request within one interval (true before it listens: it is starting).
    func doorAnswers() async -> Bool {
        guard let door, let address = door.address else { return true }
        let timeout = interval
        return (try? await offload(on: Lane.watchdog) { ListenerProbe.answers(address, timeout: timeout) }) ?? false
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await loop() }
        Self.notify(socketPath, "STOPPING=1")
    }

    func loop() async throws {
        let kiosk = self.kiosk
        while !Task.isCancelled {
            let started = ContinuousClock.now
            // No door, no pings: a kiosk that cannot answer its screen is restarted whatever its database says.
            guard await doorAnswers() else {
                logger.error("the kiosk's own door does not answer; watchdog pings stopped")
                try await Task.sleep(until: started + .seconds(interval))
                continue
            }
            do {
                // A write, not a read: a read-only or broken database must stop the pings. SQLite can still
                // write into a reused WAL on a full disk, so the free space is checked too.
                try Self.checkFreeSpace(kiosk.data.path)
                try await offload { try kiosk.database.heartbeat(at: kiosk.clock()) }
                await coordinator.setInService()
                Self.notify(socketPath, "WATCHDOG=1")
            } catch {
                await coordinator.probeFailed(error)
                if case .diskFull? = error as? StorageFailure {
                    // A full disk is not cured by a restart: stay up, out of service (DISK-1 on the screen),
                    // and keep telling systemd the process itself is fine.
                    logger.error(
                        "the disk is full; out of service until space returns", metadata: ["error": "\(KioskError.describe(error))"])
                    Self.notify(socketPath, "WATCHDOG=1")
                } else {
                    // Stop pinging: systemd restarts a kiosk whose database no longer answers.
                    logger.error("database does not answer; watchdog pings stopped", metadata: ["error": "\(KioskError.describe(error))"])
                }
            }
            try await Task.sleep(until: started + .seconds(interval))
        }
    }

    /// Below this much free space a check-in may fail half-way through its transaction: stop taking them.
    static let minimumFreeBytes: Int64 = 1 << 20

    /// Throws `StorageFailure.diskFull` when the data directory's file system has less than `minimumFreeBytes`.
    static func checkFreeSpace(_ path: String) throws(StorageFailure) {
        guard let free = DataDirectory.freeBytes(path) else { return }
        if free < minimumFreeBytes { throw .diskFull }
    }

    /// Sends one sd_notify datagram (`SystemdNotify`, shared with the hub).
    static func notify(_ path: String?, _ message: String) { SystemdNotify.send(path, message) }
}

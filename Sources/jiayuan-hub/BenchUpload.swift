import ArgumentParser
import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanHTTP
import JiayuanHub
import JiayuanKiosk
import JiayuanProcess
import JiayuanStore
import JiayuanSync

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan-hub bench upload`: a large backlog uploaded from a kiosk to a local hub process, beside the same
/// rows bulk-loaded straight into the hub's database in the same run.
struct BenchUpload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Backlog upload kiosk → local hub (SQLite, and PostgreSQL with --postgres) vs a bulk load of the same rows.")
    @Option(help: "Events in the backlog.") var events = 1_000_000
    @Option(help: "Events per batch.") var batch = 500
    @Option(help: "A PostgreSQL database to measure too (its hub tables are dropped and made anew).") var postgres: String?
    @Option(help: "Directory for the kiosk and hub files (default: a new temporary one).") var dir: String?

    func run() throws {
        let root = dir ?? NSTemporaryDirectory() + "jiayuan-bench-upload-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: root) } }
        let kioskData = DataDirectory(path: root + "/kiosk")
        var rng = SystemRandomNumberGenerator()
        let setup = try kioskData.initialize(kioskID: "bench-kiosk", keyID: 1, demo: false, now: Date(), rng: &rng)
        let database = try kioskData.openDatabase()
        let clock = ContinuousClock()
        let fill = try clock.measure { try SyntheticLog.append(to: database, count: events, venues: setup.config.venues.map(\.id)) }
        print("bench upload: \(events) events, batches of \(batch), gzip, over loopback HTTP to a `jiayuan-hub serve` process")
        print(String(format: "  backlog written in %.1f s", fill.seconds))
        let rows = try database.wireEvents(after: 0, limit: events)

        var stores: [(String, String?)] = [("sqlite", nil)]
        if let postgres { stores.append(("postgresql", postgres)) }
        for (name, url) in stores {
            // The baseline: the same rows straight into a fresh hub database.
            let baselineStore = try freshStore(name: name, url: url, path: root + "/baseline-\(name)")
            try baselineStore.addKiosk(
                id: "bench-kiosk", centre: setup.config.centreID, tokenHash: HubToken.hash("x"), replace: false, at: Date())
            let bulk = try clock.measure { try baselineStore.bulkLoad(kiosk: "bench-kiosk", events: rows, at: Date()) }

            // The real path: a hub process, the kiosk's uploader.
            let hubDir = root + "/hub-\(name)"
            let store = try freshStore(name: name, url: url, path: hubDir + "/hub.sqlite")
            var tokenRNG = SystemRandomNumberGenerator()
            let token = HubToken.generate(using: &tokenRNG)
            try store.addKiosk(
                id: "bench-kiosk", centre: setup.config.centreID, tokenHash: HubToken.hash(token), replace: false, at: Date())
            try database.recordUploadAcknowledged(through: 0, at: Date())
            let port = Loopback.freePort()
            let hub = try startHub(data: hubDir, database: url, port: port)
            defer {
                kill(hub.processIdentifier, SIGTERM)
                hub.waitUntilExit()
            }
            var config = UploadConfig()
            config.batchSize = batch
            let uploader = Uploader(
                database: database, kioskID: "bench-kiosk", centreID: setup.config.centreID,
                settings: try UploadSettings(config: config, hub: "http://127.0.0.1:\(port)", token: token), clock: { Date() })
            var sent = 0
            let upload = try clock.measure {
                loop: while true {
                    switch try uploader.step() {
                    case .sent(let count, _): sent += count
                    case .idle: break loop
                    case let other: throw KioskError("upload stopped: \(other)")
                    }
                }
            }
            let held = try store.eventCount(kiosk: "bench-kiosk")
            guard held == Int64(events), sent == events else { throw KioskError("the hub holds \(held) of \(events) events") }
            let uploadRate = Double(events) / upload.seconds
            let bulkRate = Double(events) / bulk.seconds
            print("  \(name):")
            print(
                String(
                    format: "    bulk load (%@)      %9.0f events/s  %6.1f s", name == "sqlite" ? "insert loop, 1 txn" : "COPY", bulkRate,
                    bulk.seconds))
            print(String(format: "    upload kiosk → hub        %9.0f events/s  %6.1f s", uploadRate, upload.seconds))
            print(String(format: "    ratio upload/bulk: %.2f×", uploadRate / bulkRate))
        }
    }

    func freshStore(name: String, url: String?, path: String) throws -> any HubStore {
        if let url {
            try PostgresHubStore.dropSchema(url: url)
            return try PostgresHubStore(url: url)
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return try SQLiteHubStore(path: path)
    }

    func startHub(data: String, database: String?, port: Int, extra: [String] = []) throws -> ChildProcess {
        let p = ChildProcess()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["serve", "--data", data, "--port", String(port)] + (database.map { ["--database", $0] } ?? []) + extra
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = "warning"
        p.environment = env
        try p.run()
        let client = HTTPClient(timeout: .seconds(2), connectTimeout: .seconds(1))
        for _ in 0..<400 {
            if (try? client.get("http://127.0.0.1:\(port)/healthz"))?.status == 200 { return p }
            Thread.sleep(forTimeInterval: 0.025)
        }
        throw KioskError("the hub did not start")
    }
}

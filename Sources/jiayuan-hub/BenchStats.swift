import ArgumentParser
import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanHTTP
import JiayuanHub
import JiayuanKiosk
import JiayuanWire

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan-hub bench stats`: many events loaded with COPY into the month partitions, the rollup filled, then
/// `/v1/stats` of a `serve` process timed for random ranges and centres.
struct BenchStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Load events with COPY into the partitions, fill the rollup, time GET /v1/stats (PostgreSQL).")
    @Option(help: "The PostgreSQL database (its hub tables are dropped and made anew).") var postgres: String
    @Option(help: "Events to load.") var events = 50_000_000
    @Option(help: "Centres (one kiosk each).") var centres = 1_000
    @Option(help: "Days the events are spread over, ending yesterday.") var days = 365
    @Option(help: "Requests for single centres.") var requests = 1_000
    @Option(help: "Requests for all centres together.") var allCentreRequests = 50
    @Option(help: "Directory for the instance's log (default: a new temporary one).") var dir: String?

    func validate() throws {
        guard events >= centres, centres >= 1, days >= 1, requests >= 1 else {
            throw ValidationError("--events at least --centres, and --centres, --days, --requests at least 1")
        }
    }

    func run() throws {
        let root = dir ?? NSTemporaryDirectory() + "jiayuan-bench-stats-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: root) } }
        let zone = HubOptions().zone
        let today = LocalTime(Date(), in: zone).date
        let firstDay = today.adding(days: -days)
        let start = LocalTime.instant(date: firstDay, minute: 0, in: zone)
        let span = Double(days) * 86400
        print("bench stats: \(events) events, \(centres) centres, \(days) days from \(firstDay), COPY into month partitions")

        try PostgresHubStore.dropSchema(url: postgres)
        let store = try PostgresHubStore(url: postgres, connections: 2)
        for c in 0..<centres {
            try store.addKiosk(id: "k\(c)", centre: "c\(c)", tokenHash: HubToken.hash("bench-\(c)"), replace: false, at: Date())
        }
        try store.makePartitions(from: start, through: Date())
        let clock = ContinuousClock()
        // Two loaders (the machine's cores), each generating and copying half of the kiosks' logs.
        let visits = VisitCount()
        let loadTime = clock.measure {
            let group = DispatchGroup()
            for half in 0..<2 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        for c in stride(from: half, to: centres, by: 2) {
                            let n = events / centres + (c < events % centres ? 1 : 0)
                            var rows: [WireEvent] = []
                            var counted = 0
                            var rng = SeededRandom(seed: UInt64(c + 7))
                            for i in 0..<n {
                                let at = start.addingTimeInterval(span * Double(i) / Double(n) + Double.random(in: 0..<60, using: &rng))
                                let kind = i % 4
                                if kind < 2 { counted += 1 }
                                rows.append(
                                    WireEvent(
                                        seq: Int64(i + 1), id: "b\(c)-\(i)", at: ISOTime.format(at),
                                        venue: ["gym", "library", "daycare", "veterans"][i % 4],
                                        member: "M" + String(100_000 + Int.random(in: 1...400, using: &rng)),
                                        group: ["elder", "resident", "child", "veteran"][(i / 4) % 4], direction: kind == 2 ? "out" : "in",
                                        outcome: kind == 3 ? "denied" : "accepted", reason: kind == 3 ? "closed" : nil, via: "scan",
                                        prevHash: String(repeating: "0", count: 64), hash: String(repeating: "f", count: 64)))
                                if rows.count == 50_000 {
                                    try store.copyRows(kiosk: "k\(c)", events: rows, at: at)
                                    rows.removeAll(keepingCapacity: true)
                                }
                            }
                            if !rows.isEmpty { try store.copyRows(kiosk: "k\(c)", events: rows, at: Date()) }
                            visits.add(counted)
                        }
                    } catch {
                        visits.fail("\(error)")
                    }
                }.start()
            }
            group.wait()
        }
        if let failure = visits.failure { throw KioskError("the load failed: \(failure)") }
        print(String(format: "  COPY load: %.1f s (%.0f events/s)", loadTime.seconds, Double(events) / loadTime.seconds))
        let rollupTime = try clock.measure {
            try store.benchSQL("ANALYZE hub_event")
            try store.rebuildRollup()
            try store.benchSQL("ANALYZE hub_rollup")
        }
        let rollupRows = try store.benchSQL("SELECT count(*), sum(visits) FROM hub_rollup")[0]
        print(
            String(format: "  rollup filled in %.1f s: %@ rows, %@ visits", rollupTime.seconds, rollupRows[0] ?? "?", rollupRows[1] ?? "?"))
        guard rollupRows[1] == String(visits.total) else {
            throw KioskError("the rollup counts \(rollupRows[1] ?? "?") visits, the load made \(visits.total)")
        }

        let port = Loopback.freePort()
        let hub = try BenchUpload().startHub(data: root + "/hub", database: postgres, port: port)
        defer {
            kill(hub.processIdentifier, SIGTERM)
            hub.waitUntilExit()
        }
        let client = HTTPClient(timeout: .seconds(30), connectTimeout: .seconds(5))
        var rng = SystemRandomNumberGenerator()
        func time(centre: String?) throws -> Double {
            let from = firstDay.adding(days: Int.random(in: 0...days, using: &rng))
            let to = from.adding(days: Int.random(in: 0...365, using: &rng))
            let url = "http://127.0.0.1:\(port)/v1/stats?from=\(from)&to=\(to)" + (centre.map { "&centre=\($0)" } ?? "")
            let began = ContinuousClock.now
            let reply = try client.get(url)
            let ms = (ContinuousClock.now - began).seconds * 1000
            guard reply.status == 200 else { throw KioskError("GET \(url): HTTP \(reply.status) \(reply.text)") }
            return ms
        }
        for _ in 0..<20 { _ = try time(centre: "c0") }  // warm the connection and the caches
        var single: [Double] = []
        for _ in 0..<requests { single.append(try time(centre: "c\(Int.random(in: 0..<centres, using: &rng))")) }
        var all: [Double] = []
        for _ in 0..<allCentreRequests { all.append(try time(centre: nil)) }
        func line(_ name: String, _ ms: [Double]) -> String {
            let s = ms.sorted()
            func p(_ q: Double) -> Double { s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * q))] }
            return String(format: "  %@ (%d requests): p50 %.1f ms, p99 %.1f ms, max %.1f ms", name, s.count, p(0.5), p(0.99), s.last ?? 0)
        }
        print(line("GET /v1/stats, one centre, random range ≤ 366 days", single))
        if !all.isEmpty { print(line("GET /v1/stats, all centres, random range ≤ 366 days", all)) }
    }
}

/// Visits the loaders made, shared by their threads.
final class VisitCount: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var total = 0
    private(set) var failure: String?
    func add(_ n: Int) { lock.withLock { total += n } }
    func fail(_ why: String) { lock.withLock { failure = failure ?? why } }
}

import ArgumentParser
import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanGzip
import JiayuanHTTP
import JiayuanHub
import JiayuanKiosk
import JiayuanProcess
import JiayuanWire

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan-hub bench fleet`: N kiosks uploading at once to K `serve` instances on one PostgreSQL, each batch
/// to a random instance; then every chain and count verified; then the same rows bulk-loaded with `COPY`
/// into the same server. Prints both rates and their ratio.
struct BenchFleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet", abstract: "Many kiosks → several hub instances on one PostgreSQL, verified, vs a bulk COPY of the same rows.")
    @Option(help: "The PostgreSQL database (its hub tables are dropped and made anew).") var postgres: String
    @Option(help: "Kiosks uploading at once.") var kiosks = 300
    @Option(help: "Events per kiosk.") var events = 1_500
    @Option(help: "hub instances (jiayuan-hub serve processes).") var instances = 2
    @Option(help: "Events per batch.") var batch = 500
    @Option(help: "Kiosks per centre.") var perCentre = 2
    @Option(help: "Each instance's --max-waiting (default: all the kiosks, so that none is told to come back later).")
    var maxWaiting: Int?
    @Option(help: "Directory for the instances' logs (default: a new temporary one).") var dir: String?

    func validate() throws {
        guard kiosks >= 1, events >= 1, instances >= 1, batch >= 1, perCentre >= 1 else {
            throw ValidationError("--kiosks, --events, --instances, --batch and --per-centre are at least 1")
        }
    }

    func run() throws {
        let root = dir ?? NSTemporaryDirectory() + "jiayuan-bench-fleet-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: root) } }
        let total = kiosks * events
        print("bench fleet: \(kiosks) kiosks × \(events) events = \(total), batches of \(batch), \(instances) instances, one PostgreSQL")
        let clock = ContinuousClock()
        var logs: [FleetKiosk] = []
        let made = clock.measure { logs = (0..<kiosks).map { FleetKiosk(index: $0, perCentre: perCentre, events: events, batch: batch) } }
        print(String(format: "  logs made and batches gzipped in %.1f s (before the clock starts)", made.seconds))

        // The fleet.
        try PostgresHubStore.dropSchema(url: postgres)
        let store = try PostgresHubStore(url: postgres)
        for k in logs { try store.addKiosk(id: k.id, centre: k.centre, tokenHash: HubToken.hash(k.token), replace: false, at: Date()) }
        let ports = (0..<instances).map { _ in Loopback.freePort() }
        var hubs: [ChildProcess] = []
        defer {
            for h in hubs where h.isRunning { kill(h.processIdentifier, SIGTERM) }
            for h in hubs { h.waitUntilExit() }
        }
        for (i, port) in ports.enumerated() {
            hubs.append(
                try BenchUpload().startHub(
                    data: root + "/hub-\(i)", database: postgres, port: port, extra: ["--max-waiting", String(maxWaiting ?? kiosks)]))
        }
        let outcome = FleetOutcome()
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for k in logs {
            group.enter()
            Thread {
                start.wait()
                k.upload(ports: ports, outcome: outcome)
                group.leave()
            }.start()
        }
        let began = ContinuousClock.now
        for _ in logs { start.signal() }
        group.wait()
        let fleetTime = ContinuousClock.now - began
        if let failure = outcome.failure { throw KioskError("the fleet did not finish: \(failure)") }

        // Verification: every chain, every count, every head.
        var problems: [String] = []
        let held = try store.eventCount(kiosk: nil)
        if held != Int64(total) { problems.append("the hub holds \(held) events, not \(total)") }
        let heads = Dictionary(uniqueKeysWithValues: try store.kiosks().map { ($0.id, $0.lastSeq) })
        for k in logs {
            if heads[k.id] != Int64(events) { problems.append("\(k.id) head at \(heads[k.id] ?? -1)") }
            if let p = try store.verifyChain(kiosk: k.id) { problems.append("\(k.id) chain: \(p)") }
            if problems.count > 10 { break }
        }
        let visits = logs.reduce(0) { $0 + $1.visits }
        let first = logs.flatMap(\.days).min()!
        let last = logs.flatMap(\.days).max()!
        let counted = try store.dailyVisits(from: first, to: last, centre: nil, zone: HubOptions().zone).reduce(0) { $0 + $1.visits }
        if counted != visits { problems.append("the rollup counts \(counted) visits, the kiosks made \(visits)") }
        guard problems.isEmpty else { throw KioskError("verification failed: \(problems.joined(separator: "; "))") }
        print(
            "  verified: \(total) of \(total) events held once, \(kiosks) chains verify, heads at \(events), rollup \(visits) visits; "
                + "\(outcome.requests) requests, \(outcome.retries) retried")
        for h in hubs where h.isRunning { kill(h.processIdentifier, SIGTERM) }

        // The baseline: the same rows, one COPY, into a fresh schema on the same server.
        try PostgresHubStore.dropSchema(url: postgres)
        let baseline = try PostgresHubStore(url: postgres)
        for k in logs { try baseline.addKiosk(id: k.id, centre: k.centre, tokenHash: HubToken.hash(k.token), replace: false, at: Date()) }
        let rows = logs.map { (kiosk: $0.id, events: $0.wire) }
        let copyTime = try clock.measure { try baseline.bulkLoad(logs: rows, at: Date()) }
        let fleetRate = Double(total) / fleetTime.seconds
        let copyRate = Double(total) / copyTime.seconds
        print(String(format: "    fleet over HTTP      %9.0f events/s  %6.2f s", fleetRate, fleetTime.seconds))
        print(String(format: "    bulk COPY            %9.0f events/s  %6.2f s", copyRate, copyTime.seconds))
        print(String(format: "    ratio fleet/COPY: %.2f×", fleetRate / copyRate))
    }
}

/// What the uploaders saw, shared by their threads.
final class FleetOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var requests = 0
    private(set) var retries = 0
    private(set) var failure: String?

    func count(retry: Bool) {
        lock.withLock {
            requests += 1; if retry { retries += 1 }
        }
    }
    func fail(_ why: String) { lock.withLock { if failure == nil { failure = why } } }
}

/// One simulated kiosk: its chained log, made and gzipped ahead, and its upload loop.
final class FleetKiosk: @unchecked Sendable {
    let id: String
    let centre: String
    let token: String
    let wire: [WireEvent]
    let bodies: [(body: [UInt8], last: Int64)]
    let visits: Int
    let days: Set<CivilDate>

    init(index: Int, perCentre: Int, events: Int, batch: Int) {
        id = "fleet-\(index)"
        centre = "centre-\(index / perCentre)"
        token = "jyt_fleet_\(index)_" + String(repeating: "0", count: 8)
        var rng = SeededRandom(seed: UInt64(index + 1))
        let venues = ["gym", "library", "daycare", "veterans"]
        let groups = MemberGroup.allCases
        let zone = HubOptions().zone
        let start = Date().addingTimeInterval(-Double(events) * 240)
        var prev = AttendanceEvent.genesisHash
        var log: [WireEvent] = []
        var visits = 0
        var days: Set<CivilDate> = []
        for i in 0..<events {
            let denied = Int.random(in: 0..<4, using: &rng) == 0
            let at = start.addingTimeInterval(Double(i) * 240)
            let e = AttendanceEvent(
                seq: Int64(i + 1), id: String(format: "%08x-0000-4000-8000-%012x", index, i), at: at,
                venue: venues[Int.random(in: 0..<venues.count, using: &rng)],
                member: MemberID(number: UInt32(Int.random(in: 1...300, using: &rng))),
                group: groups[Int.random(in: 0..<groups.count, using: &rng)],
                direction: denied || i % 3 != 2 ? .in : .out, outcome: denied ? .denied : .accepted, reason: denied ? .closed : nil,
                via: .scan, prevHash: prev)
            prev = e.hash
            if !denied && e.direction == .in {
                visits += 1
                days.insert(LocalTime(at, in: zone).date)
            }
            log.append(WireEvent(e))
        }
        wire = log
        self.visits = visits
        self.days = days
        bodies = stride(from: 0, to: log.count, by: batch).map { i in
            let part = Array(log[i..<min(i + batch, log.count)])
            return (
                Gzip.compress(UploadBatch(kiosk: "fleet-\(index)", centre: "centre-\(index / perCentre)", events: part).json()),
                part.last!.seq
            )
        }
    }

    /// Posts its batches in order, each to a random instance, until every one is acknowledged; retries on
    /// anything else (honouring Retry-After), gives up after a minute without progress.
    func upload(ports: [Int], outcome: FleetOutcome) {
        let clients = ports.map { _ in HTTPClient(timeout: .seconds(60), connectTimeout: .seconds(5)) }
        var next = 0
        var stalledSince: Date?
        var rng = SystemRandomNumberGenerator()
        while next < bodies.count {
            let i = Int.random(in: 0..<ports.count, using: &rng)
            let headers = [
                ("Authorization", "Bearer \(token)"), ("Content-Encoding", "gzip"), ("Content-Type", "application/json"),
                ("Idempotency-Key", "\(id)-\(next)"),
            ]
            var wait = 0.05
            do {
                let reply = try clients[i].post("http://127.0.0.1:\(ports[i])/v1/events", headers: headers, body: bodies[next].body)
                if reply.status == 200, reply.text.contains("\"acknowledged_through\":\(bodies[next].last)}") {
                    outcome.count(retry: false)
                    next += 1
                    stalledSince = nil
                    continue
                }
                if reply.status == 409 {
                    outcome.fail("\(id): \(reply.text)")
                    return
                }
                if let after = reply.headers["retry-after"].flatMap(Double.init) { wait = after }
            } catch {}
            outcome.count(retry: true)
            let since = stalledSince ?? Date()
            stalledSince = since
            if Date().timeIntervalSince(since) > 60 {
                outcome.fail("\(id): no progress for a minute")
                return
            }
            Thread.sleep(forTimeInterval: wait)
        }
    }
}

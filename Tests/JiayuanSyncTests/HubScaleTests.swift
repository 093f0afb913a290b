import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import JiayuanWire
import Testing

@testable import JiayuanHub

/// One event of a test log: when (UTC), where, who, and what happened.
struct Visit {
    var at: String
    var venue: String
    var member: UInt32?
    var group: MemberGroup
    var direction: Direction = .in
    var denied = false
    /// A correction voiding this seq (issue 17).
    var voids: Int64? = nil
}

/// Chains `visits` after `head`.
func log(_ visits: [Visit], after head: HubChain.Head = .empty) -> [AttendanceEvent] {
    var prev = head.hash
    return visits.enumerated().map { i, v in
        let e = AttendanceEvent(
            seq: head.seq + Int64(i + 1), id: UUID().uuidString.lowercased(), at: ISOTime.parse(v.at, defaultZone: ISOTime.utc)!,
            venue: v.venue, member: v.member.flatMap { MemberID(number: $0) }, group: v.group,
            direction: v.voids == nil ? v.direction : .in,
            outcome: v.voids != nil ? .void : v.denied ? .denied : .accepted, reason: v.denied && v.voids == nil ? .closed : nil,
            via: v.voids == nil ? .scan : .staff, prevHash: prev, corrects: v.voids)
        prev = e.hash
        return e
    }
}

/// A deterministic mix of visits from `first` over `days` days, with repeats of the same member on a day,
/// denials, check-outs, no-member visits and times around local midnight.
func mixedVisits(_ n: Int, first: String, days: Int, seed: UInt64) -> [Visit] {
    var rng = SeededRandom(seed: seed)
    let start = ISOTime.parse(first, defaultZone: ISOTime.utc)!
    let venues = ["gym", "library", "daycare"]
    return (0..<n).map { i in
        let at = start.addingTimeInterval(Double(days) * 86400 * Double(i) / Double(n) + Double.random(in: 0..<3600, using: &rng))
        return Visit(
            at: ISOTime.format(at), venue: venues[Int.random(in: 0..<3, using: &rng)],
            member: Int.random(in: 0..<10, using: &rng) == 0 ? nil : UInt32.random(in: 1...12, using: &rng),
            group: [MemberGroup.elder, .resident, .child][Int.random(in: 0..<3, using: &rng)],
            direction: Int.random(in: 0..<5, using: &rng) == 0 ? .out : .in, denied: Int.random(in: 0..<6, using: &rng) == 0)
    }
}

/// The figures worked out by hand from the logs (independently of both stores).
func expectedFigures(_ logs: [(centre: String, events: [AttendanceEvent])], from: CivilDate, to: CivilDate, centre: String?, zone: TimeZone)
    -> [String]
{
    struct K: Hashable {
        var centre: String, day: CivilDate, venue: String, group: String
    }
    var visits: [K: Int] = [:]
    var members: [K: Set<String>] = [:]
    for (c, events) in logs where centre == nil || c == centre {
        let voided = Set(events.compactMap(\.corrects))
        for e in events where e.outcome == .accepted && e.direction == .in && !voided.contains(e.seq) {
            let day = LocalTime(e.at, in: zone).date
            guard day >= from && day <= to else { continue }
            let k = K(centre: c, day: day, venue: e.venue, group: e.group?.rawValue ?? "")
            visits[k, default: 0] += 1
            if let m = e.member { members[k, default: []].insert(m.description) }
        }
    }
    var out: [String: (Int, Int)] = [:]
    for (k, n) in visits {
        let key = "\(k.day) \(k.venue) \(k.group)"
        let old = out[key] ?? (0, 0)
        out[key] = (old.0 + n, old.1 + (members[k]?.count ?? 0))
    }
    return out.keys.sorted().map { "\($0) \(out[$0]!.0) \(out[$0]!.1)" }
}

func lines(_ rows: [DailyVisits]) -> [String] { rows.map { "\($0.day) \($0.venue) \($0.group) \($0.visits) \($0.members)" } }

func psql(_ url: String, _ sql: String) throws -> (status: Int32, out: String) {
    let r = try Run.program("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-tAqc", sql])
    return (r.status, r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + r.stderr)
}

let shanghai = TimeZone(identifier: "Asia/Shanghai")!

@Suite("Hub at city scale: partitions, rollup, retention, benches", .blocking, .serialized)
struct HubScaleTests {
    /// Three kiosks of two centres, their logs uploaded in overlapping batches.
    func uploadLogs(_ store: any HubStore) throws -> [(centre: String, events: [AttendanceEvent])] {
        let logs: [(String, String, [AttendanceEvent])] = [
            ("kiosk-a", "centre-1", log(mixedVisits(700, first: "2026-08-30T10:00:00Z", days: 34, seed: 1))),
            ("kiosk-c", "centre-1", log(mixedVisits(450, first: "2026-08-31T15:30:00Z", days: 30, seed: 2))),
            ("kiosk-b", "centre-2", log(mixedVisits(300, first: "2026-09-10T15:00:00Z", days: 20, seed: 3))),
        ]
        for (kiosk, centre, events) in logs {
            try store.addKiosk(id: kiosk, centre: centre, tokenHash: HubToken.hash(kiosk), replace: false, at: Date())
            let wire = events.map(WireEvent.init)
            var i = 0
            while i < wire.count {
                // Each batch starts 10 events back: a resend of what is held, then new events.
                let part = Array(wire[max(0, i - 10)..<min(i + 97, wire.count)])
                let verdict = try store.receive(kiosk: kiosk, events: part, idempotencyKey: "\(kiosk)-\(i)", at: Date())
                #expect(verdict == .acknowledged(through: part.last!.seq))
                i += 97
            }
        }
        return logs.map { ($0.1, $0.2) }
    }

    @Test("SQLite (from the events) and PostgreSQL (from the rollup) give the same daily figures, and the right ones")
    func storesAgree() throws {
        let dir = TemporaryDirectory("hub-rollup")
        defer { dir.remove() }
        let sqlite = try openHubStore(database: nil, dataDirectory: dir.path)
        let logs = try uploadLogs(sqlite)
        let url = try TestPostgres.freshDatabase("jy_scale_agree")
        let postgres = try url.map { try PostgresHubStore(url: $0, zone: shanghai) }
        if let postgres { _ = try uploadLogs(postgres) }
        let ranges: [(String, String, String?)] = [
            ("2026-08-30", "2026-10-05", nil), ("2026-08-30", "2026-10-05", "centre-1"), ("2026-09-15", "2026-09-15", "centre-2"),
            ("2026-09-01", "2026-09-01", nil), ("2026-10-02", "2026-10-02", "centre-1"), ("2026-11-01", "2026-11-30", nil),
        ]
        for (f, t, centre) in ranges {
            let from = CivilDate(iso: f)!, to = CivilDate(iso: t)!
            let expected = expectedFigures(logs, from: from, to: to, centre: centre, zone: shanghai)
            let fromSQLite = lines(try sqlite.dailyVisits(from: from, to: to, centre: centre, zone: shanghai))
            #expect(fromSQLite == expected, "SQLite \(f)…\(t) \(centre ?? "all")")
            if let postgres {
                #expect(
                    lines(try postgres.dailyVisits(from: from, to: to, centre: centre, zone: shanghai)) == expected, "PostgreSQL \(f)…\(t)")
                // Another zone than the rollup's is counted from the events, and agrees with SQLite.
                let utc = ISOTime.utc
                #expect(
                    lines(try postgres.dailyVisits(from: from, to: to, centre: centre, zone: utc))
                        == lines(try sqlite.dailyVisits(from: from, to: to, centre: centre, zone: utc)))
            }
        }
        #expect(
            expectedFigures(logs, from: CivilDate(iso: "2026-08-30")!, to: CivilDate(iso: "2026-10-05")!, centre: nil, zone: shanghai).count
                > 100)
        if let url {
            // Events landed in their month partitions (made on demand for a backlog), none in the default one.
            #expect(try psql(url, "SELECT count(*) FROM hub_event_default").out == "0")
            #expect(try psql(url, "SELECT count(*) FROM hub_event_2026_09").out != "0")
            // A new hub opened in another zone rebuilds the rollup in that zone.
            let utcStore = try PostgresHubStore(url: url, zone: ISOTime.utc)
            let from = CivilDate(iso: "2026-08-30")!, to = CivilDate(iso: "2026-10-05")!
            #expect(
                lines(try utcStore.dailyVisits(from: from, to: to, centre: nil, zone: ISOTime.utc))
                    == expectedFigures(logs, from: from, to: to, centre: nil, zone: ISOTime.utc))
        }
    }

    @Test("a correction takes the voided check-in out of both stores' figures, in the same transaction; a second void is refused")
    func correctionsLeaveTheFigures() throws {
        let dir = TemporaryDirectory("hub-voids")
        defer { dir.remove() }
        let url = try TestPostgres.freshDatabase("jy_scale_voids")
        var stores: [any HubStore] = [try openHubStore(database: nil, dataDirectory: dir.path)]
        if let url { stores.append(try PostgresHubStore(url: url, zone: shanghai)) }
        // Member 1 visits the gym twice on 2026-09-02 (local), member 2 once; member 3 once on 09-03.
        let first = log([
            Visit(at: "2026-09-02T01:00:00Z", venue: "gym", member: 1, group: .elder),
            Visit(at: "2026-09-02T02:00:00Z", venue: "gym", member: 1, group: .elder),
            Visit(at: "2026-09-02T03:00:00Z", venue: "gym", member: 2, group: .elder),
            Visit(at: "2026-09-03T03:00:00Z", venue: "library", member: 3, group: .child),
        ])
        // Voids of seq 1 (member 1 still visited that day) and seq 3 (member 2's only visit) in a later batch;
        // then a check-in and its void in the same batch.
        let voids = log(
            [
                Visit(at: "2026-09-04T01:00:00Z", venue: "gym", member: 1, group: .elder, voids: 1),
                Visit(at: "2026-09-04T01:05:00Z", venue: "gym", member: 2, group: .elder, voids: 3),
            ], after: HubChain.Head(seq: 4, hash: first.last!.hash))
        let both = log(
            [
                Visit(at: "2026-09-03T05:00:00Z", venue: "library", member: 4, group: .child),
                Visit(at: "2026-09-03T05:01:00Z", venue: "library", member: 4, group: .child, voids: 7),
            ], after: HubChain.Head(seq: 6, hash: voids.last!.hash))
        let all = first + voids + both
        let from = CivilDate(iso: "2026-09-01")!, to = CivilDate(iso: "2026-09-05")!
        for store in stores {
            try store.addKiosk(id: "kiosk-a", centre: "centre-1", tokenHash: HubToken.hash("a"), replace: false, at: Date())
            for batch in [first, voids, both] {
                #expect(
                    try store.receive(kiosk: "kiosk-a", events: batch.map(WireEvent.init), idempotencyKey: nil, at: Date())
                        == .acknowledged(through: batch.last!.seq))
            }
            let figures = lines(try store.dailyVisits(from: from, to: to, centre: nil, zone: shanghai))
            #expect(figures == ["2026-09-02 gym elder 1 1", "2026-09-03 library child 1 1"], "\(store.kind)")
            #expect(figures == expectedFigures([("centre-1", all)], from: from, to: to, centre: nil, zone: shanghai))
            #expect(try store.verifyChain(kiosk: "kiosk-a") == nil)
        }
        if let url, let postgres = stores.last as? PostgresHubStore {
            // A second void of seq 2 after a first one: refused, nothing stored, the figures unchanged.
            let again = log(
                [
                    Visit(at: "2026-09-05T01:00:00Z", venue: "gym", member: 1, group: .elder, voids: 2),
                    Visit(at: "2026-09-05T01:01:00Z", venue: "gym", member: 1, group: .elder, voids: 2),
                ], after: HubChain.Head(seq: 8, hash: both.last!.hash))
            #expect(throws: (any Error).self) {
                try postgres.receive(kiosk: "kiosk-a", events: again.map(WireEvent.init), idempotencyKey: nil, at: Date())
            }
            #expect(try postgres.eventCount(kiosk: "kiosk-a") == 8)
            #expect(
                lines(try postgres.dailyVisits(from: from, to: to, centre: nil, zone: shanghai)) == [
                    "2026-09-02 gym elder 1 1", "2026-09-03 library child 1 1",
                ])
            // The rollup rebuilt from the events (another zone, then back) gives the same figures.
            _ = try PostgresHubStore(url: url, zone: ISOTime.utc)
            let rebuilt = try PostgresHubStore(url: url, zone: shanghai)
            #expect(
                lines(try rebuilt.dailyVisits(from: from, to: to, centre: nil, zone: shanghai)) == [
                    "2026-09-02 gym elder 1 1", "2026-09-03 library child 1 1",
                ])
        }
    }

    @Test("migration 3 moves an unpartitioned hub's events into month partitions: chain, count, figures and append-only kept")
    func migrationKeepsEverything() throws {
        guard let url = try TestPostgres.freshDatabase("jy_scale_migrate") else { return }
        try PostgresSchema.migrate(url: url, through: 2)
        // An unpartitioned hub's log, with one check-in voided (hub_event_corrects becomes hub_void).
        var visits = mixedVisits(299, first: "2026-07-20T00:00:00Z", days: 70, seed: 9)
        let voided = Int64(visits.firstIndex { !$0.denied && $0.direction == .in }! + 1)
        visits.append(Visit(at: "2026-09-28T00:00:00Z", venue: "gym", member: 1, group: .elder, voids: voided))
        let events = log(visits)
        let head = events.last!
        #expect(
            try psql(
                url,
                "INSERT INTO hub_kiosk (id, centre, token_hash, created_at, last_seq, last_hash) VALUES ('kiosk-a', 'centre-1', repeat('a', 64), now(), \(head.seq), '\(head.hash)')"
            ).status == 0)
        try PostgresSchema.copy(url: url, kiosk: "kiosk-a", events: events.map(WireEvent.init), at: Date())
        let store = try PostgresHubStore(url: url, zone: shanghai)
        #expect(try store.eventCount(kiosk: nil) == 300)
        #expect(try store.verifyChain(kiosk: "kiosk-a") == nil)
        #expect(try store.partitionMonths().map(\.description).starts(with: ["2026-07", "2026-08", "2026-09"]))
        #expect(try psql(url, "SELECT count(*) FROM hub_event_default").out == "0")
        #expect(try psql(url, "SELECT to_regclass('hub_event_unpartitioned') IS NULL").out == "t")
        let from = CivilDate(iso: "2026-07-01")!, to = CivilDate(iso: "2026-10-31")!
        #expect(
            lines(try store.dailyVisits(from: from, to: to, centre: nil, zone: shanghai))
                == expectedFigures([("centre-1", events)], from: from, to: to, centre: nil, zone: shanghai))
        // Exactly once still: a resend is acknowledged and not stored again; the chain goes on.
        let resend = events.prefix(20).map(WireEvent.init)
        #expect(try store.receive(kiosk: "kiosk-a", events: Array(resend), idempotencyKey: nil, at: Date()) == .acknowledged(through: 20))
        let more = log(
            [Visit(at: "2026-09-30T01:00:00Z", venue: "gym", member: 1, group: MemberGroup.elder)],
            after: HubChain.Head(seq: 300, hash: head.hash))
        #expect(
            try store.receive(kiosk: "kiosk-a", events: more.map(WireEvent.init), idempotencyKey: nil, at: Date())
                == .acknowledged(through: 301))
        #expect(try store.eventCount(kiosk: "kiosk-a") == 301)
        // Append-only on the partitioned table and on a partition itself.
        #expect(try psql(url, "UPDATE hub_event SET venue = 'x' WHERE seq = 5").out.contains("never changed"))
        #expect(try psql(url, "DELETE FROM hub_event_2026_08").out.contains("never changed"))
        #expect(try store.eventCount(kiosk: "kiosk-a") == 301)
    }

    @Test("an event dated after the months made waits in the default partition, and moves into its month when that is made")
    func defaultPartitionCatchesTheFuture() throws {
        guard let url = try TestPostgres.freshDatabase("jy_scale_default") else { return }
        let store = try PostgresHubStore(url: url, zone: shanghai)
        try store.addKiosk(id: "kiosk-a", centre: "centre-1", tokenHash: HubToken.hash("a"), replace: false, at: Date())
        let future = Date().addingTimeInterval(200 * 86400)
        let events = log([Visit(at: ISOTime.format(future), venue: "gym", member: 3, group: MemberGroup.elder)])
        #expect(
            try store.receive(kiosk: "kiosk-a", events: events.map(WireEvent.init), idempotencyKey: nil, at: Date())
                == .acknowledged(through: 1))
        #expect(try psql(url, "SELECT count(*) FROM hub_event_default").out == "1")
        // Months later, that month is made: the row moves in, still once, still append-only.
        try store.ensurePartitions(now: future)
        #expect(try psql(url, "SELECT count(*) FROM hub_event_default").out == "0")
        let month = String(ISOTime.format(future).prefix(7)).replacingOccurrences(of: "-", with: "_")
        #expect(try psql(url, "SELECT count(*) FROM hub_event_\(month)").out == "1")
        #expect(try store.eventCount(kiosk: nil) == 1 && store.verifyChain(kiosk: "kiosk-a") == nil)
        // The default partition's trigger is on again after the move.
        let later = log(
            [Visit(at: ISOTime.format(future.addingTimeInterval(300 * 86400)), venue: "gym", member: 3, group: MemberGroup.elder)],
            after: HubChain.Head(seq: 1, hash: events[0].hash))
        #expect(
            try store.receive(kiosk: "kiosk-a", events: later.map(WireEvent.init), idempotencyKey: nil, at: Date())
                == .acknowledged(through: 2))
        #expect(try psql(url, "DELETE FROM hub_event_default").out.contains("never changed"))
        #expect(try psql(url, "DELETE FROM hub_event").out.contains("never changed"))
    }

    @Test("prune is refused for months not exported or changed since; it drops exported months, and the figures stay")
    func pruneAndExport() throws {
        guard let url = try TestPostgres.freshDatabase("jy_scale_prune") else { return }
        let dir = TemporaryDirectory("hub-prune")
        defer { dir.remove() }
        let store = try PostgresHubStore(url: url, zone: shanghai)
        try store.addKiosk(id: "kiosk-a", centre: "centre-1", tokenHash: HubToken.hash("a"), replace: false, at: Date())
        let events = log(mixedVisits(400, first: "2026-08-01T02:00:00Z", days: 85, seed: 5))
        #expect(
            try store.receive(kiosk: "kiosk-a", events: events.map(WireEvent.init), idempotencyKey: nil, at: Date())
                == .acknowledged(through: 400))
        let from = CivilDate(iso: "2026-08-01")!, to = CivilDate(iso: "2026-10-31")!
        let figures = try store.dailyVisits(from: from, to: to, centre: nil, zone: shanghai)
        #expect(!figures.isEmpty)

        // Nothing exported: refused, naming both months, and nothing dropped.
        #expect(throws: HubRetentionError.notExported(months: ["2026-08", "2026-09"])) { try store.prune(before: HubMonth("2026-10")!) }
        let cli = try Run.hub(["prune", "--before", "2026-10", "--database", url])
        #expect(cli.status == 1 && cli.stderr.contains("never exported: 2026-08, 2026-09"), "\(cli.stderr)")
        #expect(try store.eventCount(kiosk: nil) == 400)

        // Exported by the command: a gzip CSV with a header and one line per event of the month.
        let augustFile = dir.path + "/2026-08.csv.gz"
        let export = try Run.hub(["export", "--month", "2026-08", "--out", augustFile, "--database", url])
        #expect(export.status == 0, "\(export.stderr)")
        let august = events.filter { ISOTime.format($0.at).hasPrefix("2026-08") }
        let csv = try Run.program("/bin/sh", ["-c", "gzip -dc '\(augustFile)'"]).stdout.split(separator: "\n")
        #expect(csv.count == august.count + 1 && csv.first?.hasPrefix("kiosk,seq,id,at") == true)
        _ = try store.export(month: HubMonth("2026-09")!, to: dir.path + "/2026-09.csv.gz")

        // A late event for August after its export: refused again until August is exported anew.
        let late = log(
            [Visit(at: "2026-08-20T03:00:00Z", venue: "gym", member: 2, group: MemberGroup.elder)],
            after: HubChain.Head(seq: 400, hash: events.last!.hash))
        #expect(
            try store.receive(kiosk: "kiosk-a", events: late.map(WireEvent.init), idempotencyKey: nil, at: Date())
                == .acknowledged(through: 401))
        let withLate = try store.dailyVisits(from: from, to: to, centre: nil, zone: shanghai)
        #expect(
            throws: HubRetentionError.changedSinceExport(month: "2026-08", exported: Int64(august.count), held: Int64(august.count + 1))
        ) {
            try store.prune(before: HubMonth("2026-10")!)
        }
        _ = try store.export(month: HubMonth("2026-08")!, to: augustFile)
        #expect(try store.prune(before: HubMonth("2026-10")!).map(\.description) == ["2026-08", "2026-09"])
        #expect(try psql(url, "SELECT to_regclass('hub_event_2026_08') IS NULL AND to_regclass('hub_event_2026_09') IS NULL").out == "t")
        let october = events.filter { ISOTime.format($0.at) >= "2026-10" }.count
        #expect(try store.eventCount(kiosk: nil) == Int64(october))
        // The figures are the rollup's: the same after the drop.
        #expect(try store.dailyVisits(from: from, to: to, centre: nil, zone: shanghai) == withLate)
        // The SQLite store has no partitions to drop: refused in plain words.
        let sqlite = try Run.hub(["prune", "--before", "2026-10", "--data", dir.path + "/sqlite-hub"])
        #expect(sqlite.status == 1 && sqlite.stderr.contains("PostgreSQL"))
    }

    @Test("bench fleet (CI size): kiosks upload to two instances at once; every chain and count verifies")
    func benchFleet() throws {
        guard let url = try TestPostgres.freshDatabase("jy_scale_fleet") else { return }
        let r = try Run.hub(["bench", "fleet", "--postgres", url, "--kiosks", "8", "--events", "150", "--batch", "40", "--instances", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("verified: 1200 of 1200 events held once, 8 chains verify"), "\(r.stdout)")
        #expect(r.stdout.contains("ratio fleet/COPY"))
    }

    @Test("bench stats (CI size): COPY into the partitions, the rollup filled and checked, /v1/stats timed")
    func benchStats() throws {
        guard let url = try TestPostgres.freshDatabase("jy_scale_stats") else { return }
        let r = try Run.hub([
            "bench", "stats", "--postgres", url, "--events", "30000", "--centres", "12", "--days", "90", "--requests", "40",
            "--all-centre-requests", "5",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("rollup filled") && r.stdout.contains("one centre, random range") && r.stdout.contains("p99"), "\(r.stdout)")
    }
}

/// A receipt read as its verdict (the tests compare verdicts).
func == (receipt: HubReceipt, verdict: HubChain.Verdict) -> Bool { receipt.verdict == verdict }

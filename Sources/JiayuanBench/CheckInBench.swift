import Foundation
import GRDB
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// Throughput and latency of one benchmark loop.
public struct BenchFigures: Sendable {
    public var name: String
    public var count: Int
    public var seconds: Double
    /// Per-operation latencies in seconds, sorted.
    public var latencies: [Double]

    public var perSecond: Double { Double(count) / seconds }
    public func percentile(_ p: Double) -> Double {
        latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
    }
}

/// `jiayuan bench checkin`: the real engine and store against a bare SQLite INSERT loop with the
/// same durability settings (WAL, `synchronous=FULL`, one transaction per row) on the same disk.
public enum CheckInBench {
    /// Runs `count` accepted check-ins and `count` bare inserts, interleaved in rounds so both see the same disk.
    public static func run(count: Int, in directory: String, rounds: Int = 4) throws -> (
        engine: BenchFigures, bare: BenchFigures, context: BenchContext
    ) {
        let base = directory + "/jiayuan-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        try FileManager.default.createDirectory(atPath: base + "/kiosk/keys", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }

        // The kiosk: one 24-hour venue, 200 members with cards.
        let data = DataDirectory(path: base + "/kiosk")
        let config = """
            kiosk_id = "bench"
            [[venue]]
            id = "hall"
            hours = "24h"
            capacity = 100000
            checkout = "optional"
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: data.configPath))
        let key = CardSigningKey(keyID: 1)
        try DataDirectory.writePrivateFile(data.signingKeyPath, contents: key.fileText)
        _ = try AppDatabase.open(path: data.databasePath)
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let kiosk = try Kiosk.open(data, clock: { start })
        let members = try kiosk.database.addMembers(
            (0..<200).map { NewMember(name: "会员\($0)", group: .resident, born: 1980) }, at: start)
        var codes: [String] = []
        for m in members {
            codes.append(
                try kiosk.database.issueCard(
                    member: m.id, keyID: 1, today: kiosk.today(at: start), validityDays: 365, at: start, sign: key.sign
                ).code)
        }
        let service = try CheckInService(kiosk: kiosk)

        // The baseline: the same row shape, inserted with the same settings.
        let bare = try DatabasePool(path: base + "/bare.sqlite", configuration: AppDatabase.configuration())
        try bare.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE event (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, venue TEXT NOT NULL,
                      member INTEGER, "group" TEXT, direction TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT, via TEXT NOT NULL,
                      code_digest TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE);
                    CREATE INDEX event_code ON event(code_digest, venue, seq) WHERE code_digest IS NOT NULL;
                    CREATE INDEX event_at ON event(at);
                    """)
        }

        var engineLatencies: [Double] = []
        var bareLatencies: [Double] = []
        var engineTime = 0.0
        var bareTime = 0.0
        var rng = SeededRandom(seed: 7)
        let perRound = max(1, count / rounds)
        var done = 0
        let clock = ContinuousClock()
        while done < count {
            let n = min(perRound, count - done)
            let bareStart = clock.now
            for i in done..<(done + n) {
                let t0 = clock.now
                try bare.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO event (seq, id, at, venue, member, "group", direction, outcome, reason, via, code_digest, prev_hash, hash)
                            VALUES (?, ?, ?, 'hall', ?, 'resident', 'in', 'accepted', NULL, 'scan', ?, ?, ?)
                            """,
                        arguments: [
                            i + 1, UUID().uuidString, ISOTime.format(start.addingTimeInterval(Double(i))), i % 200 + 1,
                            String(i), String(repeating: "0", count: 64), String(format: "%064d", i),
                        ])
                }
                bareLatencies.append((clock.now - t0).seconds)
            }
            bareTime += (clock.now - bareStart).seconds
            let engineStart = clock.now
            for i in done..<(done + n) {
                let t0 = clock.now
                let at = start.addingTimeInterval(Double(i) * 61)
                let d = try service.checkIn(code: codes[i % codes.count], venue: "hall", at: at, guardianCode: nil, via: .scan, rng: &rng)
                engineLatencies.append((clock.now - t0).seconds)
                guard d.accepted, !d.isRepeat else {
                    throw KioskError("benchmark check-in \(i) was not accepted: \(d.reason?.rawValue ?? "repeat")")
                }
            }
            engineTime += (clock.now - engineStart).seconds
            done += n
        }
        // Context: what one fsync'd commit and one cold signature check cost on this machine.
        var unsynced: [Double] = []
        try bare.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = OFF") }
        let unsyncedStart = clock.now
        for i in 0..<min(count, 2000) {
            let t0 = clock.now
            try bare.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO event (id, at, venue, direction, outcome, via, prev_hash, hash) VALUES (?, 'x', 'hall', 'in', 'accepted', 'scan', 'p', ?)",
                    arguments: [UUID().uuidString, "nosync-\(i)"])
            }
            unsynced.append((clock.now - t0).seconds)
        }
        let unsyncedTime = (clock.now - unsyncedStart).seconds
        let verifyStart = clock.now
        for code in codes { _ = ScanReading.read(code, keys: service.reader.keys) }
        let verifyEach = (clock.now - verifyStart).seconds / Double(codes.count)
        return (
            BenchFigures(name: "engine check-in", count: count, seconds: engineTime, latencies: engineLatencies.sorted()),
            BenchFigures(name: "bare INSERT", count: count, seconds: bareTime, latencies: bareLatencies.sorted()),
            BenchContext(
                unsynced: BenchFigures(name: "bare, sync OFF", count: unsynced.count, seconds: unsyncedTime, latencies: unsynced.sorted()),
                coldVerifySeconds: verifyEach)
        )
    }
}

/// What the disk and the signature check cost, to read the ratio by.
public struct BenchContext: Sendable {
    /// The bare loop with `synchronous=OFF`: the difference to the bare loop is the fsync.
    public var unsynced: BenchFigures
    /// One Ed25519 card verification with nothing cached.
    public var coldVerifySeconds: Double
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

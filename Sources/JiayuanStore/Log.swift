import Foundation
import GRDB
import JiayuanDomain

/// The result of `jiayuan verify`.
public struct VerifyReport: Hashable, Sendable {
    /// Lines from `PRAGMA integrity_check` other than `ok`.
    public var integrityProblems: [String]
    /// Events checked.
    public var eventCount: Int64
    /// The first broken link of the chain, if any.
    public var chainProblem: ChainCheck.Problem?

    /// True when the database and the chain are sound.
    public var ok: Bool { integrityProblems.isEmpty && chainProblem == nil }
}

/// Figures for a period (DESIGN.md §3.1 `report`).
public struct AttendanceReport: Hashable, Sendable {
    /// Accepted check-ins per venue and group.
    public var visits: [String: [MemberGroup: Int]] = [:]
    /// Distinct members checked in per venue.
    public var uniqueMembers: [String: Int] = [:]
    /// Distinct members over all venues.
    public var uniqueMembersTotal = 0
    /// Denials per venue and reason.
    public var denials: [String: [DenialReason: Int]] = [:]
    /// Automatic check-outs per venue.
    public var autoCheckouts: [String: Int] = [:]
    /// Check-ins of the period voided by a correction, per venue (left out of every figure above).
    public var voided: [String: Int] = [:]
}

extension AppDatabase {
    /// `PRAGMA integrity_check` and the whole event chain, read in one snapshot.
    public func verify() throws -> VerifyReport {
        try read(Self.verify)
    }

    /// `PRAGMA integrity_check` and the event chain of any connection (a backup file, say).
    public static func verify(_ db: Database) throws -> VerifyReport {
        let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
        var previousSeq: Int64 = 0
        var previousHash = AttendanceEvent.genesisHash
        var problem: ChainCheck.Problem?
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM event ORDER BY seq")
        var count: Int64 = 0
        while let row = try cursor.next() {
            count += 1
            let event = try Self.decodeEvent(row)
            if let p = ChainCheck.check(event, previousSeq: previousSeq, previousHash: previousHash) {
                problem = p
                break
            }
            previousSeq = event.seq
            previousHash = event.hash
        }
        return VerifyReport(integrityProblems: integrity, eventCount: count, chainProblem: problem)
    }

    /// Writes a consistent copy of the database to `path` with `VACUUM INTO`, from a read-only connection
    /// of its own, so check-ins go on while it runs.
    public static func backup(databaseAt source: String, to path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: source, configuration: config)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [path]) }
        try queue.close()
    }

    /// Checks a database file without changing it (integrity and chain).
    public static func verifyFile(_ path: String) throws -> VerifyReport {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read(Self.verify)
    }

    /// Events with seq greater than `after`, in order, at most `limit` (read by primary-key range).
    public func events(after: Int64, limit: Int) throws -> [AttendanceEvent] {
        try read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM event WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [after, limit]
            ).map(Self.decodeEvent)
        }
    }

    /// A member's events (check-ins, check-outs, refusals) at or after `since`, newest first, at most `limit`.
    public func memberEvents(_ member: MemberID, since: Date, limit: Int = 200) throws -> [AttendanceEvent] {
        try read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM event WHERE member = ? AND at >= ? ORDER BY seq DESC LIMIT ?"),
                arguments: [Int64(member.number), Stamp.text(since), limit]
            ).map(Self.decodeEvent)
        }
    }

    /// The SQL condition on an `event` row that makes it a visit the figures count: an accepted check-in
    /// that no correction voided.
    static let countedVisit =
        "outcome = 'accepted' AND direction = 'in' AND NOT EXISTS (SELECT 1 FROM event AS v WHERE v.corrects = event.seq)"

    /// Accepted check-ins (not voided) per UTC hour for `from <= at < to` (the start of each hour and the count).
    public func checkInsPerHour(from: Date, to: Date) throws -> [(Date, Int)] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT substr(at, 1, 13) AS hour, COUNT(*) AS n FROM event
                    WHERE at >= ? AND at < ? AND \(Self.countedVisit) GROUP BY hour ORDER BY hour
                    """, arguments: [Stamp.text(from), Stamp.text(to)]
            ).map { (Stamp.date((($0["hour"] as String?) ?? "") + ":00:00Z"), $0["n"]) }
        }
    }

    /// Events recorded at an earlier time than the event before them (the clock was set back): how many,
    /// and the first one's seq.
    public func clockSetBack() throws -> (count: Int, firstSeq: Int64) {
        try read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(*) AS n, MIN(e.seq) AS first FROM event e JOIN event p ON p.seq = e.seq - 1 WHERE e.at < p.at")
            return (row?["n"] ?? 0, row?["first"] ?? 0)
        }
    }

    /// The newest event, if any.
    public func lastEvent() throws -> AttendanceEvent? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM event ORDER BY seq DESC LIMIT 1").map(Self.decodeEvent)
        }
    }

    /// Figures for events with `from <= at < to`.
    public func report(from: Date, to: Date) throws -> AttendanceReport {
        try read { db in
            var r = AttendanceReport()
            let args: StatementArguments = [Stamp.text(from), Stamp.text(to)]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, "group", COUNT(*) AS n FROM event
                    WHERE at >= ? AND at < ? AND \(Self.countedVisit) GROUP BY venue, "group"
                    """, arguments: args)
            {
                if let g = MemberGroup(rawValue: row["group"] ?? "") { r.visits[row["venue"], default: [:]][g] = row["n"] }
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, COUNT(DISTINCT member) AS n FROM event
                    WHERE at >= ? AND at < ? AND \(Self.countedVisit) GROUP BY venue
                    """, arguments: args)
            {
                r.uniqueMembers[row["venue"]] = row["n"]
            }
            r.uniqueMembersTotal =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(DISTINCT member) FROM event WHERE at >= ? AND at < ? AND \(Self.countedVisit)",
                    arguments: args) ?? 0
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, reason, COUNT(*) AS n FROM event
                    WHERE at >= ? AND at < ? AND outcome = 'denied' GROUP BY venue, reason
                    """, arguments: args)
            {
                if let reason = DenialReason(rawValue: row["reason"] ?? "") { r.denials[row["venue"], default: [:]][reason] = row["n"] }
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, COUNT(*) AS n FROM event
                    WHERE at >= ? AND at < ? AND via = 'auto' GROUP BY venue
                    """, arguments: args)
            {
                r.autoCheckouts[row["venue"]] = row["n"]
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT o.venue AS venue, COUNT(*) AS n FROM event AS v JOIN event AS o ON o.seq = v.corrects
                    WHERE o.at >= ? AND o.at < ? GROUP BY o.venue
                    """, arguments: args)
            {
                r.voided[row["venue"]] = row["n"]
            }
            return r
        }
    }
}

extension AppDatabase {
    /// A small durable write, to prove the kiosk can still record (the watchdog's probe): a full disk or a
    /// read-only database fails here, where a read would still succeed.
    public func heartbeat(at now: Date) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO heartbeat (id, at) VALUES (1, ?)", arguments: [Stamp.text(now)])
        }
    }
}

extension AppDatabase {
    /// Appends `count` events that continue the chain after the newest one, in one transaction with one
    /// prepared statement (benchmarks and tests that need a big log fast). `make(index, seq, prevHash)`
    /// builds event `index`; its seq and previous hash must be the ones given. Returns the last seq.
    @discardableResult
    public func appendChainedEvents(count: Int, _ make: (_ index: Int, _ seq: Int64, _ prevHash: String) -> AttendanceEvent) throws
        -> Int64
    {
        let last = try lastEvent()
        return try write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO event (seq, id, at, venue, member, "group", direction, outcome, reason, via, code_digest, prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
                    """)
            var prev = last?.hash ?? AttendanceEvent.genesisHash
            var seq = last?.seq ?? 0
            for i in 0..<count {
                seq += 1
                let e = make(i, seq, prev)
                precondition(e.seq == seq && e.prevHash == prev, "appendChainedEvents: the event must continue the chain")
                try statement.execute(arguments: [
                    e.seq, e.id, ISOTime.format(e.at), e.venue, e.member.map { Int64($0.number) }, e.group?.rawValue, e.direction.rawValue,
                    e.outcome.rawValue, e.reason?.rawValue, e.via.rawValue, e.prevHash, e.hash,
                ])
                prev = e.hash
            }
            return seq
        }
    }
}

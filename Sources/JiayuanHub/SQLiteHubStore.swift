import Foundation
import GRDB
import JiayuanDomain
import JiayuanWire

/// The hub's default store: one SQLite file in WAL mode, every batch one `IMMEDIATE` transaction.
public struct SQLiteHubStore: HubStore {
    public var kind: String { "sqlite" }
    let writer: any DatabaseWriter

    /// Opens (creating and migrating) the hub database at `path`, with at most `readers` reading connections
    /// (besides the one writer).
    public init(path: String, readers: Int = 4) throws {
        var config = Configuration()
        config.maximumReaderCount = max(1, readers)
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        writer = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(writer)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: kiosks and their logs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE kiosk (
                      id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
                      centre TEXT NOT NULL CHECK (length(centre) BETWEEN 1 AND 64),
                      token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
                      created_at TEXT NOT NULL,
                      last_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
                      last_hash TEXT NOT NULL,
                      last_upload_at TEXT
                    );
                    CREATE TABLE event (
                      kiosk TEXT NOT NULL REFERENCES kiosk(id),
                      seq INTEGER NOT NULL CHECK (seq >= 1),
                      id TEXT NOT NULL,
                      at TEXT NOT NULL,
                      venue TEXT NOT NULL,
                      member TEXT,
                      "group" TEXT,
                      direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
                      outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'denied')),
                      reason TEXT,
                      via TEXT NOT NULL,
                      prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                      hash TEXT NOT NULL CHECK (length(hash) = 64),
                      received_at TEXT NOT NULL,
                      PRIMARY KEY (kiosk, seq)
                    );
                    CREATE INDEX event_at ON event(at);
                    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
                      BEGIN SELECT RAISE(ABORT, 'uploaded events are never changed'); END;
                    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
                      BEGIN SELECT RAISE(ABORT, 'uploaded events are never deleted'); END;
                    CREATE TABLE batch (
                      kiosk TEXT NOT NULL REFERENCES kiosk(id),
                      idempotency_key TEXT NOT NULL,
                      first_seq INTEGER NOT NULL,
                      last_seq INTEGER NOT NULL,
                      received_at TEXT NOT NULL,
                      PRIMARY KEY (kiosk, idempotency_key)
                    );
                    """)
        }
        // Issue 17: corrections (`outcome` void, `corrects` = the voided check-in's seq). SQLite cannot change a
        // CHECK, so the table is rebuilt once with the same rows.
        migrator.registerMigration("v2: corrections") { db in
            try db.execute(
                sql: """
                    CREATE TABLE event_new (
                      kiosk TEXT NOT NULL REFERENCES kiosk(id),
                      seq INTEGER NOT NULL CHECK (seq >= 1),
                      id TEXT NOT NULL,
                      at TEXT NOT NULL,
                      venue TEXT NOT NULL,
                      member TEXT,
                      "group" TEXT,
                      direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
                      outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'denied', 'void')),
                      reason TEXT,
                      via TEXT NOT NULL,
                      prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                      hash TEXT NOT NULL CHECK (length(hash) = 64),
                      received_at TEXT NOT NULL,
                      corrects INTEGER CHECK ((outcome = 'void') = (corrects IS NOT NULL) AND (corrects IS NULL OR corrects < seq)),
                      PRIMARY KEY (kiosk, seq)
                    );
                    INSERT INTO event_new (kiosk, seq, id, at, venue, member, "group", direction, outcome, reason, via, prev_hash, hash, received_at)
                      SELECT kiosk, seq, id, at, venue, member, "group", direction, outcome, reason, via, prev_hash, hash, received_at FROM event;
                    DROP TABLE event;
                    ALTER TABLE event_new RENAME TO event;
                    CREATE INDEX event_at ON event(at);
                    CREATE UNIQUE INDEX event_corrects ON event(kiosk, corrects) WHERE corrects IS NOT NULL;
                    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
                      BEGIN SELECT RAISE(ABORT, 'uploaded events are never changed'); END;
                    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
                      BEGIN SELECT RAISE(ABORT, 'uploaded events are never deleted'); END;
                    """)
        }
        // The backlog each kiosk reports with its batches (issue 15); after the other changes' migrations.
        migrator.registerMigration("v4: reported backlog") { db in
            try db.execute(
                sql: """
                    ALTER TABLE kiosk ADD COLUMN reported_backlog INTEGER CHECK (reported_backlog >= 0);
                    ALTER TABLE kiosk ADD COLUMN backlog_reported_at TEXT;
                    """)
        }
        return migrator
    }

    public func addKiosk(id: String, centre: String, tokenHash: String, replace: Bool, at: Date) throws {
        try writer.write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT centre FROM kiosk WHERE id = ?", arguments: [id]) {
                guard replace else {
                    throw HubError("kiosk \(id) already has a token (use --replace to issue a new one; the old one stops working)")
                }
                guard existing == centre else { throw HubError("kiosk \(id) belongs to centre \(existing), not \(centre)") }
                try db.execute(sql: "UPDATE kiosk SET token_hash = ? WHERE id = ?", arguments: [tokenHash, id])
            } else {
                try db.execute(
                    sql: "INSERT INTO kiosk (id, centre, token_hash, created_at, last_hash) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, centre, tokenHash, ISOTime.format(at), AttendanceEvent.genesisHash])
            }
        }
    }

    public func kiosk(tokenHash: String) throws -> HubKiosk? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM kiosk WHERE token_hash = ?", arguments: [tokenHash]).map(Self.kiosk)
        }
    }

    public func kiosks() throws -> [HubKiosk] {
        try writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM kiosk ORDER BY id").map(Self.kiosk) }
    }

    static func kiosk(_ row: Row) -> HubKiosk {
        HubKiosk(
            id: row["id"], centre: row["centre"], lastSeq: row["last_seq"],
            lastUploadAt: (row["last_upload_at"] as String?).flatMap { ISOTime.parse($0, defaultZone: ISOTime.utc) },
            createdAt: ISOTime.parse(row["created_at"], defaultZone: ISOTime.utc) ?? Date(timeIntervalSince1970: 0),
            reportedBacklog: row["reported_backlog"],
            backlogReportedAt: (row["backlog_reported_at"] as String?).flatMap { ISOTime.parse($0, defaultZone: ISOTime.utc) })
    }

    public func receive(kiosk: String, events: [WireEvent], idempotencyKey: String?, at: Date) throws -> HubReceipt {
        try writer.write { db in
            guard let head = try Row.fetchOne(db, sql: "SELECT last_seq, last_hash FROM kiosk WHERE id = ?", arguments: [kiosk]) else {
                throw HubError("unknown kiosk \(kiosk)")
            }
            let lookup = try db.cachedStatement(sql: "SELECT hash FROM event WHERE kiosk = ? AND seq = ?")
            let plan = try HubChain.plan(batch: events, head: HubChain.Head(seq: head["last_seq"], hash: head["last_hash"])) { seq in
                try String.fetchOne(lookup, arguments: [kiosk, seq])
            }
            let now = ISOTime.format(at)
            try Self.insert(db, kiosk: kiosk, events: plan.insert, receivedAt: now)
            if !plan.insert.isEmpty {
                try db.execute(
                    sql: "UPDATE kiosk SET last_seq = ?, last_hash = ?, last_upload_at = ? WHERE id = ?",
                    arguments: [plan.newHead.seq, plan.newHead.hash, now, kiosk])
            }
            if let key = idempotencyKey, let first = events.first, let last = events.last {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO batch (kiosk, idempotency_key, first_seq, last_seq, received_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [kiosk, key, first.seq, last.seq, now])
            }
            return HubReceipt(verdict: plan.verdict, stored: plan.insert.count)
        }
    }

    public func recordBacklog(kiosk: String, backlog: Int64, at: Date) throws {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE kiosk SET reported_backlog = ?, backlog_reported_at = ? WHERE id = ?",
                arguments: [max(0, backlog), ISOTime.format(at), kiosk])
        }
    }

    static func insert(_ db: Database, kiosk: String, events: [WireEvent], receivedAt: String) throws {
        guard !events.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO event (kiosk, seq, id, at, venue, member, "group", direction, outcome, reason, via, prev_hash, hash, received_at, corrects)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for e in events {
            try insert.execute(arguments: [
                kiosk, e.seq, e.id, e.at, e.venue, e.member, e.group, e.direction, e.outcome, e.reason, e.via, e.prevHash, e.hash,
                receivedAt, e.corrects,
            ])
        }
    }

    public func bulkLoad(kiosk: String, events: [WireEvent], at: Date) throws {
        try writer.write { db in try Self.insert(db, kiosk: kiosk, events: events, receivedAt: ISOTime.format(at)) }
    }

    public func eventCount(kiosk: String?) throws -> Int64 {
        try writer.read { db in
            if let kiosk { return try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE kiosk = ?", arguments: [kiosk]) ?? 0 }
            return try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM event") ?? 0
        }
    }

    public func ping() throws {
        _ = try writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func verifyChain(kiosk: String) throws -> ChainCheck.Problem? {
        try writer.read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM event WHERE kiosk = ? ORDER BY seq", arguments: [kiosk])
            var previous = HubChain.Head.empty
            while let row = try cursor.next() {
                let event = try Self.event(row)
                if let problem = ChainCheck.check(event, previousSeq: previous.seq, previousHash: previous.hash) { return problem }
                previous = HubChain.Head(seq: event.seq, hash: event.hash)
            }
            return nil
        }
    }

    static func event(_ row: Row) throws -> AttendanceEvent {
        try AttendanceEvent(
            wire: WireEvent(
                seq: row["seq"], id: row["id"], at: row["at"], venue: row["venue"], member: row["member"], group: row["group"],
                direction: row["direction"], outcome: row["outcome"], reason: row["reason"], via: row["via"], prevHash: row["prev_hash"],
                hash: row["hash"], corrects: row["corrects"]))
    }
}

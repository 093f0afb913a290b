import Foundation
import JiayuanDomain
import JiayuanPostgres
import JiayuanWire

/// The hub on PostgreSQL, for a district with many centres: a small connection pool, the kiosk's head row
/// locked (`FOR UPDATE`) while a batch is checked, new events loaded with `COPY`.
public final class PostgresHubStore: HubStore {
    public var kind: String { "postgresql" }
    let pool: PGPool
    /// The zone of the rollup's days (`hub_setting` 'rollup_zone').
    let zone: TimeZone
    let months = MonthMark()

    /// Connects (failing now, in plain words, when the server cannot be reached), migrates the schema and
    /// makes this month's partitions and the next two. `zone` is the district's zone for the rollup's days:
    /// when it differs from the rollup's, the rollup is rebuilt from the events; nil keeps the rollup's.
    public init(url: String, connections: Int = 4, zone: TimeZone? = nil) throws {
        pool = try PGPool(url: url, size: connections)
        self.zone = try pool.withConnection { c in
            try Self.migrate(c)
            return try Self.settleZone(c, wanted: zone)
        }
        try ensurePartitions(now: Date())
    }

    /// The rollup's zone, rebuilt in `wanted` when that differs (under the migration lock).
    static func settleZone(_ c: PGConnection, wanted: TimeZone?) throws -> TimeZone {
        try c.transaction { c in
            _ = try c.execute("SELECT pg_advisory_xact_lock(7270501)")
            let stored = try c.execute("SELECT value FROM hub_setting WHERE key = 'rollup_zone'").rows.first?[0] ?? nil
            let name = wanted?.identifier ?? stored ?? HubOptions().zone.identifier
            if stored != name { try PostgresSchema.rebuildRollup(c, zone: name) }
            guard let zone = TimeZone(identifier: name) else { throw HubError("the hub's rollup zone \(name) is not a known time zone") }
            return zone
        }
    }

    /// Makes this UTC month's partitions and the next two, and those of the months `events` fall in (a
    /// backlog from months ago) back to ten years before now; each month once per process. An event dated
    /// further out (a kiosk whose clock is wrong) is kept by the default partition.
    func ensurePartitions(now: Date, events: [WireEvent] = []) throws {
        let current = MonthMark.index(LocalTime(now, in: ISOTime.utc).date)
        var wanted = Set(current...(current + 2))
        for e in events {
            guard e.at.count >= 7, let year = Int(e.at.prefix(4)), let month = Int(e.at.dropFirst(5).prefix(2)) else { continue }
            let index = year * 12 + month - 1
            if index >= current - 120 && index <= current + 2 { wanted.insert(index) }
        }
        let missing = wanted.filter(months.needs).sorted()
        guard !missing.isEmpty else { return }
        try pool.withConnection { c in
            try c.execute(
                "SELECT hub_ensure_month(m) FROM unnest($1::date[]) m",
                [PostgresSchema.array(missing.map { MonthMark.firstDay($0).description })])
        }
        for m in missing { months.done(m) }
    }

    static let migrations: [(Int, String)] = [
        (
            1,
            """
            CREATE TABLE hub_kiosk (
              id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
              centre text NOT NULL CHECK (length(centre) BETWEEN 1 AND 64),
              token_hash text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
              created_at timestamptz NOT NULL,
              last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
              last_hash text NOT NULL,
              last_upload_at timestamptz
            );
            CREATE TABLE hub_event (
              kiosk text NOT NULL REFERENCES hub_kiosk(id),
              seq bigint NOT NULL CHECK (seq >= 1),
              id text NOT NULL,
              at timestamptz NOT NULL,
              venue text NOT NULL,
              member text,
              grp text,
              direction text NOT NULL CHECK (direction IN ('in', 'out')),
              outcome text NOT NULL CHECK (outcome IN ('accepted', 'denied')),
              reason text,
              via text NOT NULL,
              prev_hash text NOT NULL CHECK (length(prev_hash) = 64),
              hash text NOT NULL CHECK (length(hash) = 64),
              received_at timestamptz NOT NULL,
              PRIMARY KEY (kiosk, seq)
            );
            CREATE INDEX hub_event_at ON hub_event (at);
            CREATE FUNCTION hub_event_append_only() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN RAISE EXCEPTION 'uploaded events are never changed or deleted'; END $$;
            CREATE TRIGGER hub_event_append_only BEFORE UPDATE OR DELETE ON hub_event
              FOR EACH ROW EXECUTE FUNCTION hub_event_append_only();
            CREATE TABLE hub_batch (
              kiosk text NOT NULL REFERENCES hub_kiosk(id),
              idempotency_key text NOT NULL,
              first_seq bigint NOT NULL,
              last_seq bigint NOT NULL,
              received_at timestamptz NOT NULL,
              PRIMARY KEY (kiosk, idempotency_key)
            );
            """
        ),
        (
            2,
            // Issue 17: corrections (`outcome` void, `corrects` = the voided check-in's seq of the same kiosk).
            """
            ALTER TABLE hub_event ADD COLUMN corrects bigint;
            ALTER TABLE hub_event DROP CONSTRAINT hub_event_outcome_check;
            ALTER TABLE hub_event ADD CONSTRAINT hub_event_outcome_check CHECK (outcome IN ('accepted', 'denied', 'void'));
            ALTER TABLE hub_event ADD CONSTRAINT hub_event_corrects_check
              CHECK ((outcome = 'void') = (corrects IS NOT NULL) AND (corrects IS NULL OR corrects < seq));
            CREATE UNIQUE INDEX hub_event_corrects ON hub_event (kiosk, corrects) WHERE corrects IS NOT NULL;
            """
        ),
        (3, PostgresSchema.partitionedEvents),
        // The backlog each kiosk reports with its batches (issue 15). Numbered 4: 2 and 3 are other changes'.
        (
            4,
            """
            ALTER TABLE hub_kiosk ADD COLUMN reported_backlog bigint CHECK (reported_backlog >= 0);
            ALTER TABLE hub_kiosk ADD COLUMN backlog_reported_at timestamptz;
            """
        ),
    ]

    /// Applies the migrations not yet applied (shipped ones are never edited), under an advisory lock so
    /// two hubs starting together do not race.
    static func migrate(_ c: PGConnection, through last: Int = .max) throws {
        try c.transaction { c in
            _ = try c.execute("SELECT pg_advisory_xact_lock(7270501)")
            _ = try c.execute(
                "CREATE TABLE IF NOT EXISTS hub_migration (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let done = Set(try c.execute("SELECT version FROM hub_migration").rows.compactMap { $0[0].flatMap { Int($0) } })
            for (version, sql) in migrations where !done.contains(version) && version <= last {
                _ = try c.execute(sql)
                _ = try c.execute("INSERT INTO hub_migration (version) VALUES ($1)", [String(version)])
            }
        }
    }

    /// Drops the hub's tables from a database (the benchmark starts from nothing). Irreversible.
    public static func dropSchema(url: String) throws {
        let c = try PGConnection(url: url)
        defer { c.close() }
        _ = try c.execute(
            """
            DROP TABLE IF EXISTS hub_batch, hub_event, hub_kiosk, hub_migration, hub_rollup, hub_rollup_member, hub_setting, hub_export, hub_void, hub_rollup_district CASCADE;
            DROP FUNCTION IF EXISTS hub_event_append_only(); DROP FUNCTION IF EXISTS hub_ensure_month(date)
            """)
    }

    /// UTC text of a timestamptz column, in the log's one spelling.
    static func utc(_ column: String) -> String { "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" }

    public func addKiosk(id: String, centre: String, tokenHash: String, replace: Bool, at: Date) throws {
        try pool.withConnection { c in
            try c.transaction { c in
                let existing = try c.execute("SELECT centre FROM hub_kiosk WHERE id = $1 FOR UPDATE", [id])
                if let current = existing.rows.first?[0] {
                    guard replace else {
                        throw HubError("kiosk \(id) already has a token (use --replace to issue a new one; the old one stops working)")
                    }
                    guard current == centre else { throw HubError("kiosk \(id) belongs to centre \(current), not \(centre)") }
                    _ = try c.execute("UPDATE hub_kiosk SET token_hash = $1 WHERE id = $2", [tokenHash, id])
                } else {
                    _ = try c.execute(
                        "INSERT INTO hub_kiosk (id, centre, token_hash, created_at, last_hash) VALUES ($1, $2, $3, $4, $5)",
                        [id, centre, tokenHash, ISOTime.format(at), AttendanceEvent.genesisHash])
                }
            }
        }
    }

    static let kioskColumns =
        "id, centre, last_seq, \(utc("last_upload_at")) AS last_upload_at, \(utc("created_at")) AS created_at, reported_backlog, "
        + "\(utc("backlog_reported_at")) AS backlog_reported_at"

    static func kiosks(_ r: PGResult) -> [HubKiosk] {
        (0..<r.count).map { i in
            HubKiosk(
                id: r.string(i, "id") ?? "", centre: r.string(i, "centre") ?? "", lastSeq: r.int64(i, "last_seq") ?? 0,
                lastUploadAt: r.string(i, "last_upload_at").flatMap { ISOTime.parse($0, defaultZone: ISOTime.utc) },
                createdAt: r.string(i, "created_at").flatMap { ISOTime.parse($0, defaultZone: ISOTime.utc) }
                    ?? Date(timeIntervalSince1970: 0),
                reportedBacklog: r.int64(i, "reported_backlog"),
                backlogReportedAt: r.string(i, "backlog_reported_at").flatMap { ISOTime.parse($0, defaultZone: ISOTime.utc) })
        }
    }

    public func kiosk(tokenHash: String) throws -> HubKiosk? {
        try pool.withConnection { c in
            Self.kiosks(try c.execute("SELECT \(Self.kioskColumns) FROM hub_kiosk WHERE token_hash = $1", [tokenHash])).first
        }
    }

    public func kiosks() throws -> [HubKiosk] {
        try pool.withConnection { c in Self.kiosks(try c.execute("SELECT \(Self.kioskColumns) FROM hub_kiosk ORDER BY id")) }
    }

    static let copyEvents =
        "COPY hub_event (kiosk, seq, id, at, venue, member, grp, direction, outcome, reason, via, prev_hash, hash, received_at, corrects) FROM STDIN"

    static func rows(kiosk: String, events: [WireEvent], receivedAt: String) -> [[String?]] {
        events.map { e in
            [
                kiosk, String(e.seq), e.id, e.at, e.venue, e.member, e.group, e.direction, e.outcome, e.reason, e.via, e.prevHash, e.hash,
                receivedAt, e.corrects.map { String($0) },
            ]
        }
    }

    public func receive(kiosk: String, events: [WireEvent], idempotencyKey: String?, at: Date) throws -> HubReceipt {
        try ensurePartitions(now: at, events: events)
        // Two kiosks of one centre may lock rollup rows in different orders: PostgreSQL then aborts one
        // transaction (deadlock), which is simply run again.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try receiveOnce(kiosk: kiosk, events: events, idempotencyKey: idempotencyKey, at: at)
            } catch let error as PGError where (error.sqlState == "40P01" || error.sqlState == "40001") && attempt < 5 {
                continue
            }
        }
    }

    func receiveOnce(kiosk: String, events: [WireEvent], idempotencyKey: String?, at: Date) throws -> HubReceipt {
        try pool.withConnection { c in
            try c.transaction { c in
                let head = try c.execute("SELECT last_seq, last_hash, centre FROM hub_kiosk WHERE id = $1 FOR UPDATE", [kiosk])
                guard head.count == 1, let seq = head.int64(0, "last_seq"), let hash = head.string(0, "last_hash"),
                    let centre = head.string(0, "centre")
                else {
                    throw HubError("unknown kiosk \(kiosk)")
                }
                // The hashes already held for the part of the batch the hub has seen, in one query.
                var stored: [Int64: String] = [:]
                if let first = events.first, first.seq <= seq {
                    let r = try c.execute(
                        "SELECT seq, hash FROM hub_event WHERE kiosk = $1 AND seq BETWEEN $2 AND $3",
                        [kiosk, String(first.seq), String(min(seq, events.last!.seq))])
                    for i in 0..<r.count { if let s = r.int64(i, "seq") { stored[s] = r.string(i, "hash") } }
                }
                let plan = HubChain.plan(batch: events, head: HubChain.Head(seq: seq, hash: hash)) { stored[$0] }
                let now = ISOTime.format(at)
                if !plan.insert.isEmpty {
                    _ = try c.copyIn(Self.copyEvents, rows: Self.rows(kiosk: kiosk, events: plan.insert, receivedAt: now))
                    try addToRollup(c, kiosk: kiosk, centre: centre, events: plan.insert)
                }
                // The new head and the batch's key in one round trip.
                _ = try c.execute(
                    """
                    WITH head AS (
                      UPDATE hub_kiosk SET last_seq = $1, last_hash = $2, last_upload_at = $3 WHERE id = $4 AND $5::bool
                    )
                    INSERT INTO hub_batch (kiosk, idempotency_key, first_seq, last_seq, received_at)
                    SELECT $4, $6, $7, $8, $3 WHERE $6::text IS NOT NULL
                    ON CONFLICT DO NOTHING
                    """,
                    [
                        String(plan.newHead.seq), plan.newHead.hash, now, kiosk, plan.insert.isEmpty ? "false" : "true", idempotencyKey,
                        String(events.first?.seq ?? 0), String(events.last?.seq ?? 0),
                    ])
                return HubReceipt(verdict: plan.verdict, stored: plan.insert.count)
            }
        }
    }

    public func recordBacklog(kiosk: String, backlog: Int64, at: Date) throws {
        try pool.withConnection { c in
            _ = try c.execute(
                "UPDATE hub_kiosk SET reported_backlog = $1, backlog_reported_at = $2 WHERE id = $3",
                [String(max(0, backlog)), ISOTime.format(at), kiosk])
        }
    }

    public func bulkLoad(kiosk: String, events: [WireEvent], at: Date) throws {
        try pool.withConnection { c in
            try c.transaction { c in
                _ = try c.copyIn(Self.copyEvents, rows: Self.rows(kiosk: kiosk, events: events, receivedAt: ISOTime.format(at)))
            }
        }
    }

    public func eventCount(kiosk: String?) throws -> Int64 {
        try pool.withConnection { c in
            let r =
                try kiosk.map { try c.execute("SELECT count(*) AS n FROM hub_event WHERE kiosk = $1", [$0]) }
                ?? c.execute("SELECT count(*) AS n FROM hub_event")
            return r.int64(0, "n") ?? 0
        }
    }

    public func ping() throws {
        try pool.withConnection { c in _ = try c.execute("SELECT 1") }
    }

    public func verifyChain(kiosk: String) throws -> ChainCheck.Problem? {
        try pool.withConnection { c in
            var previous = HubChain.Head.empty
            while true {
                let r = try c.execute(
                    """
                    SELECT seq, id, \(Self.utc("at")) AS at, venue, member, grp, direction, outcome, reason, via, prev_hash, hash, corrects
                    FROM hub_event WHERE kiosk = $1 AND seq > $2 ORDER BY seq LIMIT 10000
                    """, [kiosk, String(previous.seq)])
                if r.count == 0 { return nil }
                for i in 0..<r.count {
                    let event = try AttendanceEvent(
                        wire: WireEvent(
                            seq: r.int64(i, "seq") ?? 0, id: r.string(i, "id") ?? "", at: r.string(i, "at") ?? "",
                            venue: r.string(i, "venue") ?? "",
                            member: r.string(i, "member"), group: r.string(i, "grp"), direction: r.string(i, "direction") ?? "",
                            outcome: r.string(i, "outcome") ?? "", reason: r.string(i, "reason"), via: r.string(i, "via") ?? "",
                            prevHash: r.string(i, "prev_hash") ?? "", hash: r.string(i, "hash") ?? "", corrects: r.int64(i, "corrects")))
                    if let problem = ChainCheck.check(event, previousSeq: previous.seq, previousHash: previous.hash) { return problem }
                    previous = HubChain.Head(seq: event.seq, hash: event.hash)
                }
            }
        }
    }
}

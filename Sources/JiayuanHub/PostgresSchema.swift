import Foundation
import JiayuanDomain
import JiayuanPostgres
import JiayuanWire

/// The city-scale layout of the hub on PostgreSQL (migration 3): events partitioned by UTC month, and the
/// daily rollup the figures are served from.
///
/// **Exactly once without a global unique index.** A partitioned table's primary key must contain the
/// partition key, so the key is `(kiosk, seq, at)` and PostgreSQL alone no longer refuses a second row with
/// the same `(kiosk, seq)` in another month. Uniqueness is kept by the only writer, `receive`: it locks the
/// kiosk's head row (`SELECT … FOR UPDATE`), inserts only seqs above the head (`HubChain.plan`), and moves the
/// head in the same transaction. Two batches of one kiosk on two instances therefore run one after the other,
/// and the second sees the first's head (READ COMMITTED re-reads a locked row once its lock is released).
/// Within one month partition the key still refuses a duplicate outright.
enum PostgresSchema {
    /// Migration 3: the partitioned event table (rows copied across), the month-making function, the rollup.
    static let partitionedEvents = """
        ALTER TABLE hub_event RENAME TO hub_event_unpartitioned;
        ALTER TABLE hub_event_unpartitioned RENAME CONSTRAINT hub_event_pkey TO hub_event_unpartitioned_pkey;
        ALTER TABLE hub_event_unpartitioned RENAME CONSTRAINT hub_event_corrects_check TO hub_event_unpartitioned_corrects_check;
        DROP INDEX hub_event_corrects;
        DROP TRIGGER hub_event_append_only ON hub_event_unpartitioned;
        DROP INDEX IF EXISTS hub_event_at;
        CREATE TABLE hub_event (
          kiosk text NOT NULL REFERENCES hub_kiosk(id),
          seq bigint NOT NULL CHECK (seq >= 1),
          id text NOT NULL,
          at timestamptz NOT NULL,
          venue text NOT NULL,
          member text,
          grp text,
          direction text NOT NULL CHECK (direction IN ('in', 'out')),
          outcome text NOT NULL CHECK (outcome IN ('accepted', 'denied', 'void')),
          reason text,
          via text NOT NULL,
          prev_hash text NOT NULL CHECK (length(prev_hash) = 64),
          hash text NOT NULL CHECK (length(hash) = 64),
          received_at timestamptz NOT NULL,
          corrects bigint CONSTRAINT hub_event_corrects_check
            CHECK ((outcome = 'void') = (corrects IS NOT NULL) AND (corrects IS NULL OR corrects < seq)),
          PRIMARY KEY (kiosk, seq, at)
        ) PARTITION BY RANGE (at);
        CREATE TABLE hub_event_default PARTITION OF hub_event DEFAULT;
        CREATE TRIGGER hub_event_append_only BEFORE UPDATE OR DELETE ON hub_event
          FOR EACH ROW EXECUTE FUNCTION hub_event_append_only();
        -- A check-in is voided at most once. A unique index on a partitioned table must hold the partition
        -- key, so the voided seqs are kept in a table of their own, written in the same transaction as the void.
        CREATE TABLE hub_void (
          kiosk text NOT NULL,
          corrects bigint NOT NULL,
          seq bigint NOT NULL,
          PRIMARY KEY (kiosk, corrects)
        );

        -- Daily figures per centre, venue and group, in the district's zone (hub_setting 'rollup_zone').
        CREATE TABLE hub_rollup (
          centre text NOT NULL,
          day date NOT NULL,
          venue text NOT NULL,
          grp text NOT NULL,
          visits bigint NOT NULL CHECK (visits >= 0),
          members bigint NOT NULL CHECK (members >= 0),
          PRIMARY KEY (centre, day, venue, grp)
        );
        -- The district's figures (all centres added up), spread over 16 rows a day, venue and group (`shard`)
        -- so that batches of different centres rarely wait for one another.
        CREATE TABLE hub_rollup_district (
          shard smallint NOT NULL,
          day date NOT NULL,
          venue text NOT NULL,
          grp text NOT NULL,
          visits bigint NOT NULL,
          members bigint NOT NULL,
          PRIMARY KEY (day, venue, grp, shard)
        );
        -- Who was counted on a rollup row (so a batch adds only members new to that day), by local month.
        CREATE TABLE hub_rollup_member (
          centre text NOT NULL,
          day date NOT NULL,
          venue text NOT NULL,
          grp text NOT NULL,
          member text NOT NULL,
          PRIMARY KEY (centre, day, venue, grp, member)
        ) PARTITION BY RANGE (day);
        CREATE TABLE hub_rollup_member_default PARTITION OF hub_rollup_member DEFAULT;
        CREATE TABLE hub_setting (key text PRIMARY KEY, value text NOT NULL);
        -- Months written out by `jiayuan-hub export` (and how many rows the file holds).
        CREATE TABLE hub_export (
          month date PRIMARY KEY,
          rows bigint NOT NULL,
          file text NOT NULL,
          exported_at timestamptz NOT NULL
        );

        -- Makes the partitions of month m (its first day) if missing: events by UTC instant, rollup members by
        -- local day. Rows the default partitions caught for that month (a kiosk whose clock ran ahead) move in.
        CREATE FUNCTION hub_ensure_month(m date) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
          ev text := 'hub_event_' || to_char(m, 'YYYY_MM');
          mem text := 'hub_rollup_member_' || to_char(m, 'YYYY_MM');
          lo timestamptz := m::timestamp AT TIME ZONE 'UTC';
          hi timestamptz := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';
          hi_day date := (m + interval '1 month')::date;
        BEGIN
          IF to_regclass(ev) IS NOT NULL AND to_regclass(mem) IS NOT NULL THEN RETURN; END IF;
          PERFORM pg_advisory_xact_lock(7270502);
          IF to_regclass(ev) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE hub_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', ev);
            IF EXISTS (SELECT 1 FROM hub_event_default WHERE at >= lo AND at < hi) THEN
              EXECUTE format('INSERT INTO %I SELECT * FROM hub_event_default WHERE at >= $1 AND at < $2', ev) USING lo, hi;
              ALTER TABLE hub_event_default DISABLE TRIGGER hub_event_append_only;
              DELETE FROM hub_event_default WHERE at >= lo AND at < hi;
              ALTER TABLE hub_event_default ENABLE TRIGGER hub_event_append_only;
            END IF;
            EXECUTE format('ALTER TABLE hub_event ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', ev, lo, hi);
          END IF;
          IF to_regclass(mem) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE hub_rollup_member INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', mem);
            EXECUTE format('INSERT INTO %I SELECT * FROM hub_rollup_member_default WHERE day >= $1 AND day < $2', mem) USING m, hi_day;
            DELETE FROM hub_rollup_member_default WHERE day >= m AND day < hi_day;
            EXECUTE format('ALTER TABLE hub_rollup_member ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', mem, m, hi_day);
          END IF;
        END $$;

        SELECT hub_ensure_month(m::date)
          FROM (SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') AS m FROM hub_event_unpartitioned) months;
        INSERT INTO hub_event (kiosk, seq, id, at, venue, member, grp, direction, outcome, reason, via, prev_hash, hash, received_at, corrects)
          SELECT kiosk, seq, id, at, venue, member, grp, direction, outcome, reason, via, prev_hash, hash, received_at, corrects
          FROM hub_event_unpartitioned;
        INSERT INTO hub_void (kiosk, corrects, seq) SELECT kiosk, corrects, seq FROM hub_event_unpartitioned WHERE corrects IS NOT NULL;
        DROP TABLE hub_event_unpartitioned;
        """

    /// The rollup rebuilt from the events in `zone` (after migration 3, when the district's zone changes, and
    /// after a benchmark's bulk load). Voided visits are not counted.
    static func rebuildRollup(_ c: PGConnection, zone: String) throws {
        try c.execute("DELETE FROM hub_rollup; DELETE FROM hub_rollup_member; DELETE FROM hub_rollup_district")
        try c.execute(
            """
            INSERT INTO hub_rollup_member (centre, day, venue, grp, member)
            SELECT DISTINCT k.centre, (e.at AT TIME ZONE $1)::date, e.venue, COALESCE(e.grp, ''), e.member
            FROM hub_event e JOIN hub_kiosk k ON k.id = e.kiosk
            WHERE \(countedVisit("e")) AND e.member IS NOT NULL
            """, [zone])
        try c.execute(
            """
            INSERT INTO hub_rollup (centre, day, venue, grp, visits, members)
            SELECT k.centre, (e.at AT TIME ZONE $1)::date, e.venue, COALESCE(e.grp, ''), count(*), count(DISTINCT e.member)
            FROM hub_event e JOIN hub_kiosk k ON k.id = e.kiosk
            WHERE \(countedVisit("e"))
            GROUP BY 1, 2, 3, 4
            """, [zone])
        try c.execute(
            """
            INSERT INTO hub_rollup_district (shard, day, venue, grp, visits, members)
            SELECT 0, day, venue, grp, sum(visits), sum(members) FROM hub_rollup GROUP BY 2, 3, 4
            """)
        try c.execute(
            "INSERT INTO hub_setting (key, value) VALUES ('rollup_zone', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [zone])
    }

    /// The SQL condition for an event that counts as a visit: an accepted check-in that no later event voided.
    static func countedVisit(_ e: String) -> String {
        """
        \(e).outcome = 'accepted' AND \(e).direction = 'in' AND NOT EXISTS (
          SELECT 1 FROM hub_void v WHERE v.kiosk = \(e).kiosk AND v.corrects = \(e).seq)
        """
    }

    /// A PostgreSQL array literal of text values (`{"a","b"}`), each quoted and escaped.
    static func array(_ values: [String]) -> String {
        var out = "{"
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in v.unicodeScalars {
                if ch == "\\" || ch == "\"" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }
}

extension PostgresSchema {
    /// Brings a database's schema to `version` only, without the rest of opening a store (tests of the
    /// migrations).
    static func migrate(url: String, through version: Int) throws {
        let c = try PGConnection(url: url)
        defer { c.close() }
        try PostgresHubStore.migrate(c, through: version)
    }

    /// Copies events into whatever `hub_event` is now, bypassing everything (tests of the migrations).
    static func copy(url: String, kiosk: String, events: [WireEvent], at: Date) throws {
        let c = try PGConnection(url: url)
        defer { c.close() }
        try c.copyIn(PostgresHubStore.copyEvents, rows: PostgresHubStore.rows(kiosk: kiosk, events: events, receivedAt: ISOTime.format(at)))
    }
}

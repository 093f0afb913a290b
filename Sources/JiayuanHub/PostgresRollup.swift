import Foundation
import JiayuanDomain
import JiayuanPostgres
import JiayuanWire

/// The UTC months (year × 12 + month) whose partitions this process knows exist.
final class MonthMark: @unchecked Sendable {
    private let lock = NSLock()
    private var known: Set<Int> = []

    func needs(_ index: Int) -> Bool { lock.withLock { !known.contains(index) } }
    func done(_ index: Int) { lock.withLock { _ = known.insert(index) } }

    /// A month's index, and its first day.
    static func index(_ day: CivilDate) -> Int { day.year * 12 + day.month - 1 }
    static func firstDay(_ index: Int) -> CivilDate { CivilDate(year: index / 12, month: index % 12 + 1, day: 1) }
}

extension PostgresHubStore {
    /// Adds a batch's new events to the daily rollup, in the batch's transaction and in one statement: the
    /// members new to a row are inserted (a member already counted that day is skipped), then each row's
    /// visits and new members are added. Rows and members go in sorted order, so that two kiosks of one
    /// centre take the row locks in the same order.
    func addToRollup(_ c: PGConnection, kiosk: String, centre: String, events: [WireEvent]) throws {
        try addVisits(c, centre: centre, events: events)
        let voids = events.filter { $0.outcome == "void" }.compactMap { e in e.corrects.map { (seq: e.seq, corrects: $0) } }
        if !voids.isEmpty { try applyVoids(c, kiosk: kiosk, centre: centre, voids: voids.sorted { $0.corrects < $1.corrects }) }
    }

    /// Counts a batch's check-ins.
    func addVisits(_ c: PGConnection, centre: String, events: [WireEvent]) throws {
        let (visits, members) = HubRollup.delta(events, zone: zone)
        guard !visits.isEmpty else { return }
        let keys = visits.keys.sorted()
        var memberKeys: [(HubRollup.Key, String)] = []
        for k in keys { for m in (members[k] ?? []).sorted() { memberKeys.append((k, m)) } }
        try c.execute(
            """
            WITH m AS (
              INSERT INTO hub_rollup_member (centre, day, venue, grp, member)
              SELECT $1, * FROM unnest($6::date[], $7::text[], $8::text[], $9::text[])
              ON CONFLICT DO NOTHING
              RETURNING day, venue, grp
            ), n AS (SELECT day, venue, grp, count(*) AS members FROM m GROUP BY 1, 2, 3),
            v AS MATERIALIZED (
              SELECT v.day, v.venue, v.grp, v.visits, COALESCE(n.members, 0) AS members
              FROM unnest($2::date[], $3::text[], $4::text[], $5::bigint[]) AS v(day, venue, grp, visits)
              LEFT JOIN n USING (day, venue, grp)
            ), d AS (
              INSERT INTO hub_rollup_district AS r (shard, day, venue, grp, visits, members)
              SELECT $10, * FROM v ORDER BY day, venue, grp
              ON CONFLICT (day, venue, grp, shard) DO UPDATE SET visits = r.visits + EXCLUDED.visits, members = r.members + EXCLUDED.members
            )
            INSERT INTO hub_rollup AS r (centre, day, venue, grp, visits, members)
            SELECT $1, * FROM v ORDER BY day, venue, grp
            ON CONFLICT (centre, day, venue, grp) DO UPDATE SET visits = r.visits + EXCLUDED.visits, members = r.members + EXCLUDED.members
            """,
            [
                centre,
                PostgresSchema.array(keys.map(\.day.description)), PostgresSchema.array(keys.map(\.venue)),
                PostgresSchema.array(keys.map(\.group)), PostgresSchema.array(keys.map { String(visits[$0]!) }),
                PostgresSchema.array(memberKeys.map(\.0.day.description)), PostgresSchema.array(memberKeys.map(\.0.venue)),
                PostgresSchema.array(memberKeys.map(\.0.group)), PostgresSchema.array(memberKeys.map(\.1)),
                String(Self.shard(centre)),
            ])
    }

    /// The district row a centre adds into: the district's figures are spread over 16 rows per day, venue
    /// and group, so that batches of different centres rarely wait for one another's row lock. Any spread
    /// gives the same sums; FNV-1a of the centre keeps one centre on one row.
    static func shard(_ centre: String) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in centre.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int(h % 16)
    }

    /// Takes voided check-ins out of the rollup (issue 17): each voided seq is recorded in `hub_void` (a
    /// second void of the same check-in violates its key, as the unique index did before partitioning), the
    /// original's row loses the visit, and the member leaves the row unless another counted visit of the
    /// same day, venue and group remains in the events.
    func applyVoids(_ c: PGConnection, kiosk: String, centre: String, voids: [(seq: Int64, corrects: Int64)]) throws {
        try c.execute(
            "INSERT INTO hub_void (kiosk, corrects, seq) SELECT $1, * FROM unnest($2::bigint[], $3::bigint[])",
            [kiosk, PostgresSchema.array(voids.map { String($0.corrects) }), PostgresSchema.array(voids.map { String($0.seq) })])
        for v in voids {
            let r = try c.execute(
                "SELECT \(Self.utc("at")) AS at, venue, member, grp, outcome, direction FROM hub_event WHERE kiosk = $1 AND seq = $2",
                [kiosk, String(v.corrects)])
            guard r.count == 1, HubRollup.isVisit(outcome: r.string(0, "outcome") ?? "", direction: r.string(0, "direction") ?? ""),
                let key = HubRollup.key(
                    at: r.string(0, "at") ?? "", venue: r.string(0, "venue") ?? "", group: r.string(0, "grp"), zone: zone)
            else { continue }
            let row = [centre, key.day.description, key.venue, key.group]
            try c.execute("UPDATE hub_rollup SET visits = visits - 1 WHERE centre = $1 AND day = $2::date AND venue = $3 AND grp = $4", row)
            try c.execute(
                """
                INSERT INTO hub_rollup_district AS r (shard, day, venue, grp, visits, members) VALUES ($1, $2::date, $3, $4, -1, 0)
                ON CONFLICT (day, venue, grp, shard) DO UPDATE SET visits = r.visits - 1
                """, [String(Self.shard(centre)), key.day.description, key.venue, key.group])
            guard let member = r.string(0, "member") else { continue }
            let (start, end) = HubStats.range(from: key.day, to: key.day, zone: zone)
            try c.execute(
                """
                WITH gone AS (
                  DELETE FROM hub_rollup_member
                  WHERE centre = $1 AND day = $2::date AND venue = $3 AND grp = $4 AND member = $5 AND NOT EXISTS (
                    SELECT 1 FROM hub_event e JOIN hub_kiosk k ON k.id = e.kiosk
                    WHERE k.centre = $1 AND e.at >= $6 AND e.at < $7 AND e.venue = $3 AND COALESCE(e.grp, '') = $4 AND e.member = $5
                      AND \(PostgresSchema.countedVisit("e")))
                  RETURNING 1),
                district AS (
                  UPDATE hub_rollup_district SET members = members - (SELECT count(*) FROM gone)
                  WHERE shard = $8 AND day = $2::date AND venue = $3 AND grp = $4)
                UPDATE hub_rollup SET members = members - (SELECT count(*) FROM gone)
                WHERE centre = $1 AND day = $2::date AND venue = $3 AND grp = $4
                """, row + [member, ISOTime.format(start), ISOTime.format(end), String(Self.shard(centre))])
        }
    }

    public func dailyVisits(from: CivilDate, to: CivilDate, centre: String?, zone asked: TimeZone) throws -> [DailyVisits] {
        try pool.withConnection { c in
            let r: PGResult
            if asked.identifier == zone.identifier {
                // One centre's rows, or the district's (16 a day, venue and group, whatever the centres).
                r = try c.execute(
                    centre == nil
                        ? """
                        SELECT day::text AS day, venue, grp, sum(visits) AS visits, sum(members) AS members FROM hub_rollup_district
                        WHERE day BETWEEN $1::date AND $2::date GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                        """
                        : """
                        SELECT day::text AS day, venue, grp, visits, members FROM hub_rollup
                        WHERE centre = $3 AND day BETWEEN $1::date AND $2::date ORDER BY 1, 2, 3
                        """, [from.description, to.description] + (centre.map { [$0] } ?? []))
            } else {
                // Another zone than the rollup's: counted from the events (slow on a large hub).
                let (start, end) = HubStats.range(from: from, to: to, zone: asked)
                r = try c.execute(
                    """
                    SELECT day::text AS day, venue, grp, sum(visits) AS visits, sum(members) AS members FROM (
                      SELECT (e.at AT TIME ZONE $4)::date AS day, k.centre, e.venue, COALESCE(e.grp, '') AS grp,
                             count(*) AS visits, count(DISTINCT e.member) AS members
                      FROM hub_event e JOIN hub_kiosk k ON k.id = e.kiosk
                      WHERE e.at >= $1 AND e.at < $2 AND ($3::text IS NULL OR k.centre = $3) AND \(PostgresSchema.countedVisit("e"))
                      GROUP BY 1, 2, 3, 4) per_centre
                    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                    """, [ISOTime.format(start), ISOTime.format(end), centre, asked.identifier])
            }
            return (0..<r.count).compactMap { i in
                guard let day = r.string(i, "day").flatMap(CivilDate.init(iso:)) else { return nil }
                return DailyVisits(
                    day: day, centre: centre, venue: r.string(i, "venue") ?? "", group: r.string(i, "grp") ?? "",
                    visits: Int(r.int64(i, "visits") ?? 0), members: Int(r.int64(i, "members") ?? 0))
            }
        }
    }
}

import Foundation
import JiayuanDomain
import JiayuanPostgres
import JiayuanWire

/// What the benchmarks (`jiayuan-hub bench fleet`, `bench stats`) need from the PostgreSQL store beyond the
/// hub's own work: loads that bypass the chain checks. Never used by `serve`.
extension PostgresHubStore {
    /// Loads many kiosks' events in one `COPY` in one transaction (the bulk baseline), no chain checks.
    public func bulkLoad(logs: [(kiosk: String, events: [WireEvent])], at: Date) throws {
        let receivedAt = ISOTime.format(at)
        try pool.withConnection { c in
            try c.transaction { c in
                var rows: [[String?]] = []
                for log in logs { rows += Self.rows(kiosk: log.kiosk, events: log.events, receivedAt: receivedAt) }
                _ = try c.copyIn(Self.copyEvents, rows: rows)
            }
        }
    }

    /// Loads rows with one `COPY` in autocommit (a benchmark's synthetic rows, no chain checks).
    public func copyRows(kiosk: String, events: [WireEvent], at: Date) throws {
        let rows = Self.rows(kiosk: kiosk, events: events, receivedAt: ISOTime.format(at))
        try pool.withConnection { c in _ = try c.copyIn(Self.copyEvents, rows: rows) }
    }

    /// Recounts the whole daily rollup from the events (after a bulk load), in the store's zone.
    public func rebuildRollup() throws {
        try pool.withConnection { c in try c.transaction { c in try PostgresSchema.rebuildRollup(c, zone: zone.identifier) } }
    }

    /// Makes the partitions of every UTC month from `first` through `last` (a bulk load's range).
    public func makePartitions(from first: Date, through last: Date) throws {
        try pool.withConnection { c in
            try c.execute(
                """
                SELECT hub_ensure_month(m::date) FROM generate_series(
                  date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC'), date_trunc('month', $2::timestamptz AT TIME ZONE 'UTC'),
                  interval '1 month') m
                """, [ISOTime.format(first), ISOTime.format(last)])
        }
    }

    /// Runs SQL for a benchmark (ANALYZE, settings it reports); the rows as text.
    @discardableResult
    public func benchSQL(_ sql: String) throws -> [[String?]] { try pool.withConnection { c in try c.execute(sql).rows } }
}

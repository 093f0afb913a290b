import Foundation
import JiayuanDomain
import JiayuanGzip
import JiayuanPostgres

/// Why `jiayuan-hub export` or `prune` refused.
public enum HubRetentionError: PlainWordsError, Hashable, Sendable {
    /// Retention works on PostgreSQL's month partitions; the SQLite store has none.
    case needsPostgres
    /// These months (`YYYY-MM`) hold rows and were never exported.
    case notExported(months: [String])
    /// A month received rows after its export: the file no longer holds all of them.
    case changedSinceExport(month: String, exported: Int64, held: Int64)
    /// The export file could not be written.
    case cannotWrite(path: String, reason: String)

    public var plainWords: String {
        switch self {
        case .needsPostgres:
            return "按月导出和清理只用于 PostgreSQL。Export and prune work on PostgreSQL's month partitions; this hub uses SQLite."
        case .notExported(let months):
            let list = months.joined(separator: ", ")
            return "以下月份的记录还没有导出，不能删除：\(list)。Not pruned: these months hold events that were never exported: \(list) "
                + "(run jiayuan-hub export --month \(months[0]) --out FILE first). Nothing was dropped."
        case .changedSinceExport(let month, let exported, let held):
            return "\(month) 导出后又收到了记录，请重新导出。Not pruned: \(month) now holds \(held) events but its export holds \(exported) "
                + "(events arrived after the export): export it again. Nothing was dropped."
        case .cannotWrite(let path, let reason):
            return "无法写入导出文件。Cannot write the export file \(path): \(reason)"
        }
    }
}

/// A UTC month, `YYYY-MM`.
public struct HubMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int

    /// Parses `YYYY-MM`.
    public init?(_ text: String) {
        guard let d = CivilDate(iso: text + "-01") else { return nil }
        year = d.year
        month = d.month
    }

    /// The month of a first day.
    init(_ day: CivilDate) {
        year = day.year
        month = day.month
    }

    /// Its first day.
    public var firstDay: CivilDate { CivilDate(year: year, month: month, day: 1) }
    public var description: String { String(firstDay.description.prefix(7)) }
    public static func < (a: HubMonth, b: HubMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }
}

extension PostgresHubStore {
    /// Writes every event of a UTC month (its partition and any the default partition caught) to `path` as
    /// gzip-compressed CSV with a header, ordered by kiosk and seq, and marks the month exported with the
    /// number of rows written. The file appears whole (written beside, synced, renamed). Returns the rows.
    public func export(month: HubMonth, to path: String) throws -> Int64 {
        let part = path + ".part"
        FileManager.default.createFile(atPath: part, contents: nil)
        guard let file = FileHandle(forWritingAtPath: part) else {
            throw HubRetentionError.cannotWrite(path: path, reason: "cannot create \(part)")
        }
        defer { try? file.close() }
        let lo = month.firstDay.description
        let rows: Int64 = try pool.withConnection { c in
            try c.transaction { c in
                try c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                var pending: [UInt8] = []
                pending.reserveCapacity(1 << 20)
                func flush() throws {
                    guard !pending.isEmpty else { return }
                    try file.write(contentsOf: Gzip.compress(pending, level: 6))
                    pending.removeAll(keepingCapacity: true)
                }
                let n = try c.copyOut(
                    """
                    COPY (SELECT kiosk, seq, id, \(Self.utc("at")) AS at, venue, member, grp, direction, outcome, reason, via,
                                 prev_hash, hash, \(Self.utc("received_at")) AS received_at, corrects
                          FROM hub_event WHERE at >= '\(lo)T00:00:00Z' AND at < ('\(lo)T00:00:00Z'::timestamptz + interval '1 month')
                          ORDER BY kiosk, seq) TO STDOUT WITH (FORMAT csv, HEADER true)
                    """
                ) { data in
                    pending.append(contentsOf: data)
                    if pending.count >= 1 << 20 { try flush() }
                }
                try flush()
                try file.synchronize()
                try c.execute(
                    """
                    INSERT INTO hub_export (month, rows, file, exported_at) VALUES ($1::date, $2, $3, now())
                    ON CONFLICT (month) DO UPDATE SET rows = EXCLUDED.rows, file = EXCLUDED.file, exported_at = EXCLUDED.exported_at
                    """, [lo, String(n), path])
                return Int64(n)
            }
        }
        do {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: part, toPath: path)
        } catch {
            throw HubRetentionError.cannotWrite(path: path, reason: "\(error)")
        }
        return rows
    }

    /// The months that have an event partition, oldest first.
    public func partitionMonths() throws -> [HubMonth] {
        try pool.withConnection { c in
            try c.execute(
                """
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'hub_event'::regclass AND c.relname ~ '^hub_event_[0-9]{4}_[0-9]{2}$'
                """
            ).rows.compactMap { $0[0].flatMap { HubMonth($0.dropFirst("hub_event_".count).replacingOccurrences(of: "_", with: "-")) } }
                .sorted()
        }
    }

    /// Detaches and drops the event partitions (and the rollup's member partitions) of every month before
    /// `before`, in one transaction. Refused, with nothing dropped, when any of them holds rows that were
    /// never exported or more rows than its export. The daily rollup is kept: the figures stay.
    /// Returns the months dropped.
    @discardableResult
    public func prune(before: HubMonth) throws -> [HubMonth] {
        let months = try partitionMonths().filter { $0 < before }
        guard !months.isEmpty else { return [] }
        return try pool.withConnection { c in
            try c.transaction { c in
                var missing: [String] = []
                for m in months {
                    let table = "hub_event_" + m.description.replacingOccurrences(of: "-", with: "_")
                    // No row may arrive between the count and the drop.
                    try c.execute("LOCK TABLE \(table) IN SHARE MODE")
                    let held = try c.execute("SELECT count(*) AS n FROM \(table)").int64(0, "n") ?? 0
                    let exported = try c.execute("SELECT rows FROM hub_export WHERE month = $1::date", [m.firstDay.description])
                    if let n = exported.int64(0, "rows") {
                        if n != held { throw HubRetentionError.changedSinceExport(month: m.description, exported: n, held: held) }
                    } else if held > 0 {
                        missing.append(m.description)
                    }
                }
                if !missing.isEmpty { throw HubRetentionError.notExported(months: missing) }
                for m in months {
                    let suffix = m.description.replacingOccurrences(of: "-", with: "_")
                    try c.execute("ALTER TABLE hub_event DETACH PARTITION hub_event_\(suffix); DROP TABLE hub_event_\(suffix)")
                    if try c.execute("SELECT to_regclass($1) IS NOT NULL AS t", ["hub_rollup_member_" + suffix]).bool(0, "t") == true {
                        try c.execute(
                            "ALTER TABLE hub_rollup_member DETACH PARTITION hub_rollup_member_\(suffix); DROP TABLE hub_rollup_member_\(suffix)"
                        )
                    }
                }
                return months
            }
        }
    }
}

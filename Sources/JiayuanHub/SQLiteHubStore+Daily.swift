import Foundation
import GRDB
import JiayuanDomain

extension SQLiteHubStore {
    /// Counted from the events each time (a single centre's or a small district's hub): the same figures as
    /// PostgreSQL's rollup.
    public func dailyVisits(from: CivilDate, to: CivilDate, centre: String?, zone: TimeZone) throws -> [DailyVisits] {
        let (start, end) = HubStats.range(from: from, to: to, zone: zone)
        return try writer.read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT e.at AS at, k.centre AS centre, e.venue AS venue, e."group" AS grp, e.member AS member
                    FROM event e JOIN kiosk k ON k.id = e.kiosk
                    WHERE e.at >= ?1 AND e.at < ?2 AND e.outcome = 'accepted' AND e.direction = 'in' AND (?3 IS NULL OR k.centre = ?3)
                      AND NOT EXISTS (SELECT 1 FROM event v WHERE v.kiosk = e.kiosk AND v.corrects = e.seq)
                    """,
                arguments: [ISOTime.format(start), ISOTime.format(end), centre])
            var visits: [String: [HubRollup.Key: Int]] = [:]
            var members: [String: [HubRollup.Key: Set<String>]] = [:]
            while let row = try cursor.next() {
                let c: String = row["centre"]
                guard let key = HubRollup.key(at: row["at"], venue: row["venue"], group: row["grp"], zone: zone) else { continue }
                visits[c, default: [:]][key, default: 0] += 1
                if let m: String = row["member"] { members[c, default: [:]][key, default: []].insert(m) }
            }
            var rows: [DailyVisits] = []
            for (c, perKey) in visits {
                for (k, n) in perKey {
                    rows.append(
                        DailyVisits(
                            day: k.day, centre: c, venue: k.venue, group: k.group, visits: n, members: members[c]?[k]?.count ?? 0))
                }
            }
            return HubRollup.answer(rows, centre: centre)
        }
    }
}

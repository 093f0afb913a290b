import Foundation
import JiayuanDomain
import JiayuanWire

/// Visits and distinct members on one local day, for one centre (or all), venue and group.
public struct DailyVisits: Hashable, Sendable {
    public var day: CivilDate
    /// The centre, or nil for the figures of all centres added up.
    public var centre: String?
    public var venue: String
    /// The member group, "" when none.
    public var group: String
    public var visits: Int
    /// Distinct members among the visits (summed over centres when `centre` is nil).
    public var members: Int

    /// Creates a row.
    public init(day: CivilDate, centre: String?, venue: String, group: String, visits: Int, members: Int) {
        self.day = day
        self.centre = centre
        self.venue = venue
        self.group = group
        self.visits = visits
        self.members = members
    }
}

/// The rollup's arithmetic, shared by both stores so that they give the same figures.
enum HubRollup {
    /// One rollup row of a centre.
    struct Key: Hashable, Comparable {
        var day: CivilDate
        var venue: String
        var group: String

        static func < (a: Key, b: Key) -> Bool { (a.day, a.venue, a.group) < (b.day, b.venue, b.group) }
    }

    /// Whether an event is a visit (an accepted check-in) before corrections.
    static func isVisit(outcome: String, direction: String) -> Bool { outcome == "accepted" && direction == "in" }

    /// The rollup row an event at `at` (UTC text) falls in.
    static func key(at: String, venue: String, group: String?, zone: TimeZone) -> Key? {
        guard let instant = ISOTime.parse(at, defaultZone: ISOTime.utc) else { return nil }
        return Key(day: LocalTime(instant, in: zone).date, venue: venue, group: group ?? "")
    }

    /// What a batch of new events adds: visits per row, and the members seen per row.
    static func delta(_ events: [WireEvent], zone: TimeZone) -> (visits: [Key: Int], members: [Key: Set<String>]) {
        var visits: [Key: Int] = [:]
        var members: [Key: Set<String>] = [:]
        for e in events where isVisit(outcome: e.outcome, direction: e.direction) {
            guard let key = key(at: e.at, venue: e.venue, group: e.group, zone: zone) else { continue }
            visits[key, default: 0] += 1
            if let m = e.member { members[key, default: []].insert(m) }
        }
        return (visits, members)
    }

    /// Per-centre rows folded into the answer for `centre` (all centres added up when nil), sorted.
    static func answer(_ rows: [DailyVisits], centre: String?) -> [DailyVisits] {
        var sums: [Key: (Int, Int)] = [:]
        for r in rows where centre == nil || r.centre == centre {
            let k = Key(day: r.day, venue: r.venue, group: r.group)
            let old = sums[k] ?? (0, 0)
            sums[k] = (old.0 + r.visits, old.1 + r.members)
        }
        return sums.keys.sorted().map { k in
            DailyVisits(day: k.day, centre: centre, venue: k.venue, group: k.group, visits: sums[k]!.0, members: sums[k]!.1)
        }
        .filter { $0.visits > 0 }
    }
}

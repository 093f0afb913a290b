import Foundation
import GRDB
import JiayuanDomain

/// What a sweep did.
public struct SweepResult: Hashable, Sendable {
    /// Automatic check-outs recorded (each one event with `via: auto`).
    public var checkedOut: [Decision] = []
    /// New alerts raised for staff (elders or children still inside at closing).
    public var alerts: [Presence] = []
}

/// An open alert for staff.
public struct StaffAlert: Hashable, Sendable {
    public var id: Int64
    public var kind: String
    public var venue: String
    public var member: MemberID?
    public var raisedAt: Date
}

extension AppDatabase {
    /// Runs the closing-time sweep at `now` in one transaction (DESIGN.md §2.4). Running it twice does nothing new.
    public func sweep(venues: [Venue], at now: Date, engine: CheckInEngine, rng: inout some RandomNumberGenerator) throws -> SweepResult {
        try write { db in
            let presence = try Row.fetchAll(db, sql: "SELECT * FROM presence ORDER BY since_seq").map(Self.presence)
            var result = SweepResult()
            let byID = Dictionary(venues.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for action in ClosingSweep.plan(venues: venues, presence: presence, now: now, policy: engine.policy) {
                switch action {
                case .checkout(let visit, let at):
                    guard let venue = byID[visit.venue], let member = try Self.fetchMember(db, visit.member) else { continue }
                    let zone = engine.policy.zone(for: venue)
                    let charge = venue.fees.map {
                        DaycareCharge.compute(
                            fees: $0, checkIn: visit.since, checkOut: at, lowIncome: member.flags.contains(.lowIncome), zone: zone)
                    }
                    let inside = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM presence WHERE venue = ?", arguments: [venue.id]) ?? 1
                    var decision = Decision(
                        outcome: .accepted, direction: .out, member: MemberSummary(member), venue: venue.id, at: at,
                        inside: max(0, inside - 1), capacity: venue.capacity,
                        message: Messages.goodbye(member.displayName, venue: venue, charge: charge), via: .auto, charge: charge)
                    let event = try Self.appendEvent(
                        db, decision: decision, group: member.group, codeDigest: nil, after: try ChainHead.read(db), rng: &rng)
                    decision.seq = event.seq
                    try Self.applyMovement(
                        db, decision: decision, member: member, venue: venue, event: event, presence: visit,
                        day: LocalTime(at, in: zone).date.description)
                    result.checkedOut.append(decision)
                case .alert(let visit, let closing):
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO alert (kind, venue, member, since_seq, raised_at)
                            VALUES ('inside_at_closing', ?, ?, ?, ?)
                            """,
                        arguments: [visit.venue, Int64(visit.member.number), visit.sinceSeq, Stamp.text(closing)])
                    if db.changesCount > 0 { result.alerts.append(visit) }
                }
            }
            return result
        }
    }

    /// Alerts not yet resolved, oldest first.
    public func openAlerts() throws -> [StaffAlert] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alert WHERE resolved_at IS NULL ORDER BY id").map { row in
                StaffAlert(
                    id: row["id"], kind: row["kind"], venue: row["venue"], member: row.memberID("member"),
                    raisedAt: Stamp.date(row["raised_at"]))
            }
        }
    }

    /// People inside each venue now (stale visits not counted).
    public func occupancy(venues: [Venue], at now: Date, policy: CheckInPolicy) throws -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for venue in venues {
                let cutoff = venue.staleBefore(now, zone: policy.zone(for: venue)).map(Stamp.text) ?? ""
                out[venue.id] =
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM presence WHERE venue = ? AND since >= ?", arguments: [venue.id, cutoff]) ?? 0
            }
            return out
        }
    }

    /// Who is inside a venue now, oldest visit first.
    public func inside(venue: Venue, at now: Date, policy: CheckInPolicy) throws -> [Presence] {
        try read { db in
            let cutoff = venue.staleBefore(now, zone: policy.zone(for: venue)).map(Stamp.text) ?? ""
            return try Row.fetchAll(
                db, sql: "SELECT * FROM presence WHERE venue = ? AND since >= ? ORDER BY since_seq", arguments: [venue.id, cutoff]
            ).map(Self.presence)
        }
    }
}

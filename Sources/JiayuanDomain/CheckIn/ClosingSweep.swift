import Foundation

/// What the closing-time sweep does to one visit that is still open.
public enum SweepAction: Hashable, Sendable {
    /// Check the member out automatically at `at` (recorded with `via: auto`).
    case checkout(Presence, at: Date)
    /// Leave the member inside and alert staff: still inside at closing time `closing`.
    case alert(Presence, closing: Date)
}

/// Plans the automatic check-outs and alerts for visits still open at `now` (DESIGN.md §2.4).
public enum ClosingSweep {
    /// For each open visit: a check-out at the venue's closing time or at the end of its longest stay,
    /// whichever came first; or, at venues that alert at closing, an alert instead.
    public static func plan(venues: [Venue], presence: [Presence], now: Date, policy: CheckInPolicy) -> [SweepAction] {
        let byID = Dictionary(venues.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var actions: [SweepAction] = []
        for visit in presence.sorted(by: { $0.sinceSeq < $1.sinceSeq }) {
            guard let venue = byID[visit.venue] else { continue }
            let zone = policy.zone(for: venue)
            let closing = venue.hours.lastClosing(atOrBefore: now, in: zone).flatMap { $0 > visit.since ? $0 : nil }
            if venue.atClosing == .alert {
                if let closing { actions.append(.alert(visit, closing: closing)) }
                continue
            }
            var end = closing
            if venue.checkout == .optional, let maxStay = venue.maxStayMinutes {
                let stayEnd = visit.since.addingTimeInterval(Double(maxStay * 60))
                if stayEnd <= now { end = min(end ?? stayEnd, stayEnd) }
            }
            if let end { actions.append(.checkout(visit, at: end)) }
        }
        return actions
    }
}

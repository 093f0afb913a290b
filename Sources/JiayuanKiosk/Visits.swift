import Foundation
import JiayuanDomain
import JiayuanPrinting
import JiayuanStore

/// One line of a member's visit history, in local time and words (the console's member page and
/// `jiayuan member visits`).
public struct VisitLine: Sendable, Equatable {
    public var seq: Int64
    /// Local wall-clock time, `2026-11-28 08:05`.
    public var at: String
    public var venue: Bilingual
    public var what: Bilingual
    /// An accepted check-in that staff may still void with a correction.
    public var correctable: Bool

    /// `2026-11-28 08:05  日间照料 Day-care  签到 in (staff)`.
    public var text: String { "\(at)  \(venue.zh) \(venue.en)  \(what.zh) \(what.en)" }
}

extension Kiosk {
    /// A member's events of the last `days` days, newest first: check-ins, check-outs and refusals.
    public func visits(of member: MemberID, days: Int, limit: Int = 200) throws -> [VisitLine] {
        let since = clock().addingTimeInterval(-Double(days) * 86_400)
        let events = try database.memberEvents(member, since: since, limit: limit)
        let voided = try database.voidedCheckIns(among: events.filter { $0.outcome == .accepted && $0.direction == .in }.map(\.seq))
        return events.map { e in
            let venue = config.venue(e.venue)?.name ?? Bilingual(zh: e.venue, en: e.venue)
            var what: Bilingual =
                switch (e.outcome, e.direction) {
                case (.accepted, .in) where voided.contains(e.seq): Bilingual(zh: "签到（已更正作废）", en: "in (voided)")
                case (.accepted, .in): Bilingual(zh: "签到", en: "in")
                case (.accepted, .out): Bilingual(zh: "签出", en: "out")
                case (.denied, _): Bilingual(zh: "未通过", en: "refused")
                case (.void, _): Bilingual(zh: "更正：作废第 \(e.corrects ?? 0) 号签到", en: "correction: voids check-in \(e.corrects ?? 0)")
                }
            if let reason = e.reason {
                what.zh += "（\(reason.rawValue)）"
                what.en += " (\(reason.rawValue))"
            }
            switch e.via {
            case .scan: break
            case .staff:
                what.zh += "，前台代办"
                what.en += ", by staff"
            case .auto:
                what.zh += "，自动"
                what.en += ", automatic"
            }
            return VisitLine(
                seq: e.seq, at: wallClock(e.at, config.timeZone), venue: venue, what: what,
                correctable: e.outcome == .accepted && e.direction == .in && !voided.contains(e.seq))
        }
    }

    /// Voids a wrong check-in (wrong venue or person) with a correction event; see `AppDatabase.correct`.
    /// `member`, when given, must be the check-in's member; `staff` nil is the command line at the kiosk.
    public func correct(seq: Int64, of member: MemberID? = nil, reason: String, staff: Int64?) throws -> Correction {
        var rng = SystemRandomNumberGenerator()
        return try database.correct(seq: seq, of: member, reason: reason, at: clock(), staff: staff, rng: &rng)
    }
}

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

    /// `2026-11-28 08:05  日间照料 Day-care  签到 in (staff)`.
    public var text: String { "\(at)  \(venue.zh) \(venue.en)  \(what.zh) \(what.en)" }
}

extension Kiosk {
    /// A member's events of the last `days` days, newest first: check-ins, check-outs and refusals.
    public func visits(of member: MemberID, days: Int, limit: Int = 200) throws -> [VisitLine] {
        let since = clock().addingTimeInterval(-Double(days) * 86_400)
        return try database.memberEvents(member, since: since, limit: limit).map { e in
            let venue = config.venue(e.venue)?.name ?? Bilingual(zh: e.venue, en: e.venue)
            var what: Bilingual =
                switch (e.outcome, e.direction) {
                case (.accepted, .in): Bilingual(zh: "签到", en: "in")
                case (.accepted, .out): Bilingual(zh: "签出", en: "out")
                case (.denied, _): Bilingual(zh: "未通过", en: "refused")
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
            return VisitLine(seq: e.seq, at: wallClock(e.at, config.timeZone), venue: venue, what: what)
        }
    }
}

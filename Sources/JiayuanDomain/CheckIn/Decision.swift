import Foundation

/// Denial reason codes (DESIGN.md §3.3).
public enum DenialReason: String, CaseIterable, Sendable, Codable {
    case invalidCode = "invalid_code"
    case badSignature = "bad_signature"
    case unknownKey = "unknown_key"
    case revoked
    case expired
    case inactiveMember = "inactive_member"
    case unknownMember = "unknown_member"
    case notEligible = "not_eligible"
    case closed
    case full
    case guardianCodeRequired = "guardian_code_required"
}

/// Whether a decision let the member through, or (`void`) a staff correction of an earlier check-in.
public enum Outcome: String, Sendable, Codable {
    case accepted, denied
    /// A correction: the accepted check-in named by the event's `corrects` did not happen (wrong venue or
    /// wrong person). It is never a visit, and the visit it names no longer counts.
    case void
}

/// Into or out of a venue.
public enum Direction: String, Sendable, Codable {
    case `in`, out
}

/// How an event came about.
public enum Via: String, Sendable, Codable, CaseIterable {
    /// A scan at the kiosk or `jiayuan checkin`.
    case scan
    /// The closing-time sweep or the end of a visit's longest stay.
    case auto
    /// Front-desk staff on the member's behalf.
    case staff
}

/// The day-care fee worked out at check-out, in integer fen.
public struct DaycareCharge: Hashable, Sendable {
    public enum Kind: String, Sendable { case halfDay = "half_day", fullDay = "full_day" }
    public var kind: Kind
    public var lunch: Bool
    /// Amount due in fen; 0 when `free`.
    public var amountFen: Int
    /// Free because the member is `low_income`.
    public var free: Bool
    public var checkedInAt: Date
    public var checkedOutAt: Date

    /// Creates a charge as recorded.
    public init(kind: Kind, lunch: Bool, amountFen: Int, free: Bool, checkedInAt: Date, checkedOutAt: Date) {
        self.kind = kind
        self.lunch = lunch
        self.amountFen = amountFen
        self.free = free
        self.checkedInAt = checkedInAt
        self.checkedOutAt = checkedOutAt
    }

    /// Works out the fee for a stay from `checkIn` to `checkOut`.
    public static func compute(
        fees: DaycareFees, checkIn: Date, checkOut: Date, lowIncome: Bool, zone: TimeZone
    ) -> DaycareCharge {
        let minutes = Int(checkOut.timeIntervalSince(checkIn) / 60)
        let kind: Kind = minutes <= fees.halfDayMinutes ? .halfDay : .fullDay
        let lunchAt = LocalTime.instant(date: LocalTime(checkIn, in: zone).date, minute: fees.lunchMinute, in: zone)
        let lunch = checkIn <= lunchAt && lunchAt <= checkOut
        let amount = (kind == .halfDay ? fees.halfDayFen : fees.fullDayFen) + (lunch ? fees.lunchFen : 0)
        return DaycareCharge(
            kind: kind, lunch: lunch, amountFen: lowIncome ? 0 : amount, free: lowIncome,
            checkedInAt: checkIn, checkedOutAt: checkOut)
    }
}

/// Formats integer fen as yuan: 1550 → `15.50`.
public func formatYuan(fen: Int) -> String {
    let sign = fen < 0 ? "-" : ""
    let a = abs(fen)
    let cents = a % 100
    return "\(sign)\(a / 100).\(cents < 10 ? "0" : "")\(cents)"
}

/// The member as shown in a decision: id, masked name, group.
public struct MemberSummary: Hashable, Sendable {
    public var id: MemberID
    public var displayName: String
    public var group: MemberGroup
    /// Creates a summary.
    public init(id: MemberID, displayName: String, group: MemberGroup) {
        self.id = id
        self.displayName = displayName
        self.group = group
    }
    /// The public summary of a member.
    public init(_ m: Member) { self.init(id: m.id, displayName: m.displayName, group: m.group) }
}

/// The answer to one scan: the decision object of DESIGN.md §3.3 plus what the kiosk does with it.
public struct Decision: Hashable, Sendable {
    public var outcome: Outcome
    public var direction: Direction
    public var reason: DenialReason?
    /// A repeat of an earlier decision (debounce, or a scan within the minimum stay); nothing recorded.
    public var isRepeat: Bool
    public var member: MemberSummary?
    public var venue: String
    /// The event's sequence number in the log (for a repeat: the earlier event's).
    public var seq: Int64?
    public var at: Date
    public var inside: Int
    public var capacity: Int
    public var message: Bilingual
    public var via: Via
    /// A new children's pickup code, given at check-in to a guardian-code venue.
    public var pickupCode: String?
    /// The day-care fee, at check-out from a venue with fees.
    public var charge: DaycareCharge?

    /// Creates a decision.
    public init(
        outcome: Outcome, direction: Direction, reason: DenialReason? = nil, isRepeat: Bool = false,
        member: MemberSummary? = nil, venue: String, seq: Int64? = nil, at: Date, inside: Int, capacity: Int,
        message: Bilingual, via: Via = .scan, pickupCode: String? = nil, charge: DaycareCharge? = nil
    ) {
        self.outcome = outcome
        self.direction = direction
        self.reason = reason
        self.isRepeat = isRepeat
        self.member = member
        self.venue = venue
        self.seq = seq
        self.at = at
        self.inside = inside
        self.capacity = capacity
        self.message = message
        self.via = via
        self.pickupCode = pickupCode
        self.charge = charge
    }

    /// True when the member was let in or out.
    public var accepted: Bool { outcome == .accepted }

    /// The decision object as JSON, keys in the order of DESIGN.md §3.3.
    public var json: String {
        var w = JSONWriter()
        w.object { o in
            o.field("outcome", outcome.rawValue)
            o.field("direction", direction.rawValue)
            o.field("reason", reason?.rawValue)
            o.field("repeat", isRepeat)
            if let m = member {
                o.object("member") { mo in
                    mo.field("id", m.id.description)
                    mo.field("display_name", m.displayName)
                    mo.field("group", m.group.rawValue)
                }
            } else {
                o.null("member")
            }
            o.field("venue", venue)
            o.field("seq", seq)
            o.field("at", ISOTime.format(at))
            o.object("occupancy") { oc in
                oc.field("inside", Int64(inside))
                oc.field("capacity", Int64(capacity))
            }
            o.object("message") { mo in
                mo.field("zh", message.zh)
                mo.field("en", message.en)
            }
        }
        return w.output
    }
}

/// UTC timestamps as `2026-11-28T00:05:00Z` (whole seconds).
public enum ISOTime {
    /// UTC.
    public static let utc = TimeZone(secondsFromGMT: 0)!

    /// Formats an instant in UTC, whole seconds.
    public static func format(_ date: Date) -> String {
        let t = LocalTime(date, in: utc)
        let s = t.secondOfDay
        func p2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(t.date)T\(p2(s / 3600)):\(p2(s / 60 % 60)):\(p2(s % 60))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS][.fff](Z|±HH:MM)`; a time without a zone is read in `zone`.
    public static func parse(_ text: String, defaultZone zone: TimeZone) -> Date? {
        let t = text.trimmingWhitespace()
        let sep = t.firstIndex(where: { $0 == "T" || $0 == " " })
        guard let sep, let date = CivilDate(iso: String(t[..<sep])) else { return nil }
        var rest = Substring(t[t.index(after: sep)...])
        var offset: Int?
        if rest.hasSuffix("Z") || rest.hasSuffix("z") {
            offset = 0
            rest = rest.dropLast()
        } else if let signIndex = rest.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let tz = rest[rest.index(after: signIndex)...].split(separator: ":")
            guard tz.count == 2 || (tz.count == 1 && tz[0].count == 4) else { return nil }
            let hh = tz.count == 2 ? Int(tz[0]) : Int(tz[0].prefix(2))
            let mm = tz.count == 2 ? Int(tz[1]) : Int(tz[0].suffix(2))
            guard let hh, let mm, hh < 24, mm < 60 else { return nil }
            offset = (rest[signIndex] == "-" ? -1 : 1) * (hh * 3600 + mm * 60)
            rest = rest[..<signIndex]
        }
        let hms = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 2 || hms.count == 3, let h = Int(hms[0]), let m = Int(hms[1]), h < 24, m < 60 else { return nil }
        var seconds = 0.0
        if hms.count == 3 {
            guard let s = Double(hms[2]), s >= 0, s < 61, !hms[2].hasPrefix("+"), !hms[2].hasPrefix("-") else { return nil }
            seconds = s
        }
        let wall = Double(date.daysSinceEpoch * 86400 + h * 3600 + m * 60) + seconds
        if let offset { return Date(timeIntervalSince1970: wall - Double(offset)) }
        let base = LocalTime.instant(date: date, minute: h * 60 + m, in: zone)
        return base.addingTimeInterval(seconds)
    }
}

import Foundation

/// Text in Mandarin first and English second.
public struct Bilingual: Hashable, Sendable, Codable {
    public var zh: String
    public var en: String
    /// Creates a pair.
    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }
}

/// When a venue is open, on its own wall clock.
public enum OpeningHours: Hashable, Sendable, CustomStringConvertible {
    /// Open day and night.
    case always
    /// Open every day from `open` to `close`, in minutes after midnight. `close <= open` means the
    /// venue closes after midnight (18:00–02:00).
    case daily(open: Int, close: Int)

    /// Parses `24h` or `HH:MM-HH:MM` (an en dash is accepted too).
    public init?(_ text: String) {
        let t = text.trimmingWhitespace().lowercased()
        if t == "24h" || t == "24 h" || t == "always" { self = .always; return }
        let parts = t.replacingOccurrences(of: "–", with: "-").split(separator: "-").map { String($0).trimmingWhitespace() }
        guard parts.count == 2, let o = OpeningHours.minutes(parts[0]), let c = OpeningHours.minutes(parts[1]), o != c % 1440
        else { return nil }
        self = .daily(open: o, close: c % 1440)
    }

    static func minutes(_ s: String) -> Int? {
        let hm = s.split(separator: ":")
        guard hm.count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m),
            h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    /// Whether the venue is open at `minute` after local midnight.
    public func isOpen(atMinute minute: Int) -> Bool {
        switch self {
        case .always: return true
        case .daily(let open, let close):
            return open < close ? (minute >= open && minute < close) : (minute >= open || minute < close)
        }
    }

    /// The latest closing instant at or before `now`, or nil for a venue that never closes.
    public func lastClosing(atOrBefore now: Date, in zone: TimeZone) -> Date? {
        guard case .daily(_, let close) = self else { return nil }
        let local = LocalTime(now, in: zone)
        let today = LocalTime.instant(date: local.date, minute: close, in: zone)
        return today <= now ? today : LocalTime.instant(date: local.date.adding(days: -1), minute: close, in: zone)
    }

    /// The latest opening instant at or before `now`, or nil for a venue that never closes.
    public func lastOpening(atOrBefore now: Date, in zone: TimeZone) -> Date? {
        guard case .daily(let open, _) = self else { return nil }
        let local = LocalTime(now, in: zone)
        let today = LocalTime.instant(date: local.date, minute: open, in: zone)
        return today <= now ? today : LocalTime.instant(date: local.date.adding(days: -1), minute: open, in: zone)
    }

    /// `06:00–21:00` or `24 h`.
    public var description: String {
        switch self {
        case .always: return "24 h"
        case .daily(let o, let c):
            func hm(_ m: Int) -> String {
                let h = m / 60, mm = m % 60
                return (h < 10 ? "0" : "") + "\(h):" + (mm < 10 ? "0" : "") + "\(mm)"
            }
            return "\(hm(o))–\(hm(c))"
        }
    }
}

/// How leaving a venue works.
public enum CheckoutMode: String, Sendable, CaseIterable {
    /// A second scan checks out; people who forget are checked out after `maxStay` or at closing.
    case optional
    /// Members must check out (day care, children's club).
    case required
}

/// What happens to people still inside when a venue closes.
public enum ClosingAction: String, Sendable, CaseIterable {
    /// Check them out automatically (marked `auto`).
    case checkout
    /// Leave them inside and raise an alert for staff (day-care elders, children).
    case alert
}

/// Whether a check-in prints a receipt.
public enum ReceiptPolicy: String, Sendable, CaseIterable {
    case never, ask, always
}

/// Day-care fees in integer fen.
public struct DaycareFees: Hashable, Sendable {
    /// Fee for a stay of at most `halfDayMinutes`.
    public var halfDayFen: Int
    /// Fee for a longer stay.
    public var fullDayFen: Int
    /// Lunch at the 老饭桌, charged when the stay covers `lunchMinute`.
    public var lunchFen: Int
    /// The longest stay that counts as half a day, in minutes.
    public var halfDayMinutes: Int
    /// The local minute of the day when lunch is served.
    public var lunchMinute: Int

    /// Creates a fee table.
    public init(halfDayFen: Int, fullDayFen: Int, lunchFen: Int, halfDayMinutes: Int = 240, lunchMinute: Int = 12 * 60) {
        self.halfDayFen = halfDayFen
        self.fullDayFen = fullDayFen
        self.lunchFen = lunchFen
        self.halfDayMinutes = halfDayMinutes
        self.lunchMinute = lunchMinute
    }
}

/// One venue of the centre, as configured.
public struct Venue: Hashable, Sendable, Identifiable {
    public var id: String
    public var name: Bilingual
    public var hours: OpeningHours
    public var capacity: Int
    public var checkout: CheckoutMode
    /// Groups allowed in; empty means everyone.
    public var groups: Set<MemberGroup>
    /// Youngest age allowed, by year of birth (members with no birth year pass unless they are children).
    public var minimumAge: Int?
    /// Check-out needs the guardian's security code (children's club).
    public var guardianCode: Bool
    public var atClosing: ClosingAction
    /// For optional check-out: after this many minutes a visit counts as over.
    public var maxStayMinutes: Int?
    public var receipt: ReceiptPolicy
    public var fees: DaycareFees?
    /// Numbered legacy cards (veterans' cards) are accepted here.
    public var acceptsLegacyCards: Bool
    /// The venue's own time zone; nil means the kiosk's.
    public var timeZone: TimeZone?

    /// Creates a venue.
    public init(
        id: String, name: Bilingual, hours: OpeningHours, capacity: Int, checkout: CheckoutMode = .optional,
        groups: Set<MemberGroup> = [], minimumAge: Int? = nil, guardianCode: Bool = false,
        atClosing: ClosingAction = .checkout, maxStayMinutes: Int? = nil, receipt: ReceiptPolicy = .never,
        fees: DaycareFees? = nil, acceptsLegacyCards: Bool = false, timeZone: TimeZone? = nil
    ) {
        self.id = id
        self.name = name
        self.hours = hours
        self.capacity = capacity
        self.checkout = checkout
        self.groups = groups
        self.minimumAge = minimumAge
        self.guardianCode = guardianCode
        self.atClosing = atClosing
        self.maxStayMinutes = maxStayMinutes
        self.receipt = receipt
        self.fees = fees
        self.acceptsLegacyCards = acceptsLegacyCards
        self.timeZone = timeZone
    }
}

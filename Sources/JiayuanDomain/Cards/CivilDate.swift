import Foundation

/// A calendar date with no time zone (a day on the wall calendar of a venue).
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Creates a date; `month` 1–12 and `day` 1–31 are not checked here (see `init?(iso:)`).
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`, rejecting impossible dates such as 2026-02-30.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        self.init(year: y, month: m, day: d)
        guard CivilDate(daysSinceEpoch: daysSinceEpoch) == self else { return nil }
    }

    /// Days since 1970-01-01 (negative before), by Howard Hinnant's `days_from_civil`.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The date `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch z0: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    /// The card epoch: card dates count days since 2024-01-01.
    public static let cardEpoch = CivilDate(year: 2024, month: 1, day: 1)

    /// Days since 2024-01-01, the unit of `issued` and `valid_until` on a card.
    public var cardDay: Int { daysSinceEpoch - CivilDate.cardEpoch.daysSinceEpoch }

    /// The date of a card day number.
    public init(cardDay: Int) {
        self.init(daysSinceEpoch: CivilDate.cardEpoch.daysSinceEpoch + cardDay)
    }

    /// This date moved by `days`.
    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }
}

/// A moment seen on the wall clock of one time zone: the date and the minute of the day.
public struct LocalTime: Hashable, Sendable {
    public var date: CivilDate
    /// Seconds since local midnight (0..<86400).
    public var secondOfDay: Int
    /// Minutes since local midnight.
    public var minuteOfDay: Int { secondOfDay / 60 }

    /// The wall-clock time of `instant` in `zone`.
    public init(_ instant: Date, in zone: TimeZone) {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: instant)
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        date = CivilDate(daysSinceEpoch: days)
        secondOfDay = seconds - days * 86400
    }

    /// The instant at which the wall clock of `zone` shows `minute` on `date`.
    public static func instant(date: CivilDate, minute: Int, in zone: TimeZone) -> Date {
        let naive = Double(date.daysSinceEpoch * 86400 + minute * 60)
        // Apply the zone's offset near that moment (two steps settle a change of offset).
        var guess = Date(timeIntervalSince1970: naive - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: naive))))
        guess = Date(timeIntervalSince1970: naive - Double(zone.secondsFromGMT(for: guess)))
        return guess
    }
}

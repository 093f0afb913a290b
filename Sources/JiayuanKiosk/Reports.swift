import Foundation
import JiayuanDomain
import JiayuanStore

/// A period of local days for `jiayuan report`.
public struct ReportPeriod: Sendable, CustomStringConvertible {
    public var first: CivilDate
    /// The day after the last day.
    public var end: CivilDate
    public var description: String

    /// One day.
    public static func day(_ d: CivilDate) -> ReportPeriod { ReportPeriod(first: d, end: d.adding(days: 1), description: d.description) }

    /// A month given as `YYYY-MM`.
    public static func month(_ text: String) -> ReportPeriod? {
        guard let first = CivilDate(iso: text + "-01") else { return nil }
        let next =
            first.month == 12
            ? CivilDate(year: first.year + 1, month: 1, day: 1) : CivilDate(year: first.year, month: first.month + 1, day: 1)
        return ReportPeriod(first: first, end: next, description: text)
    }
}

extension Kiosk {
    /// The figures for a period of local days.
    public func report(_ period: ReportPeriod) throws -> AttendanceReport {
        let zone = config.timeZone
        return try database.report(
            from: LocalTime.instant(date: period.first, minute: 0, in: zone), to: LocalTime.instant(date: period.end, minute: 0, in: zone))
    }
}

extension Kiosk {
    /// Accepted check-ins per hour of the local day (0…23) over a period: the busiest hours.
    public func checkInsByHourOfDay(_ period: ReportPeriod) throws -> [Int] {
        let zone = config.timeZone
        var hours = [Int](repeating: 0, count: 24)
        for (start, n) in try database.checkInsPerHour(
            from: LocalTime.instant(date: period.first, minute: 0, in: zone), to: LocalTime.instant(date: period.end, minute: 0, in: zone))
        {
            hours[LocalTime(start, in: zone).minuteOfDay / 60] += n
        }
        return hours
    }
}

/// Renders reports for people (a text table) and for spreadsheets (CSV).
public enum ReportFormat {
    /// A text table, Mandarin labels with English.
    public static func text(_ r: AttendanceReport, period: ReportPeriod, venues: [Venue]) -> String {
        var out = "到访统计 Attendance \(period)\n\n"
        let groups = MemberGroup.allCases
        out += "场所 Venue".padded(26) + groups.map { $0.zh.padded(8) }.joined() + "合计 Total".padded(12) + "人数 Unique\n"
        for venue in venues {
            let row = r.visits[venue.id] ?? [:]
            out += "\(venue.name.zh) \(venue.id)".padded(26)
            out += groups.map { String(row[$0] ?? 0).padded(8) }.joined()
            out += String(row.values.reduce(0, +)).padded(12) + String(r.uniqueMembers[venue.id] ?? 0) + "\n"
        }
        let total = r.visits.values.flatMap(\.values).reduce(0, +)
        out += "\n合计到访 Total visits: \(total)   不同会员 Unique members: \(r.uniqueMembersTotal)\n"
        let denials = r.denials.flatMap { venue, reasons in reasons.map { (venue, $0.key, $0.value) } }
            .sorted { ($0.0, $0.1.rawValue) < ($1.0, $1.1.rawValue) }
        if denials.isEmpty {
            out += "拒绝 Denials: 0\n"
        } else {
            out += "\n拒绝 Denials:\n"
            for (venue, reason, n) in denials { out += "  \(venue.padded(10)) \(reason.rawValue.padded(24)) \(n)\n" }
        }
        let autos = r.autoCheckouts.values.reduce(0, +)
        if autos > 0 { out += "自动签退 Automatic check-outs: \(autos)\n" }
        let voided = r.voided.values.reduce(0, +)
        if voided > 0 { out += "已更正作废（未计入） Voided by correction (not counted): \(voided)\n" }
        return out
    }

    /// CSV with one row per figure: `period,venue,measure,key,count`. UTF-8 with a byte-order mark so Excel keeps Chinese intact.
    public static func csv(_ r: AttendanceReport, period: ReportPeriod, venues: [Venue]) -> String {
        var lines = ["period,venue,venue_name,measure,key,count"]
        for venue in venues {
            let name = csvField(venue.name.zh)
            let id = csvField(venue.id)
            for g in MemberGroup.allCases {
                lines.append("\(period),\(id),\(name),visits,\(g.rawValue),\(r.visits[venue.id]?[g] ?? 0)")
            }
            lines.append("\(period),\(id),\(name),unique_members,,\(r.uniqueMembers[venue.id] ?? 0)")
            for reason in DenialReason.allCases {
                if let n = r.denials[venue.id]?[reason] { lines.append("\(period),\(id),\(name),denials,\(reason.rawValue),\(n)") }
            }
            if let n = r.autoCheckouts[venue.id] { lines.append("\(period),\(id),\(name),auto_checkouts,,\(n)") }
            if let n = r.voided[venue.id] { lines.append("\(period),\(id),\(name),voided_checkins,,\(n)") }
        }
        lines.append("\(period),all,全部,unique_members,,\(r.uniqueMembersTotal)")
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// One CSV cell. A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is what a
    /// spreadsheet would run as a formula, so it is neutralised with a leading `'` (OWASP's CSV injection
    /// advice); cells with commas, quotes or line breaks are quoted.
    public static func csvField(_ s: String) -> String {
        var text = s
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) { text = "'" + text }
        let quoted = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        return quoted ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

extension String {
    /// Pads to `width` display columns (a CJK character takes two).
    func padded(_ width: Int) -> String {
        let w = displayWidth
        return w >= width ? self + " " : self + String(repeating: " ", count: width - w)
    }

    /// Display columns on a terminal or receipt: East Asian wide characters count two.
    public var displayWidth: Int {
        unicodeScalars.reduce(0) { n, s in
            let v = s.value
            let wide =
                (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            return n + (wide ? 2 : 1)
        }
    }
}

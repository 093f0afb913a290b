import Foundation
import HTTPTypes
import Hummingbird
import JiayuanDomain

/// Visits per local day, venue and group (`GET /v1/stats`).
public struct HubStats: Hashable, Sendable {
    /// One figure.
    public struct Row: Hashable, Sendable {
        public var day: CivilDate
        public var venue: String
        public var group: String
        public var visits: Int
        /// Distinct members among the visits (per centre, added up over centres).
        public var members: Int = 0
    }

    public var from: CivilDate
    public var to: CivilDate
    public var centre: String?
    /// Sorted by day, venue, group.
    public var rows: [Row]

    /// The UTC instants covering local days `from...to` in `zone`.
    public static func range(from: CivilDate, to: CivilDate, zone: TimeZone) -> (Date, Date) {
        (LocalTime.instant(date: from, minute: 0, in: zone), LocalTime.instant(date: to.adding(days: 1), minute: 0, in: zone))
    }

    /// The figures of a store's daily rows.
    public init(from: CivilDate, to: CivilDate, centre: String?, daily: [DailyVisits]) {
        self.from = from
        self.to = to
        self.centre = centre
        rows = HubRollup.answer(
            daily.map {
                var d = $0; d.centre = centre; return d
            }, centre: centre
        ).map {
            Row(day: $0.day, venue: $0.venue, group: $0.group, visits: $0.visits, members: $0.members)
        }
    }

    /// Visits per day, all venues and groups.
    public var perDay: [(CivilDate, Int)] {
        var out: [CivilDate: Int] = [:]
        for r in rows { out[r.day, default: 0] += r.visits }
        var days: [(CivilDate, Int)] = []
        var d = from
        while d <= to {
            days.append((d, out[d] ?? 0))
            d = d.adding(days: 1)
        }
        return days
    }

    /// `{"from":…,"to":…,"centre":…,"total":N,"days":[{"day":…,"venue":…,"group":…,"visits":N},…]}`
    public var json: String {
        var out = "{\"from\":\"\(from)\",\"to\":\"\(to)\",\"centre\":"
        if let centre { JSONWriter.appendString(centre, to: &out) } else { out += "null" }
        out += ",\"total\":\(rows.reduce(0) { $0 + $1.visits }),\"days\":["
        for (i, r) in rows.enumerated() {
            if i > 0 { out += "," }
            var w = JSONWriter()
            w.object { o in
                o.field("day", r.day.description)
                o.field("venue", r.venue)
                o.field("group", r.group)
                o.field("visits", Int64(r.visits))
                o.field("members", Int64(r.members))
            }
            out += w.output
        }
        return out + "]}"
    }
}

/// The hub's read-only dashboard: one server-made page (no scripts, no CDN).
enum HubDashboard {
    static func escape(_ s: String) -> String { HTML.escape(s) }

    /// The page's headers: no scripts at all, styles only from the page itself, no framing, forms to the hub only.
    static let headers: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    /// A query value for a link (percent-encoded, then escaped for the attribute).
    static func queryValue(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        return escape(s.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
    }

    static func page(stats: HubStats, kiosks: [HubKiosk], now: Date, operations: String = "") -> String {
        let days = stats.perDay
        let peak = max(1, days.map(\.1).max() ?? 1)
        let barWidth = 24
        let chartWidth = max(days.count * (barWidth + 6) + 10, 200)
        var svg =
            "<svg role=\"img\" aria-label=\"每日到访 Visits per day\" width=\"\(chartWidth)\" height=\"200\" viewBox=\"0 0 \(chartWidth) 200\">"
        for (i, (day, n)) in days.enumerated() {
            let h = Int((Double(n) / Double(peak) * 150).rounded())
            let x = 10 + i * (barWidth + 6)
            svg +=
                "<rect x=\"\(x)\" y=\"\(170 - h)\" width=\"\(barWidth)\" height=\"\(h)\" fill=\"#1f5fa8\"><title>\(day): \(n)</title></rect>"
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"190\" font-size=\"11\" text-anchor=\"middle\">\(day.day)</text>"
        }
        svg += "</svg>"
        var table = ""
        for r in stats.rows {
            table += "<tr><td>\(r.day)</td><td>\(escape(r.venue))</td><td>\(escape(r.group))</td><td class=\"n\">\(r.visits)</td></tr>\n"
        }
        let kioskRows = HubLagView.kioskRows(kiosks, now: now)
        let centre = escape(stats.centre ?? "")
        return """
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>街道家园中心 到访统计 · District visits</title>
            <style>
            body{font:18px/1.5 "Noto Sans CJK SC",sans-serif;margin:2rem;color:#111;background:#fff}
            table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #888;padding:.3rem .8rem;text-align:left}
            .n{text-align:right}.warn{color:#a00;font-weight:bold}label{margin-right:1rem}input,button{font-size:18px;padding:.3rem}
            </style></head><body>
            <h1>到访统计 <small>District visits</small></h1>
            <form method="get" action="/">
            <label>从 From <input type="date" name="from" value="\(stats.from)"></label>
            <label>到 To <input type="date" name="to" value="\(stats.to)"></label>
            <label>中心 Centre <input name="centre" value="\(centre)"></label>
            <button type="submit">查看 Show</button>
            </form>
            <h2>每日到访 Visits per day (\(stats.rows.reduce(0) { $0 + $1.visits }))</h2>
            \(svg)
            <h2>按场馆和人群 By venue and group</h2>
            <table><thead><tr><th>日期 Day</th><th>场馆 Venue</th><th>人群 Group</th><th>到访 Visits</th></tr></thead><tbody>
            \(table)</tbody></table>
            <h2>终端 Kiosks</h2>
            <table><thead><tr>\(HubLagView.kioskHead)</tr></thead><tbody>
            \(kioskRows)</tbody></table>
            \(operations)
            <p>JSON: <a href="/v1/stats?from=\(stats.from)&amp;to=\(stats.to)\(stats.centre.map { "&amp;centre=" + queryValue($0) } ?? "")">/v1/stats</a> · \(ISOTime.format(now))</p>
            </body></html>
            """
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// The day's or month's figures: visits per venue and group, denials, check-ins per hour as a chart drawn
/// by the template, and the CSV for Excel (cells neutralised against formulas).
struct FiguresController: Sendable {
    let env: ConsoleEnvironment

    func addRoutes(to group: RouterGroup<ConsoleContext>) {
        group.get("figures", use: figures)
        group.get("figures.csv", use: csv)
    }

    /// `?day=YYYY-MM-DD` or `?month=YYYY-MM` (default: today); nil when neither reads.
    func period(_ request: Request) -> ReportPeriod? {
        let q = request.uri.queryParameters
        if let month = q.get("month"), !month.isEmpty { return ReportPeriod.month(String(month.prefix(7))) }
        if let day = q.get("day"), !day.isEmpty { return CivilDate(iso: String(day.prefix(10))).map(ReportPeriod.day) }
        return .day(env.kiosk.today())
    }

    @Sendable func figures(_ request: Request, context: ConsoleContext) async throws -> Response {
        guard let period = period(request) else {
            return try env.page(
                "message", title: "统计 Figures", context: context, status: .badRequest,
                flash: .error("日期格式：2026-11-28 或 2026-11。Give a day like 2026-11-28 or a month like 2026-11."), Empty())
        }
        let kiosk = env.kiosk
        let (report, hours) = try await env.work { (try kiosk.report(period), try kiosk.checkInsByHourOfDay(period)) }
        return try env.page(
            "figures", title: "统计 Figures", context: context,
            FiguresPage(period: period, report: report, hours: hours, venues: kiosk.config.venues))
    }

    @Sendable func csv(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        guard let period = period(request) else { throw ConsoleError.notFound }
        let kiosk = env.kiosk
        let csv = try await env.work { () throws -> String in
            let text = ReportFormat.csv(try kiosk.report(period), period: period, venues: kiosk.config.venues)
            try kiosk.database.audit(staff: staff.id, action: "figures.export", detail: period.description, at: kiosk.clock())
            return text
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"jiayuan-\(period.description).csv\"",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
    }
}

/// The figures page.
struct FiguresPage {
    struct Bar {
        let hour: Int
        let count: Int
        let x: Int
        let y: Int
        let height: Int
        let labelX: Int
        let labelY: Int
        /// Bars with visits get their figure above them.
        let shown: Bool
    }
    struct Row {
        let zh: String
        let en: String
        let cells: [Int]
        let unique: Int
    }
    struct Denial {
        let venue: String
        let reason: String
        let count: Int
    }
    let period: String
    let isMonth: Bool
    let groups: [String]
    let rows: [Row]
    let uniqueTotal: Int
    let bars: [Bar]
    let total: Int
    let denials: [Denial]

    init(period: ReportPeriod, report: AttendanceReport, hours: [Int], venues: [Venue]) {
        self.period = period.description
        isMonth = period.description.count == 7
        groups = MemberGroup.allCases.map { "\($0.zh) \($0.en)" }
        rows = venues.map { v in
            Row(
                zh: v.name.zh, en: v.name.en, cells: MemberGroup.allCases.map { report.visits[v.id]?[$0] ?? 0 },
                unique: report.uniqueMembers[v.id] ?? 0)
        }
        uniqueTotal = report.uniqueMembersTotal
        let peak = max(1, hours.max() ?? 1)
        total = hours.reduce(0, +)
        bars = hours.enumerated().map { hour, n in
            let h = Int((Double(n) / Double(peak) * 170).rounded())
            let x = 10 + hour * 31
            return Bar(hour: hour, count: n, x: x, y: 190 - h, height: h, labelX: x + 12, labelY: 184 - h, shown: n > 0)
        }
        denials = venues.flatMap { v in
            (report.denials[v.id] ?? [:]).sorted { $0.key.rawValue < $1.key.rawValue }.map {
                Denial(venue: v.name.zh, reason: $0.key.rawValue, count: $0.value)
            }
        }
    }
}

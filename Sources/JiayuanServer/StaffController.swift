import Foundation
import HTTPTypes
import Hummingbird
import JiayuanDomain
import JiayuanKit
import JiayuanPrint
import JiayuanStore
import Logging
import NIOCore

/// The staff console's entrance: log-in by name and PIN, the session cookie, CSRF tokens on every form,
/// log-out, and the first page (who is inside, alerts, printer and upload state). Staff pages answer only
/// to this machine while the kiosk listens on loopback.
struct StaffController: Sendable {
    let kiosk: Kiosk
    let auth: StaffAuth
    /// Whether the server listens on loopback only (then the console refuses any other address).
    let loopbackOnly: Bool
    /// Reads scanned cards typed or scanned into the search box.
    let reader: ScanReader
    /// Check-ins on a member's behalf.
    let desk: StaffDesk
    /// The server's log: account locks (by account number, never by name).
    let logger: Logger

    static let cookie = "jy_staff"
    static let loginCookie = "jy_login"

    func addRoutes(to router: Router<AppRequestContext>) {
        let group = router.group("staff")
        group.get("login", use: loginPage)
        group.post("login", use: login)
        group.post("logout", use: logout)
        group.get("", use: home)
        group.get("figures", use: figures)
        group.get("members", use: members)
        group.get("floor", use: floor)
        group.post("floor/checkin", use: floorCheckIn)
        group.post("floor/paid", use: floorPaid)
        group.get("slips", use: slips)
        group.post("slips", use: postSlip)
        group.post("prints/{id}/reprint", use: reprint)
        group.get("members/new", use: newMemberForm)
        group.post("members/new", use: registerMember)
        group.get("members/{id}", use: member)
        group.post("members/{id}/card", use: reissueCard)
        group.post("members/{id}/deactivate", use: deactivateMember)
        group.post("members/{id}/edit", use: editMember)
        group.post("members/{id}/legacy", use: legacyCard)
        group.get("audit", use: auditPage)
        group.get("figures.csv", use: figuresCSV)
    }

    // MARK: Guards

    /// Loopback addresses (IPv4 127/8, IPv6 ::1, Unix sockets).
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        switch address {
        case .v4: return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6: return address.ipAddress == "::1" || (address.ipAddress?.hasPrefix("::ffff:127.") ?? false)
        case .unixDomainSocket: return true
        }
    }

    /// A refusal page when the request comes from elsewhere while the kiosk is bound to loopback.
    func refuseRemote(_ context: AppRequestContext) -> Response? {
        guard loopbackOnly, !Self.isLoopback(context.remoteAddress) else { return nil }
        return page(status: .forbidden, title: "不可用 Not available", body: "<p>员工页面只在本机开放。The staff console is open on this machine only.</p>")
    }

    static func cookies(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for field in request.headers where field.name == .cookie {
            for part in field.value.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2 { out[kv[0]] = kv[1] }
            }
        }
        return out
    }

    static func form(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        var out: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            out[kv[0]] = kv.count == 2 ? kv[1] : ""
        }
        return out
    }

    func setCookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var c = "\(name)=\(value); Path=/staff; HttpOnly; SameSite=Strict"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        return c
    }

    func page(status: HTTPResponse.Status = .ok, title: String, body: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            HTTPField.Name("X-Frame-Options")!: "DENY",
        ]
        headers.append(contentsOf: extra)
        let html = """
            <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · 家园中心</title>
            <style>body{font:22px/1.5 "Noto Sans CJK SC",sans-serif;margin:1.5rem;color:#111;background:#fff}
            h1{font-size:1.6em}label{display:block;margin:.6rem 0}input,button{font-size:1em;padding:.5rem;min-height:48px}
            button{background:#1f5fa8;color:#fff;border:0;border-radius:6px;padding:.5rem 1.5rem}
            table{border-collapse:collapse}td,th{border:1px solid #777;padding:.3rem .7rem;text-align:left}
            .error{color:#a4000f;font-weight:bold}</style></head><body><main>
            \(body)
            </main></body></html>
            """
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func redirect(_ to: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: to, .cacheControl: "no-store"]
        for c in cookies { headers.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: Log-in

    func loginForm(token: String, error: String? = nil, name: String = "") -> String {
        """
        <h1>员工登录 <small>Staff log-in</small></h1>
        \(error.map { "<p class=\"error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
        <form method="post" action="/staff/login">
        <input type="hidden" name="csrf" value="\(token)">
        <label>姓名 Name <input name="name" autocomplete="username" required value="\(HTML.escape(name))"></label>
        <label>密码 PIN <input name="pin" type="password" inputmode="numeric" autocomplete="current-password" required></label>
        <button type="submit">登录 Log in</button>
        </form>
        """
    }

    @Sendable func loginPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let refused = refuseRemote(context) { return refused }
        var rng = SystemRandomNumberGenerator()
        let token = StaffAuth.randomToken(using: &rng)
        return page(title: "员工登录 Staff log-in", body: loginForm(token: token), headers: [.setCookie: setCookie(Self.loginCookie, token, maxAge: 1800)])
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let refused = refuseRemote(context) { return refused }
        let form = try await Self.form(request)
        // The log-in form's own CSRF token: the cookie and the field must match (double submit).
        guard let expected = Self.cookies(request)[Self.loginCookie], StaffAuth.csrfMatches(form["csrf"], expected) else {
            return page(status: .forbidden, title: "请重试 Try again", body: "<p class=\"error\">表单已过期，请重新打开登录页。The form has expired: open the log-in page again.</p><p><a href=\"/staff/login\">登录 Log in</a></p>")
        }
        let name = form["name"] ?? ""
        let pin = form["pin"] ?? ""
        let auth = self.auth
        do {
            let session = try await offload(on: Lane.staff) { try auth.login(name: name, pin: pin) }
            return redirect("/staff", cookies: [setCookie(Self.cookie, session.token), setCookie(Self.loginCookie, "", maxAge: 0)])
        } catch let refused as StaffAuth.LoginRefused {
            if let account = refused.lockedAccount {
                logger.warning(
                    "staff account locked after wrong PINs", metadata: ["staff.id": "\(account)", "staff.locked_until": "\(refused.lockedUntil.map(ISOTime.format) ?? "-")"])
            }
            return page(status: .unauthorized, title: "员工登录 Staff log-in", body: loginForm(token: expected, error: "登录失败：\(refused.message)", name: name))
        }
    }

    /// The signed-in account and the session's CSRF token, or nil.
    func current(_ request: Request) async throws -> (StaffAccount, String)? {
        guard let token = Self.cookies(request)[Self.cookie] else { return nil }
        let auth = self.auth
        return try await offload(on: Lane.staff) { try auth.session(token: token) }
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await postedForm(request, context: context)
        let auth = self.auth
        if let token = Self.cookies(request)[Self.cookie] { try await offload(on: Lane.staff) { try auth.logout(token: token) } }
        return redirect("/staff/login", cookies: [setCookie(Self.cookie, "", maxAge: 0)])
    }

    // MARK: The first page

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, csrf) = try await signedIn(request, context)
        let kiosk = self.kiosk
        let (inside, alerts, backlog, upload, audit) = try await offload(on: Lane.staff) {
            let now = kiosk.clock()
            var inside: [(Venue, [Presence])] = []
            for venue in kiosk.config.venues { inside.append((venue, try kiosk.database.inside(venue: venue, at: now, policy: kiosk.config.policy))) }
            return (
                inside, try kiosk.database.openAlerts(), try kiosk.database.printBacklog(), try kiosk.database.uploadState(),
                staff.role == .admin ? try kiosk.database.auditLog(limit: 20) : []
            )
        }
        var body = """
            <h1>前台 <small>Front desk</small> — \(HTML.escape(staff.name)) (\(staff.role.rawValue))</h1>
            <form method="post" action="/staff/logout"><input type="hidden" name="csrf" value="\(csrf)"><button type="submit">退出 Log out</button></form>
            <form method="get" action="/staff/members" role="search"><label>找会员 Find a member (姓名 name, 会员号 member id, 手机尾号 last 4 phone digits, or scan a card)
            <input name="q" autofocus autocomplete="off"></label><button type="submit">查找 Search</button></form>
            <p><a href="/staff/floor">现场 The floor</a> · <a href="/staff/slips">单据 Slips and prints</a> · <a href="/staff/members/new">登记新会员 Register a member</a> · <a href="/staff/figures">统计 Figures</a></p>
            <h2>在场 Inside now</h2><table><thead><tr><th>场馆 Venue</th><th>人数 People</th><th>最早入场 Earliest in</th></tr></thead><tbody>
            """
        for (venue, people) in inside {
            let earliest = people.map(\.since).min().map { clockTime($0, kiosk.config.timeZone) } ?? "—"
            body += "<tr><td>\(HTML.escape(venue.name.zh)) \(HTML.escape(venue.name.en))</td><td>\(people.count)</td><td>\(earliest)</td></tr>"
        }
        body += "</tbody></table><h2>提醒 Alerts</h2>"
        if alerts.isEmpty { body += "<p>无 None</p>" } else {
            body += "<ul>" + alerts.map { "<li>\(HTML.escape($0.kind)) \(HTML.escape($0.venue)) \($0.member.map { $0.description } ?? "")</li>" }.joined() + "</ul>"
        }
        body += "<p>待打印 Print jobs waiting: \(backlog) · 待上传 Events to upload: \(upload.backlog)</p>"
        if staff.role == .admin {
            body += "<h2>操作记录 Audit log</h2><p><a href=\"/staff/audit\">全部 All entries</a></p><table><tbody>"
            for e in audit {
                body += "<tr><td>\(ISOTime.format(e.at))</td><td>\(HTML.escape(e.staff ?? "—"))</td><td>\(HTML.escape(e.action))</td><td>\(HTML.escape(e.detail))</td></tr>"
            }
            body += "</tbody></table>"
        }
        return page(title: "前台 Front desk", body: body)
    }

    // MARK: Figures

    /// `?day=YYYY-MM-DD` or `?month=YYYY-MM` (default: today).
    func period(_ request: Request) -> ReportPeriod? {
        let q = request.uri.queryParameters
        if let month = q.get("month"), !month.isEmpty { return ReportPeriod.month(month) }
        if let day = q.get("day"), !day.isEmpty { return CivilDate(iso: day).map(ReportPeriod.day) }
        return .day(kiosk.today())
    }

    /// Check-ins per hour of the day as bars (server-made SVG, readable without colour).
    static func hourChart(_ hours: [Int]) -> String {
        let peak = max(1, hours.max() ?? 1)
        let total = hours.reduce(0, +)
        var svg = "<svg role=\"img\" aria-label=\"每小时入场 Check-ins per hour: \(total)\" width=\"760\" height=\"230\" viewBox=\"0 0 760 230\">"
        for (hour, n) in hours.enumerated() {
            let h = Int((Double(n) / Double(peak) * 170).rounded())
            let x = 10 + hour * 31
            svg += "<rect x=\"\(x)\" y=\"\(190 - h)\" width=\"24\" height=\"\(h)\" fill=\"#1f5fa8\"><title>\(hour):00 — \(n)</title></rect>"
            if n > 0 { svg += "<text x=\"\(x + 12)\" y=\"\(184 - h)\" font-size=\"12\" text-anchor=\"middle\">\(n)</text>" }
            svg += "<text x=\"\(x + 12)\" y=\"210\" font-size=\"12\" text-anchor=\"middle\">\(hour)</text>"
        }
        return svg + "</svg>"
    }

    @Sendable func figures(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await signedIn(request, context)
        guard let period = period(request) else {
            return page(status: .badRequest, title: "统计 Figures", body: "<p class=\"error\">日期格式：2026-11-28 或 2026-11。Give a day like 2026-11-28 or a month like 2026-11.</p>")
        }
        let kiosk = self.kiosk
        let (report, hours) = try await offload(on: Lane.staff) { (try kiosk.report(period), try kiosk.checkInsByHourOfDay(period)) }
        var body = """
            <h1>统计 <small>Figures</small> — \(HTML.escape(period.description))</h1>
            <form method="get" action="/staff/figures"><label>日 Day <input type="date" name="day"></label>
            <label>月 Month <input type="month" name="month"></label><button type="submit">查看 Show</button></form>
            <p><a href="/staff/figures.csv?\(period.description.count == 7 ? "month" : "day")=\(period.description)">导出 CSV (Excel)</a> · <a href="/staff">返回 Back</a></p>
            <h2>每小时入场 Check-ins per hour</h2>\(Self.hourChart(hours))
            <h2>到访 Visits</h2><table><thead><tr><th>场馆 Venue</th>
            """
        for g in MemberGroup.allCases { body += "<th>\(g.zh) \(g.en)</th>" }
        body += "<th>人数 Unique members</th></tr></thead><tbody>"
        for venue in kiosk.config.venues {
            body += "<tr><td>\(HTML.escape(venue.name.zh)) \(HTML.escape(venue.name.en))</td>"
            for g in MemberGroup.allCases { body += "<td>\(report.visits[venue.id]?[g] ?? 0)</td>" }
            body += "<td>\(report.uniqueMembers[venue.id] ?? 0)</td></tr>"
        }
        body += "</tbody></table><p>全部人数 Unique members in all venues: \(report.uniqueMembersTotal)</p><h2>拒绝 Denials</h2>"
        let denials = kiosk.config.venues.flatMap { v in (report.denials[v.id] ?? [:]).map { (v, $0.key, $0.value) } }
        if denials.isEmpty { body += "<p>无 None</p>" } else {
            body += "<table><tbody>" + denials.map { "<tr><td>\(HTML.escape($0.0.name.zh))</td><td>\($0.1.rawValue)</td><td>\($0.2)</td></tr>" }.joined() + "</tbody></table>"
        }
        return page(title: "统计 Figures", body: body)
    }

    @Sendable func figuresCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, _) = try await signedIn(request, context)
        guard let period = period(request) else { return page(status: .badRequest, title: "CSV", body: "<p class=\"error\">bad period</p>") }
        let kiosk = self.kiosk
        let csv = try await offload(on: Lane.staff) {
            try kiosk.database.audit(staff: staff.id, action: "figures.export", detail: period.description, at: kiosk.clock())
            return ReportFormat.csv(try kiosk.report(period), period: period, venues: kiosk.config.venues)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"jiayuan-\(period.description).csv\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
    }

    // MARK: Members

    /// What a search box holds: a scanned card (→ its member), a member id, phone digits or a name part.
    static func memberQuery(_ q: String, reader: ScanReader) -> (id: MemberID?, text: String) {
        let text = q.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("JY1:"), case .card(let payload) = reader.read(text), let id = MemberID(number: payload.member) {
            return (id, text)
        }
        return (MemberID(text), text)
    }

    @Sendable func members(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await signedIn(request, context)
        let q = String((request.uri.queryParameters.get("q") ?? "").prefix(200))
        let kiosk = self.kiosk
        let reader = self.reader
        let (id, text) = Self.memberQuery(q, reader: reader)
        // A scanned card or an exact id goes straight to the member.
        if let id, try await offload(on: Lane.staff, { try kiosk.database.member(id) }) != nil { return redirect("/staff/members/\(id)") }
        let found = text.isEmpty ? [] : try await offload(on: Lane.staff) { try kiosk.database.members(search: text, limit: 50) }
        var body = """
            <h1>会员 <small>Members</small></h1>
            <form method="get" action="/staff/members" role="search"><label>找会员 Find a member <input name="q" value="\(HTML.escape(text))" autofocus autocomplete="off"></label>
            <button type="submit">查找 Search</button></form><p><a href="/staff">返回 Back</a></p>
            """
        if text.isEmpty {
            body += "<p>输入姓名、会员号或手机尾号。Type a name, a member id or the last digits of a phone number, or scan a card.</p>"
        } else if found.isEmpty {
            body += "<p>没有找到 No member matches \"\(HTML.escape(text))\".</p>"
        } else {
            body += "<table><thead><tr><th>会员号 Id</th><th>姓名 Name</th><th>人群 Group</th><th>手机 Phone</th></tr></thead><tbody>"
            for m in found {
                body += "<tr><td><a href=\"/staff/members/\(m.id)\">\(m.id)</a></td><td>\(HTML.escape(m.name))\(m.active ? "" : " (停用 inactive)")</td><td>\(m.group.zh) \(m.group.en)</td><td>\(HTML.escape(Self.phoneTail(m.phone)))</td></tr>"
            }
            body += "</tbody></table>"
        }
        return page(title: "会员 Members", body: body)
    }

    /// `…1234`: staff recognise a member by the end of the number; the whole number stays off the screen.
    static func phoneTail(_ phone: String?) -> String {
        guard let phone, phone.count >= 4 else { return "—" }
        return "…" + phone.suffix(4)
    }

    @Sendable func member(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, csrf) = try await signedIn(request, context)
        return try await memberPage(context.parameters.get("id"), csrf: csrf)
    }

    func memberPage(_ idText: String?, csrf: String, message: String? = nil, error: Bool = false, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let id = idText.flatMap(MemberID.init) else {
            return page(status: .notFound, title: "会员 Member", body: "<p class=\"error\">没有这个会员号。No such member id.</p>")
        }
        let kiosk = self.kiosk
        guard let m = try await offload(on: Lane.staff, { try kiosk.database.member(id) }) else {
            return page(status: .notFound, title: "会员 Member", body: "<p class=\"error\">没有会员 \(id)。No member \(id).</p>")
        }
        var body = """
            <h1>\(HTML.escape(m.name)) <small>\(m.id)</small></h1>
            \(message.map { "<p class=\"\(error ? "error" : "")\" role=\"status\">\(HTML.escape($0))</p>" } ?? "")
            <table><tbody>
            <tr><th>人群 Group</th><td>\(m.group.zh) \(m.group.en)</td></tr>
            <tr><th>出生年 Born</th><td>\(m.born.map(String.init) ?? "—")</td></tr>
            <tr><th>手机 Phone</th><td>\(HTML.escape(Self.phoneTail(m.phone)))</td></tr>
            <tr><th>标记 Flags</th><td>\(m.flags.map(\.rawValue).sorted().joined(separator: ", "))</td></tr>
            <tr><th>状态 Status</th><td>\(m.active ? "有效 active" : "停用 inactive")</td></tr>
            """
        if !m.guardians.isEmpty {
            body += "<tr><th>监护人 Guardians</th><td>" + m.guardians.map { "<a href=\"/staff/members/\($0)\">\($0)</a>" }.joined(separator: ", ") + "</td></tr>"
        }
        body += "</tbody></table>"
        if m.active {
            let hidden = "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">"
            let flagBoxes = MemberFlag.allCases.map {
                "<label><input type=\"checkbox\" name=\"flag_\($0.rawValue)\"\(m.flags.contains($0) ? " checked" : "")> \($0.rawValue)</label>"
            }.joined()
            body += """
                <h2>修改 Edit</h2><form method="post" action="/staff/members/\(m.id)/edit">\(hidden)
                <label>姓名 Name <input name="name" required maxlength="64" value="\(HTML.escape(m.name))"></label>
                <label>出生年 Year of birth <input name="born" inputmode="numeric" maxlength="4" value="\(m.born.map(String.init) ?? "")"></label>
                <label>手机 Phone (empty: keep) <input name="phone" inputmode="tel" maxlength="20" autocomplete="off"></label>
                <fieldset><legend>标记 Flags</legend>\(flagBoxes)</fieldset><button type="submit">保存 Save</button></form>
                <h2>旧证件号 Legacy card number</h2><form method="post" action="/staff/members/\(m.id)/legacy">\(hidden)
                <label>证件号 Number (4-20 digits) <input name="number" inputmode="numeric" maxlength="20" autocomplete="off"></label>
                <button type="submit">登记 Register</button></form>
                """
            body += """
                <form method="post" action="/staff/members/\(m.id)/card">\(hidden)<button type="submit">补发会员卡并打印 Issue a new card and print it</button></form>
                <form method="post" action="/staff/members/\(m.id)/deactivate">\(hidden)<button type="submit">停用 Deactivate</button></form>
                """
        }
        body += "<p><a href=\"/staff/members\">找会员 Find a member</a> · <a href=\"/staff/members/new\">登记新会员 Register a member</a> · <a href=\"/staff\">返回 Back</a></p>"
        return page(status: status, title: "会员 Member \(m.id)", body: body)
    }

    // MARK: The floor

    func floorPage(csrf: String, message: String? = nil, error: Bool = false, status: HTTPResponse.Status = .ok) async throws -> Response {
        let kiosk = self.kiosk
        let (inside, fees, alerts, upload, printer) = try await offload(on: Lane.staff) {
            let now = kiosk.clock()
            var inside: [(Venue, [(Presence, Member?)])] = []
            for venue in kiosk.config.venues {
                let people = try kiosk.database.inside(venue: venue, at: now, policy: kiosk.config.policy)
                inside.append((venue, try people.map { ($0, try kiosk.database.member($0.member)) }))
            }
            let today = kiosk.today()
            let zone = kiosk.config.timeZone
            let fees = try kiosk.database.daycareFees(
                from: LocalTime.instant(date: today, minute: 0, in: zone), to: LocalTime.instant(date: today.adding(days: 1), minute: 0, in: zone))
            return (inside, fees, try kiosk.database.openAlerts(), try kiosk.database.uploadState(), Doctor.printer(kiosk))
        }
        func clock(_ t: Date) -> String { clockTime(t, kiosk.config.timeZone) }
        let hidden = "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">"
        let venueOptions = kiosk.config.venues.map { "<option value=\"\($0.id)\">\(HTML.escape($0.name.zh)) \(HTML.escape($0.name.en))</option>" }.joined()
        var body = "<h1>现场 <small>The floor</small></h1><p><a href=\"/staff\">返回 Back</a></p>"
        if let message { body += "<p class=\"\(error ? "error" : "")\" role=\"status\">\(HTML.escape(message))</p>" }
        body += """
            <h2>代为签到/签出 Check a member in or out</h2>
            <form method="post" action="/staff/floor/checkin">\(hidden)
            <label>会员号 Member id <input name="member" required pattern="[Mm][0-9]{6}" autocomplete="off"></label>
            <label>场馆 Venue <select name="venue">\(venueOptions)</select></label>
            <label>接送码 Guardian code (接孩子 collecting a child: type it or scan the pickup slip) <input name="guardian_code" autocomplete="off" maxlength="16"></label>
            <button type="submit">确定 Check in/out</button></form>
            """
        for (venue, people) in inside {
            body += "<h2>\(HTML.escape(venue.name.zh)) \(HTML.escape(venue.name.en)) — \(people.count)/\(venue.capacity)</h2>"
            guard !people.isEmpty else { body += "<p>无人 Nobody inside</p>"; continue }
            body += "<table><thead><tr><th>会员 Member</th><th>人群 Group</th><th>入场 Since</th><th></th></tr></thead><tbody>"
            for (p, m) in people {
                let needsCode = p.pickupCode != nil
                body += """
                    <tr><td><a href="/staff/members/\(p.member)">\(p.member)</a> \(HTML.escape(m?.name ?? ""))</td><td>\(p.group.zh)</td><td>\(clock(p.since))</td><td>
                    <form method="post" action="/staff/floor/checkin">\(hidden)<input type="hidden" name="member" value="\(p.member)"><input type="hidden" name="venue" value="\(venue.id)">
                    \(needsCode ? "<label>接送码 Code (or scan the slip) <input name=\"guardian_code\" required maxlength=\"16\" size=\"8\"></label>" : "")
                    <button type="submit">签出 Check out</button></form></td></tr>
                    """
            }
            body += "</tbody></table>"
        }
        body += "<h2>今日日间照料费用 Day-care fees today</h2>"
        if fees.isEmpty { body += "<p>无 None</p>" } else {
            body += "<table><thead><tr><th>编号 No.</th><th>会员 Member</th><th>签出 Out</th><th>金额 Amount</th><th></th></tr></thead><tbody>"
            for f in fees {
                let amount = f.free ? "免费 free" : "¥" + formatYuan(fen: f.amountFen)
                let state = f.paidAt.map { "已付 paid \(clock($0))" }
                    ?? (f.free || f.amountFen == 0 ? "—" : "<form method=\"post\" action=\"/staff/floor/paid\">\(hidden)<input type=\"hidden\" name=\"seq\" value=\"\(f.checkoutSeq)\"><button type=\"submit\">已收款 Mark paid</button></form>")
                body += "<tr><td>\(f.checkoutSeq)</td><td>\(f.member)</td><td>\(clock(f.checkoutAt))</td><td>\(amount)</td><td>\(state)</td></tr>"
            }
            body += "</tbody></table>"
        }
        body += "<h2>提醒 Alerts</h2><ul>"
        for a in alerts {
            body += "<li>\(a.kind == "upload_conflict" ? "上传被拒 Upload refused by the hub" : "闭馆仍在场 Still inside at closing"): \(HTML.escape(a.venue)) \(a.member.map { $0.description } ?? "")</li>"
        }
        if printer.verdict != .ok { body += "<li>打印机 Printer: \(HTML.escape(printer.detail))</li>" }
        if upload.backlog > 0, kiosk.config.upload.hub != nil { body += "<li>待上传 \(upload.backlog) events not yet uploaded\(upload.lastError.map { " — \(HTML.escape($0))" } ?? "")</li>" }
        if alerts.isEmpty && printer.verdict == .ok && (upload.backlog == 0 || kiosk.config.upload.hub == nil) { body += "<li>无 None</li>" }
        body += "</ul>"
        return page(status: status, title: "现场 The floor", body: body)
    }

    @Sendable func floor(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, csrf) = try await signedIn(request, context)
        return try await floorPage(csrf: csrf)
    }

    /// A page thrown instead of returned: the log-in redirect or a refusal ends any handler at once.
    struct Refusal: HTTPResponseError {
        let page: Response
        var status: HTTPResponse.Status { page.status }
        func response(from request: Request, context: some RequestContext) throws -> Response { page }
    }

    /// The signed-in account and its CSRF token; otherwise the refusal (another machine) or the log-in page.
    func signedIn(_ request: Request, _ context: AppRequestContext) async throws -> (StaffAccount, String) {
        if let refused = refuseRemote(context) { throw Refusal(page: refused) }
        guard let (staff, csrf) = try await current(request) else { throw Refusal(page: redirect("/staff/login")) }
        return (staff, csrf)
    }

    /// A POST from a session page: the account, its CSRF token and the form; a missing or wrong token is refused.
    func postedForm(_ request: Request, context: AppRequestContext) async throws -> (StaffAccount, String, [String: String]) {
        let (staff, csrf) = try await signedIn(request, context)
        let form = try await Self.form(request)
        guard StaffAuth.csrfMatches(form["csrf"], csrf) else {
            throw Refusal(page: page(status: .forbidden, title: "已拒绝 Refused", body: "<p class=\"error\">缺少表单令牌。The form token is missing or wrong.</p>"))
        }
        return (staff, csrf, form)
    }

    @Sendable func floorCheckIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, csrf, form) = try await postedForm(request, context: context)
        guard let id = MemberID((form["member"] ?? "").trimmingCharacters(in: .whitespaces)) else {
            return try await floorPage(csrf: csrf, message: "会员号应为 M 加六位数字。A member id is M and six digits.", error: true, status: .badRequest)
        }
        let venue = form["venue"] ?? ""
        let desk = self.desk
        do {
            let d = try await offload(on: Lane.staff) { try desk.checkInOnBehalf(member: id, venue: venue, guardianCode: form["guardian_code"], staff: staff) }
            var text = "\(id): \(d.message.zh) \(d.message.en)"
            if let c = d.charge, !c.free { text += " — 费用 fee ¥\(formatYuan(fen: c.amountFen)), receipt printing" }
            return try await floorPage(csrf: csrf, message: text, error: !d.accepted, status: d.accepted ? .ok : .conflict)
        } catch {
            return try await floorPage(csrf: csrf, message: KioskError.describe(error), error: true, status: .badRequest)
        }
    }

    @Sendable func floorPaid(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, csrf, form) = try await postedForm(request, context: context)
        guard let seq = Int64(form["seq"] ?? "") else {
            return try await floorPage(csrf: csrf, message: "no fee number", error: true, status: .badRequest)
        }
        let kiosk = self.kiosk
        do {
            try await offload(on: Lane.staff) { try kiosk.database.markFeePaid(checkoutSeq: seq, by: staff.id, at: kiosk.clock()) }
            return try await floorPage(csrf: csrf, message: "费用 \(seq) 已收款 Fee \(seq) marked paid")
        } catch {
            return try await floorPage(csrf: csrf, message: KioskError.describe(error), error: true, status: .badRequest)
        }
    }

    // MARK: Registering and cards

    func memberForm(csrf: String, values: [String: String] = [:], error: String? = nil) -> String {
        func v(_ k: String) -> String { HTML.escape(values[k] ?? "") }
        let groups = MemberGroup.allCases.map {
            "<option value=\"\($0.rawValue)\"\(values["group"] == $0.rawValue ? " selected" : "")>\($0.zh) \($0.en)</option>"
        }.joined()
        let flags = MemberFlag.allCases.map {
            "<label><input type=\"checkbox\" name=\"flag_\($0.rawValue)\"\(values["flag_" + $0.rawValue] != nil ? " checked" : "")> \($0.rawValue)</label>"
        }.joined()
        return """
            <h1>登记新会员 <small>Register a member</small></h1>
            \(error.map { "<p class=\"error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/staff/members/new"><input type="hidden" name="csrf" value="\(csrf)">
            <label>姓名 Name <input name="name" required maxlength="64" value="\(v("name"))"></label>
            <label>人群 Group <select name="group">\(groups)</select></label>
            <label>出生年 Year of birth <input name="born" inputmode="numeric" maxlength="4" value="\(v("born"))"></label>
            <label>手机 Phone <input name="phone" inputmode="tel" maxlength="20" value="\(v("phone"))"></label>
            <fieldset><legend>标记 Flags</legend>\(flags)</fieldset>
            <label>监护人会员号 Guardians' member ids (children; comma-separated) <input name="guardians" value="\(v("guardians"))"></label>
            <button type="submit">登记 Register</button></form><p><a href="/staff">返回 Back</a></p>
            """
    }

    @Sendable func newMemberForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, csrf) = try await signedIn(request, context)
        return page(title: "登记新会员 Register a member", body: memberForm(csrf: csrf))
    }

    /// Reads the registration form; an error in plain words for the first thing wrong.
    static func newMember(_ form: [String: String]) -> Result<NewMember, KioskError> {
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let group = MemberGroup(rawValue: form["group"] ?? "") else { return .failure(KioskError("choose a group 请选择人群")) }
        var born: Int?
        if let b = form["born"], !b.isEmpty {
            guard let year = Int(b), (1900...2100).contains(year) else { return .failure(KioskError("the year of birth is four digits, like 1948")) }
            born = year
        }
        let phone = (form["phone"] ?? "").filter { !$0.isWhitespace }
        if !phone.isEmpty, !phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "+" || $0 == "-") }) {
            return .failure(KioskError("the phone number may only have digits, + and -"))
        }
        var guardians: [MemberID] = []
        for part in (form["guardians"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0 == " " }) {
            guard let id = MemberID(String(part)) else { return .failure(KioskError("\"\(part)\" is not a member id like M000123")) }
            guardians.append(id)
        }
        let flags = Set(MemberFlag.allCases.filter { form["flag_" + $0.rawValue] != nil })
        return .success(NewMember(name: name, group: group, born: born, phone: phone.isEmpty ? nil : phone, flags: flags, guardians: guardians))
    }

    @Sendable func registerMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, csrf, form) = try await postedForm(request, context: context)
        let new: NewMember
        switch Self.newMember(form) {
        case .failure(let e): return page(status: .badRequest, title: "登记新会员 Register a member", body: memberForm(csrf: csrf, values: form, error: e.message))
        case .success(let m): new = m
        }
        let desk = self.desk
        do {
            let member = try await offload(on: Lane.staff) { try desk.register(new, staff: staff) }
            return redirect("/staff/members/\(member.id)")
        } catch {
            return page(
                status: .badRequest, title: "登记新会员 Register a member",
                body: memberForm(csrf: csrf, values: form, error: "没有保存 Nothing was saved: \(KioskError.describe(error))"))
        }
    }

    /// A POSTed action on one member: checks the session, CSRF and id, runs `work` off the cooperative pool
    /// and shows the member page with its message (or the error in plain words).
    func memberAction(
        _ request: Request, context: AppRequestContext,
        _ work: @escaping @Sendable (StaffAccount, MemberID, [String: String]) throws -> String
    ) async throws -> Response {
        let (staff, csrf, form) = try await postedForm(request, context: context)
        let idText = context.parameters.get("id")
        guard let id = idText.flatMap(MemberID.init) else { return try await memberPage(idText, csrf: csrf) }
        do {
            let message = try await offload(on: Lane.staff) { try work(staff, id, form) }
            return try await memberPage(idText, csrf: csrf, message: message)
        } catch {
            return try await memberPage(idText, csrf: csrf, message: KioskError.describe(error), error: true, status: .badRequest)
        }
    }

    @Sendable func reissueCard(_ request: Request, context: AppRequestContext) async throws -> Response {
        let desk = self.desk
        return try await memberAction(request, context: context) { staff, id, _ in
            let (card, job) = try desk.reissueCard(member: id, staff: staff)
            return "新卡已发（第 \(card.serial) 张），旧卡失效；打印任务 \(job.id)。New card \(card.serial) issued, the old one stops working; print job \(job.id)."
        }
    }

    @Sendable func deactivateMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let desk = self.desk
        return try await memberAction(request, context: context) { staff, id, _ in
            try desk.deactivate(member: id, staff: staff)
            return "已停用；卡片失效，记录保留。Deactivated: the cards stop working, the history stays."
        }
    }

    // MARK: Slips and prints

    func slipsPage(csrf: String, values: [String: String] = [:], message: String? = nil, error: Bool = false, preview: String? = nil,
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        let kiosk = self.kiosk
        let jobs = try await offload(on: Lane.staff) { try kiosk.database.printJobs(limit: 30) }
        func v(_ k: String) -> String { HTML.escape(values[k] ?? "") }
        let hidden = "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">"
        func buttons(_ kind: String) -> String {
            "<input type=\"hidden\" name=\"kind\" value=\"\(kind)\"><button type=\"submit\" name=\"action\" value=\"preview\">预览 Preview</button> <button type=\"submit\" name=\"action\" value=\"print\">打印 Print</button>"
        }
        var body = "<h1>单据 <small>Slips and prints</small></h1><p><a href=\"/staff\">返回 Back</a></p>"
        if let message { body += "<p class=\"\(error ? "error" : "")\" role=\"status\">\(HTML.escape(message))</p>" }
        if let preview { body += "<h2>预览 Preview</h2><div>\(preview)</div>" }
        body += """
            <h2>上门维修 Home repair</h2><form method="post" action="/staff/slips">\(hidden)
            <label>会员号 Member id <input name="member" value="\(values["kind"] == "repair" ? v("member") : "")" autocomplete="off"></label>
            <label>或 报修人 or requested by <input name="requested_by" value="\(v("requested_by"))"></label>
            <label>地址 Address <input name="address" value="\(v("address"))"></label>
            <label>问题 Problem <input name="problem" value="\(v("problem"))"></label>\(buttons("repair"))</form>
            <h2>订餐/送餐 Meal order</h2><form method="post" action="/staff/slips">\(hidden)
            <label>会员号 Member id <input name="member" value="\(values["kind"] == "meal" ? v("member") : "")" autocomplete="off"></label>
            <label>餐 Meal <input name="meal" value="\(values["meal"].map(HTML.escape) ?? "午餐 Lunch")"></label>
            <label>份数 Portions <input name="portions" inputmode="numeric" value="\(values["portions"].map(HTML.escape) ?? "1")"></label>
            <label>送餐地址 Deliver to (empty: collect) <input name="delivery_address" value="\(v("delivery_address"))"></label>
            <label>备注 Note <input name="note" value="\(v("note"))"></label>\(buttons("meal"))</form>
            <h2>排队号 Queue ticket</h2><form method="post" action="/staff/slips">\(hidden)
            <label>业务 Service <input name="service" value="\(values["service"].map(HTML.escape) ?? "综合 General")"></label>\(buttons("queue"))</form>
            <h2>打印记录 Print history</h2><table><thead><tr><th>#</th><th>单据 Document</th><th>状态 State</th><th>打印机 Printer</th><th></th></tr></thead><tbody>
            """
        for job in jobs {
            body += """
                <tr><td>\(job.id)</td><td>\(HTML.escape(job.kind)) \(HTML.escape(job.documentNumber ?? ""))</td>
                <td>\(job.state.rawValue)\(job.lastError.map { " — " + HTML.escape($0) } ?? "")</td><td>\(HTML.escape(job.target))</td>
                <td><form method="post" action="/staff/prints/\(job.id)/reprint">\(hidden)<button type="submit">重印 Reprint</button></form></td></tr>
                """
        }
        body += "</tbody></table>"
        return page(status: status, title: "单据 Slips", body: body)
    }

    @Sendable func slips(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, csrf) = try await signedIn(request, context)
        return try await slipsPage(csrf: csrf)
    }

    /// The slip a form asks for.
    func slipRequest(_ form: [String: String]) throws -> SlipRequest {
        func member(_ required: Bool) throws -> Member? {
            let text = (form["member"] ?? "").trimmingCharacters(in: .whitespaces)
            if text.isEmpty, required { throw KioskError("a meal order needs the member id") }
            return try kiosk.member(text: text.isEmpty ? nil : text)
        }
        switch form["kind"] {
        case "repair":
            return .repair(member: try member(false), requestedBy: form["requested_by"], address: form["address"] ?? "", problem: form["problem"] ?? "")
        case "meal":
            guard let portions = Int(form["portions"] ?? "1") else { throw KioskError("portions is a whole number") }
            let address = (form["delivery_address"] ?? "").trimmingCharacters(in: .whitespaces)
            return .meal(
                member: try member(true)!, meal: form["meal"] ?? "午餐 Lunch", portions: portions, address: address.isEmpty ? nil : address,
                date: nil, note: form["note"])
        case "queue": return .queue(service: form["service"] ?? "")
        default: throw KioskError("unknown kind of slip")
        }
    }

    @Sendable func postSlip(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, csrf, form) = try await postedForm(request, context: context)
        let kiosk = self.kiosk
        do {
            let slipRequest = try await offload(on: Lane.staff) { try self.slipRequest(form) }
            if form["action"] == "print" {
                let (slip, job) = try await offload(on: Lane.staff) { () throws -> (ServiceSlip, PrintJob) in
                    let (slip, doc) = try kiosk.issueSlip(slipRequest, at: kiosk.clock())
                    let job = try PrintService(kiosk: kiosk).enqueue(doc, number: slip.number)
                    try kiosk.database.audit(staff: staff.id, action: "slip.\(slip.kind.rawValue)", member: slip.member, detail: slip.number, at: kiosk.clock())
                    return (slip, job)
                }
                return try await slipsPage(csrf: csrf, message: "\(slip.number) 已送打印 sent to the printer (job \(job.id))")
            }
            let html = try await offload(on: Lane.staff) {
                let doc = try kiosk.previewSlip(slipRequest, at: kiosk.clock())
                return HTMLPreview.render(doc, paper: PrintService(kiosk: kiosk).paper)
            }
            return try await slipsPage(csrf: csrf, values: form, preview: html)
        } catch {
            return try await slipsPage(csrf: csrf, values: form, message: KioskError.describe(error), error: true, status: .badRequest)
        }
    }

    @Sendable func reprint(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, csrf, _) = try await postedForm(request, context: context)
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { return try await slipsPage(csrf: csrf, message: "no such job", error: true) }
        let kiosk = self.kiosk
        do {
            let job = try await offload(on: Lane.staff) { () throws -> PrintJob in
                let job = try kiosk.database.reprint(id, target: try PrintService(kiosk: kiosk).target().description, at: kiosk.clock())
                try kiosk.database.audit(staff: staff.id, action: "print.reprint", detail: "job \(id) → \(job.id)", at: kiosk.clock())
                return job
            }
            return try await slipsPage(csrf: csrf, message: "重印 Reprint queued as job \(job.id)")
        } catch {
            return try await slipsPage(csrf: csrf, message: KioskError.describe(error), error: true, status: .badRequest)
        }
    }

    // MARK: Editing, legacy cards, the audit log

    @Sendable func editMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let kiosk = self.kiosk
        let desk = self.desk
        return try await memberAction(request, context: context) { staff, id, form in
            var born: Int?
            if let b = form["born"], !b.isEmpty {
                guard let year = Int(b) else { throw KioskError("没有保存 Nothing was saved: the year of birth is four digits, like 1948") }
                born = year
            }
            let typedPhone = (form["phone"] ?? "").filter { !$0.isWhitespace }
            let flags = Set(MemberFlag.allCases.filter { form["flag_" + $0.rawValue] != nil })
            guard let current = try kiosk.database.member(id) else { throw KioskError("no member \(id)") }
            do {
                _ = try desk.edit(
                    member: id, name: form["name"] ?? "", born: born, phone: typedPhone.isEmpty ? current.phone : typedPhone, flags: flags, staff: staff)
            } catch {
                throw KioskError("没有保存 Nothing was saved: \(KioskError.describe(error))")
            }
            return "已保存 Saved"
        }
    }

    @Sendable func legacyCard(_ request: Request, context: AppRequestContext) async throws -> Response {
        let desk = self.desk
        return try await memberAction(request, context: context) { staff, id, form in
            try desk.registerLegacyCard((form["number"] ?? "").trimmingCharacters(in: .whitespaces), member: id, staff: staff)
            return "旧证件已登记 Legacy card registered"
        }
    }

    @Sendable func auditPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (staff, _) = try await signedIn(request, context)
        guard staff.role == .admin else {
            return page(status: .forbidden, title: "仅限管理员 Admins only", body: "<p class=\"error\">操作记录仅限管理员查看。The audit log is for admins.</p><p><a href=\"/staff\">返回 Back</a></p>")
        }
        let kiosk = self.kiosk
        let entries = try await offload(on: Lane.staff) { try kiosk.database.auditLog(limit: 500) }
        var body = "<h1>操作记录 <small>Audit log</small></h1><p><a href=\"/staff\">返回 Back</a></p><table><thead><tr><th>时间 When (UTC)</th><th>员工 Who</th><th>操作 What</th><th>会员 Member</th><th>详情 Detail</th></tr></thead><tbody>"
        for e in entries {
            body += "<tr><td>\(ISOTime.format(e.at))</td><td>\(HTML.escape(e.staff ?? "—"))</td><td>\(HTML.escape(e.action))</td><td>\(e.member.map { $0.description } ?? "")</td><td>\(HTML.escape(e.detail))</td></tr>"
        }
        return page(title: "操作记录 Audit log", body: body + "</tbody></table>")
    }
}

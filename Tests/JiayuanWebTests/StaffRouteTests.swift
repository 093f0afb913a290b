import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiayuanCUPS
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Logging
import NIOCore
import Testing

@testable import JiayuanStore
@testable import JiayuanWeb

@Suite("Staff console", .blocking)
struct StaffRouteTests {
    func cookie(_ r: TestResponse, _ name: String) -> String? {
        for field in r.headers where field.name == .setCookie && field.value.hasPrefix(name + "=") {
            return String(field.value.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    func setCookieLine(_ r: TestResponse, _ name: String) -> String {
        r.headers.first { $0.name == .setCookie && $0.value.hasPrefix(name + "=") }?.value ?? ""
    }

    /// A staff account with this PIN.
    func addStaff(_ h: ServerHarness, _ name: String, _ role: StaffRole, pin: String = "204719") throws {
        var rng = SystemRandomNumberGenerator()
        _ = try h.kiosk.database.addStaff(name: name, role: role, pinHash: try PINHash.make(pin, using: &rng), by: nil, at: Date())
    }

    /// The console's own door for the harness's kiosk on a real loopback server (cookies and forms travel as
    /// in a browser).
    func liveApp(_ h: ServerHarness) -> some ApplicationProtocol {
        Application(router: consoleRouter(h), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func consoleRouter(_ h: ServerHarness) -> Router<ConsoleContext> {
        let service = try! CheckInService(kiosk: h.kiosk)
        return buildConsoleRouter(
            kiosk: h.kiosk, options: ConsoleOptions(host: "127.0.0.1", port: 0, assetsPath: ServeOptions.defaultAssetsPath()),
            reader: service.reader, desk: StaffDesk(service: service), logger: Logger(label: "test"))
    }

    /// A check-in at the lobby (the resident door is another listener; the kiosk's engine and log are the same).
    func lobby(_ h: ServerHarness, _ code: String, _ venue: String) throws -> Decision {
        try CheckInService(kiosk: h.kiosk).checkIn(code: code, venue: venue)
    }

    /// The CSRF token a staff page carries in its forms.
    func csrfToken(in html: String) -> String? {
        html.range(of: "name=\"csrf\" value=\"").map { String(html[$0.upperBound...].prefix(64)) }
    }

    func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(
            string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
                separator: "&"))
    }

    @Test("log in by name and PIN: HttpOnly SameSite=Strict cookies, CSRF on every form, forged cookies and missing tokens refused")
    func loginFlow() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "王芳", .admin)
        let app = liveApp(h)
        try await app.test(.live) { client in
            let first = try await client.execute(uri: "/staff", method: .get)
            #expect(first.status == .seeOther && first.headers[.location] == "/staff/login")
            let loginPage = try await client.execute(uri: "/staff/login", method: .get)
            #expect(loginPage.status == .ok)
            let loginToken = try #require(cookie(loginPage, "jy_login"))
            #expect(
                setCookieLine(loginPage, "jy_login").contains("HttpOnly")
                    && setCookieLine(loginPage, "jy_login").contains("SameSite=Strict"))
            #expect(String(buffer: loginPage.body).contains("name=\"csrf\" value=\"\(loginToken)\""))
            let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_login=\(loginToken)"]

            let noToken = try await client.execute(
                uri: "/staff/login", method: .post, headers: formHeaders, body: form(["name": "王芳", "pin": "204719"]))
            #expect(noToken.status == .forbidden, "a log-in form without its token is refused")
            let wrong = try await client.execute(
                uri: "/staff/login", method: .post, headers: formHeaders, body: form(["csrf": loginToken, "name": "王芳", "pin": "999999"]))
            let refusal = String(buffer: wrong.body)
            #expect(
                wrong.status == .unauthorized && refusal.contains("Wrong name or PIN") && !refusal.contains("tries left"),
                "no count of tries left")
            let ok = try await client.execute(
                uri: "/staff/login", method: .post, headers: formHeaders, body: form(["csrf": loginToken, "name": "王芳", "pin": "204719"]))
            #expect(ok.status == .seeOther && ok.headers[.location] == "/staff")
            let session = try #require(cookie(ok, "jy_staff"))
            #expect(setCookieLine(ok, "jy_staff").contains("HttpOnly") && setCookieLine(ok, "jy_staff").contains("SameSite=Strict"))

            let home = try await client.execute(uri: "/staff", method: .get, headers: [.cookie: "jy_staff=\(session)"])
            let html = String(buffer: home.body)
            #expect(home.status == .ok && html.contains("王芳") && html.contains("Inside now") && html.contains("Logged in"))
            let csrf = try #require(csrfToken(in: html))

            var forged = Array(session)
            forged[5] = forged[5] == "0" ? "1" : "0"
            let forgedHome = try await client.execute(uri: "/staff", method: .get, headers: [.cookie: "jy_staff=\(String(forged))"])
            #expect(forgedHome.status == .seeOther, "a forged session cookie gets the log-in page")

            let sessionForm: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            let noCSRF = try await client.execute(uri: "/staff/logout", method: .post, headers: sessionForm, body: form([:]))
            #expect(noCSRF.status == .forbidden, "a form without the session's CSRF token is refused")
            let out = try await client.execute(uri: "/staff/logout", method: .post, headers: sessionForm, body: form(["csrf": csrf]))
            #expect(out.status == .seeOther)
            let after = try await client.execute(uri: "/staff", method: .get, headers: [.cookie: "jy_staff=\(session)"])
            #expect(after.status == .seeOther, "the session ended")
        }
        #expect(try h.kiosk.database.auditLog().map(\.action).contains("staff.logout"))
    }

    @Test("two doors: /staff is 404 on the resident door; the resident door refuses any host but loopback")
    func twoDoors() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try await h.app.test(.router) { client in
            let login = try await client.execute(uri: "/staff/login", method: .get)
            let home = try await client.execute(uri: "/staff", method: .get)
            #expect(login.status == .notFound && home.status == .notFound)
        }
        #expect(KioskConfig.residentHostProblem("0.0.0.0") != nil && KioskConfig.residentHostProblem("192.168.1.20") != nil)
        #expect(KioskConfig.residentHostProblem("127.0.0.1") == nil && KioskConfig.residentHostProblem("localhost") == nil)
        let options = ServeOptions(host: "0.0.0.0", port: 0, assetsPath: ServeOptions.defaultAssetsPath(), scanners: false)
        #expect(throws: KioskError.self) { _ = try buildApplication(kiosk: h.kiosk, options: options, logger: Logger(label: "test")) }
    }

    /// Logs in through the pages and returns the session cookie.
    func logIn(_ client: any TestClientProtocol, name: String, pin: String) async throws -> String {
        let loginPage = try await client.execute(uri: "/staff/login", method: .get)
        let token = try #require(cookie(loginPage, "jy_login"))
        let ok = try await client.execute(
            uri: "/staff/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_login=\(token)"],
            body: form(["csrf": token, "name": name, "pin": pin]))
        return try #require(cookie(ok, "jy_staff"))
    }

    @Test("figures: visits per venue and group, check-ins per hour as an SVG chart, and a CSV for Excel (BOM, Chinese), audited")
    func figures() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        let app = liveApp(h)
        try await app.test(.live) { client in
            let anonymous = try await client.execute(uri: "/staff/figures", method: .get)
            #expect(anonymous.status == .seeOther)
            #expect(try lobby(h, h.card(.veteran).code, "veterans").accepted)
            let session = try await logIn(client, name: "李强", pin: "204719")
            let page = try await client.execute(
                uri: "/staff/figures?day=2026-11-28", method: .get, headers: [.cookie: "jy_staff=\(session)"])
            let html = String(buffer: page.body)
            #expect(
                page.status == .ok && html.contains("<svg role=\"img\"") && html.contains("<title>10:00 — 1</title>"),
                "check-in at 10:00 local")
            #expect(html.contains("Veteran") || html.contains("veteran"))
            let bad = try await client.execute(uri: "/staff/figures?day=yesterday", method: .get, headers: [.cookie: "jy_staff=\(session)"])
            #expect(bad.status == .badRequest)
            let csv = try await client.execute(
                uri: "/staff/figures.csv?day=2026-11-28", method: .get, headers: [.cookie: "jy_staff=\(session)"])
            let bytes = Array(csv.body.readableBytesView)
            #expect(csv.status == .ok && bytes.starts(with: [0xEF, 0xBB, 0xBF]), "UTF-8 with a byte-order mark for Excel")
            #expect(csv.headers[.contentDisposition]?.contains("jiayuan-2026-11-28.csv") == true)
            let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            #expect(text.contains("2026-11-28,veterans,") && text.contains(",visits,veteran,1\r\n"))
            #expect(text.contains("绿色双拥港") || text.unicodeScalars.contains { $0.value > 0x4E00 }, "Chinese intact")
        }
        #expect(try h.kiosk.database.auditLog().contains { $0.action == "figures.export" && $0.staff == "李强" && $0.detail == "2026-11-28" })
    }

    @Test("member search: a scanned card or an id opens the member; a name part or phone ending lists matches; phones stay masked")
    func memberSearch() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        let (member, card) = h.demo.first { $0.0.phone != nil }!
        let app = liveApp(h)
        try await app.test(.live) { client in
            let session = try await logIn(client, name: "李强", pin: "204719")
            let auth: HTTPFields = [.cookie: "jy_staff=\(session)"]
            func search(_ q: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/staff/members?q=" + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), method: .get,
                    headers: auth)
            }
            let scanned = try await search(card.code)
            #expect(
                scanned.status == .seeOther && scanned.headers[.location] == "/staff/members/\(member.id)",
                "a scan into the box finds the member")
            let byID = try await search(member.id.description)
            #expect(byID.headers[.location] == "/staff/members/\(member.id)")
            let tail = String(member.phone!.suffix(4))
            let byPhone = String(buffer: try await search(tail).body)
            #expect(byPhone.contains(member.id.description) && byPhone.contains("…" + tail) && !byPhone.contains(member.phone!))
            let byName = String(buffer: try await search(String(member.name.prefix(1))).body)
            #expect(byName.contains(HTML.escape(member.name)))
            let none = String(buffer: try await search("不存在的名字").body)
            #expect(none.contains("No member matches"))
            let detail = try await client.execute(uri: "/staff/members/\(member.id)", method: .get, headers: auth)
            #expect(detail.status == .ok && String(buffer: detail.body).contains(member.group.en))
            let missing = try await client.execute(uri: "/staff/members/M999998", method: .get, headers: auth)
            #expect(missing.status == .notFound)
            let anonymous = try await client.execute(uri: "/staff/members/\(member.id)", method: .get)
            #expect(anonymous.status == .seeOther, "no session, no personal data")
        }
    }

    @Test("the floor: check in and out on a member's behalf (via staff, audited), day-care fee with its receipt queued, mark paid once")
    func floor() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        let elder = h.demo.first { $0.0.group == .elder && !$0.0.flags.contains(.lowIncome) }!
        let visitor = h.demo.first { $0.0.group == .veteran }!
        // The elder arrived two hours ago (through the kiosk).
        _ = try CheckInService(kiosk: h.kiosk).checkIn(code: elder.1.code, venue: "daycare", at: Fixtures.at("2026-11-28 08:00"))
        let app = liveApp(h)
        try await app.test(.live) { client in
            let session = try await logIn(client, name: "李强", pin: "204719")
            let floorPage = String(
                buffer: try await client.execute(uri: "/staff/floor", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            #expect(floorPage.contains(elder.0.id.description) && floorPage.contains("08:00"), "who is inside, with the check-in time")
            let csrf = try #require(csrfToken(in: floorPage))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            func post(_ path: String, _ fields: [String: String]) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: headers, body: form(fields))
            }
            #expect(
                try await post("/staff/floor/checkin", ["member": visitor.0.id.description, "venue": "veterans"]).status == .forbidden,
                "no CSRF token")
            let visit = try await post("/staff/floor/checkin", ["csrf": csrf, "member": visitor.0.id.description, "venue": "veterans"])
            #expect(visit.status == .ok)
            let out = try await post("/staff/floor/checkin", ["csrf": csrf, "member": elder.0.id.description, "venue": "daycare"])
            let outText = String(buffer: out.body)
            #expect(out.status == .ok && outText.contains("fee ¥"), "\(outText.prefix(400))")
            let bad = try await post("/staff/floor/checkin", ["csrf": csrf, "member": "12345", "venue": "daycare"])
            #expect(bad.status == .badRequest)
            let fee = try #require(
                try h.kiosk.database.daycareFees(from: Fixtures.at("2026-11-28 00:00"), to: Fixtures.at("2026-11-29 00:00")).first)
            #expect(fee.member == elder.0.id && fee.amountFen > 0 && fee.paidAt == nil)
            #expect(try h.kiosk.database.printBacklog() > 0, "the fee receipt is queued for the printer")
            let paid = try await post("/staff/floor/paid", ["csrf": csrf, "seq": String(fee.checkoutSeq)])
            #expect(paid.status == .ok && String(buffer: paid.body).contains("marked paid"))
            let twice = try await post("/staff/floor/paid", ["csrf": csrf, "seq": String(fee.checkoutSeq)])
            #expect(twice.status == .badRequest && String(buffer: twice.body).contains("already marked paid"))
            // The member page lists the visits, newest first, in local time and words.
            let page = String(
                buffer: try await client.execute(
                    uri: "/staff/members/\(elder.0.id)", method: .get, headers: [.cookie: "jy_staff=\(session)"]
                )
                .body)
            let visits = try #require(page.range(of: "Visits, last 30 days")).upperBound
            let history = String(page[visits...])
            let leaving = try #require(history.range(of: "签出"), "the check-out by staff: \(history.prefix(600))")
            let came = try #require(history.range(of: "签到"))
            #expect(leaving.lowerBound < came.lowerBound, "newest first")
            #expect(history.contains("2026-11-28 08:00") && history.contains("by staff"))
        }
        let vias = try await h.kiosk.database.writer.read { try String.fetchAll($0, sql: "SELECT via FROM event ORDER BY seq") }
        #expect(vias == ["scan", "staff", "staff"], "desk actions are recorded as staff-assisted")
        let actions = try h.kiosk.database.auditLog().map(\.action)
        #expect(actions.contains("floor.checkin") && actions.contains("floor.checkout") && actions.contains("fee.paid"))
        #expect(try h.kiosk.database.auditLog().first { $0.action == "fee.paid" }?.member == elder.0.id)
    }

    @Test("a stopped printer is an alert in words with a button; the button starts the CUPS queue again (audited)")
    func printerResume() async throws {
        let cups = try PrivateCUPS.ownQueue("console-resume")
        try cups.setFailure(nil)
        let disabled = try Run.program("/usr/sbin/cupsdisable", ["-h", cups.server, cups.queue])
        try #require(disabled.status == 0, "cupsdisable: \(disabled.stderr)")
        let h = try ServerHarness(cups: (cups.queue, cups.server))
        defer {
            _ = try? Run.program("/usr/sbin/cupsenable", ["-h", cups.server, cups.queue])
            h.remove()
        }
        try addStaff(h, "李强", .desk)
        let client = CUPSClient(server: CUPSServer.parse(cups.server)!)
        try await liveApp(h).test(.live) { http in
            let session = try await logIn(http, name: "李强", pin: "204719")
            let home = String(buffer: try await http.execute(uri: "/staff", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            #expect(home.contains("打印机有问题") && home.contains("/staff/printer/resume"), "the alert and its button")
            let csrf = try #require(csrfToken(in: home))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            let forged = try await http.execute(uri: "/staff/printer/resume", method: .post, headers: headers, body: form([:]))
            #expect(forged.status == .forbidden, "no form token, no action")
            #expect(try await client.printerStatus(queue: cups.queue).state == .stopped)
            let resumed = try await http.execute(uri: "/staff/printer/resume", method: .post, headers: headers, body: form(["csrf": csrf]))
            #expect(resumed.status == .ok && String(buffer: resumed.body).contains("started again"), "\(resumed.status)")
            #expect(try await client.printerStatus(queue: cups.queue).state != .stopped, "the queue runs again")
            let after = String(buffer: try await http.execute(uri: "/staff", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            #expect(!after.contains("/staff/printer/resume"), "no button once the printer runs")
        }
        let entry = try #require(try h.kiosk.database.auditLog().first { $0.action == "print.resume" })
        #expect(entry.staff != nil && entry.detail.contains("stopped"))
    }

    @Test(
        "register a member (nothing half-saved on a mistake), re-issue and print the card (the old one stops working), deactivate; all audited"
    )
    func registerAndCards() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        let before = try h.kiosk.database.members().count
        let app = liveApp(h)
        try await app.test(.live) { client in
            let session = try await logIn(client, name: "李强", pin: "204719")
            let formPage = String(
                buffer: try await client.execute(uri: "/staff/members/new", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            let csrf = try #require(csrfToken(in: formPage))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            func post(_ path: String, _ fields: [String: String]) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: headers, body: form(fields))
            }
            let child = try await post("/staff/members/new", ["csrf": csrf, "name": "小明", "group": "child", "born": "2017"])
            #expect(child.status == .badRequest && String(buffer: child.body).contains("Nothing was saved"), "a child needs a guardian")
            let badYear = try await post("/staff/members/new", ["csrf": csrf, "name": "王秀英", "group": "elder", "born": "48"])
            #expect(badYear.status == .badRequest && String(buffer: badYear.body).contains("four digits"))
            #expect(try h.kiosk.database.members().count == before, "nothing half-saved")
            let ok = try await post(
                "/staff/members/new",
                ["csrf": csrf, "name": "王秀英", "group": "elder", "born": "1948", "phone": "13800001234", "flag_blind": "on"])
            #expect(ok.status == .seeOther)
            let location = try #require(ok.headers[.location])
            let id = try #require(MemberID(String(location.split(separator: "/").last!)))
            let m = try #require(try h.kiosk.database.member(id))
            #expect(m.name == "王秀英" && m.group == .elder && m.born == 1948 && m.flags == [.blind])

            let first = try await post("/staff/members/\(id)/card", ["csrf": csrf])
            #expect(first.status == .ok && String(buffer: first.body).contains("New card 1 issued"))
            let oldCode = try #require(try h.kiosk.database.cards(of: id).first?.code)
            let second = try await post("/staff/members/\(id)/card", ["csrf": csrf])
            #expect(String(buffer: second.body).contains("New card 2 issued"))
            let newCode = try #require(try h.kiosk.database.cards(of: id).first { !$0.revoked }?.code)
            #expect(newCode != oldCode)
            #expect(try h.kiosk.database.printJobs(documentNumber: id.description).count == 2, "each card is queued for the printer")
            #expect(try lobby(h, oldCode, "library").reason == .revoked)
            #expect(try lobby(h, newCode, "library").accepted)
            let off = try await post("/staff/members/\(id)/deactivate", ["csrf": csrf])
            #expect(off.status == .ok && String(buffer: off.body).contains("Deactivated"))
            #expect(try h.kiosk.database.member(id)?.active == false)
        }
        let actions = try h.kiosk.database.auditLog().filter { $0.staff == "李强" }.map(\.action)
        #expect(actions.contains("member.add") && actions.filter { $0 == "card.issue" }.count == 2 && actions.contains("member.deactivate"))
    }

    @Test("a wrong check-in is voided from the member's page with a reason: off the floor, out of the figures, audited; never another's")
    func correctFromMemberPage() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        let (member, card) = h.demo.first { $0.0.group == .elder }!
        let other = h.demo.first { $0.0.group == .resident }!.0
        let wrong = try lobby(h, card.code, "library")
        let seq = try #require(wrong.seq)
        #expect(wrong.accepted && wrong.direction == .in)
        let app = liveApp(h)
        try await app.test(.live) { client in
            let session = try await logIn(client, name: "李强", pin: "204719")
            let page = String(
                buffer: try await client.execute(
                    uri: "/staff/members/\(member.id)", method: .get, headers: [.cookie: "jy_staff=\(session)"]
                )
                .body)
            #expect(page.contains("name=\"seq\" value=\"\(seq)\""), "the check-in has its void form")
            let csrf = try #require(csrfToken(in: page))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            func post(_ path: String, _ fields: [String: String]) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: headers, body: form(fields))
            }
            let elsewhere = try await post("/staff/members/\(other.id)/correct", ["csrf": csrf, "seq": "\(seq)", "reason": "wrong person"])
            #expect(elsewhere.status == .badRequest && String(buffer: elsewhere.body).contains("is another member"))
            let noReason = try await post("/staff/members/\(member.id)/correct", ["csrf": csrf, "seq": "\(seq)", "reason": " "])
            #expect(noReason.status == .badRequest && String(buffer: noReason.body).contains("Give a reason"))
            let ok = try await post("/staff/members/\(member.id)/correct", ["csrf": csrf, "seq": "\(seq)", "reason": "选错场所 wrong venue"])
            let body = String(buffer: ok.body)
            #expect(ok.status == .ok && body.contains("voided") && body.contains("Taken off the floor"))
            #expect(body.contains("in (voided)") && !body.contains("name=\"seq\" value=\"\(seq)\""), "listed as voided, no second form")
            let twice = try await post("/staff/members/\(member.id)/correct", ["csrf": csrf, "seq": "\(seq)", "reason": "again"])
            #expect(twice.status == .badRequest && String(buffer: twice.body).contains("already voided"))
        }
        #expect(
            try h.kiosk.database.inside(venue: h.kiosk.venue("library"), at: h.kiosk.clock(), policy: h.kiosk.engine.policy).isEmpty)
        let today = h.kiosk.today()
        #expect(try h.kiosk.report(.day(today)).voided["library"] == 1)
        #expect(try h.kiosk.report(.day(today)).visits["library"] == nil)
        let audit = try h.kiosk.database.auditLog().filter { $0.action == "event.correct" }
        #expect(audit.count == 1 && audit.first?.staff == "李强" && audit.first?.member == member.id)
    }

    @Test("slips: preview records nothing, print takes the day's number and queues it, mistakes are explained, reprint; audited")
    func slips() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        let elder = h.demo.first { $0.0.group == .elder }!.0
        let app = liveApp(h)
        @Sendable func slipCount() throws -> Int {
            try h.kiosk.database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM service_slip") ?? -1 }
        }
        try await app.test(.live) { client in
            let session = try await logIn(client, name: "李强", pin: "204719")
            let pageText = String(
                buffer: try await client.execute(uri: "/staff/slips", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            let csrf = try #require(csrfToken(in: pageText))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            func post(_ path: String, _ fields: [String: String]) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: headers, body: form(fields))
            }
            let repair = ["csrf": csrf, "kind": "repair", "member": elder.id.description, "address": "幸福里3号楼201", "problem": "水龙头漏水"]
            let preview = try await post("/staff/slips", repair.merging(["action": "preview"]) { a, _ in a })
            let previewText = String(buffer: preview.body)
            #expect(preview.status == .ok && previewText.contains("预览 PREVIEW") && previewText.contains("水龙头漏水"))
            #expect(try slipCount() == 0, "a preview records nothing")
            let printed = try await post("/staff/slips", repair.merging(["action": "print"]) { a, _ in a })
            #expect(printed.status == .ok && String(buffer: printed.body).contains("went to the printer"))
            #expect(try slipCount() == 1)
            let missing = try await post(
                "/staff/slips",
                ["csrf": csrf, "kind": "repair", "member": elder.id.description, "address": "", "problem": "x", "action": "print"])
            #expect(missing.status == .badRequest && String(buffer: missing.body).contains("must not be empty"))
            let queue = try await post("/staff/slips", ["csrf": csrf, "kind": "queue", "service": "社保 Social security", "action": "print"])
            #expect(String(buffer: queue.body).contains("A001"))
            let job = try #require(try h.kiosk.database.printJobs(limit: 5).first)
            let again = try await post("/staff/prints/\(job.id)/reprint", ["csrf": csrf])
            #expect(again.status == .ok && String(buffer: again.body).contains("Reprint queued"))
        }
        let actions = try h.kiosk.database.auditLog().map(\.action)
        #expect(actions.contains("slip.repair") && actions.contains("slip.queue") && actions.contains("print.reprint"))
    }

    @Test("edit a member and register a legacy card (audited, bad input refused, nothing half-saved); the audit page is for admins only")
    func editLegacyAndRoles() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        try addStaff(h, "王芳", .admin, pin: "730512")
        let veteran = h.demo.first { $0.0.group == .veteran }!.0
        let app = liveApp(h)
        try await app.test(.live) { client in
            let desk = try await logIn(client, name: "李强", pin: "204719")
            let memberPage = String(
                buffer: try await client.execute(uri: "/staff/members/\(veteran.id)", method: .get, headers: [.cookie: "jy_staff=\(desk)"])
                    .body)
            let csrf = try #require(csrfToken(in: memberPage))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(desk)"]
            func post(_ path: String, _ fields: [String: String]) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: headers, body: form(fields))
            }
            let bad = try await post("/staff/members/\(veteran.id)/edit", ["csrf": csrf, "name": "", "born": "1950"])
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("Nothing was saved"))
            #expect(try h.kiosk.database.member(veteran.id)?.name == veteran.name)
            let ok = try await post(
                "/staff/members/\(veteran.id)/edit", ["csrf": csrf, "name": "张建国", "born": "1952", "flag_disabled": "on"])
            #expect(ok.status == .ok && String(buffer: ok.body).contains("Saved"))
            let edited = try #require(try h.kiosk.database.member(veteran.id))
            #expect(
                edited.name == "张建国" && edited.born == 1952 && edited.flags == [.disabled] && edited.phone == veteran.phone,
                "the phone is kept when left empty")
            let shortNumber = try await post("/staff/members/\(veteran.id)/legacy", ["csrf": csrf, "number": "12"])
            #expect(shortNumber.status == .badRequest)
            let legacy = try await post("/staff/members/\(veteran.id)/legacy", ["csrf": csrf, "number": "3701020042"])
            #expect(legacy.status == .ok && String(buffer: legacy.body).contains("Legacy card registered"))
            #expect(try lobby(h, "3701020042", "veterans").member?.id == veteran.id, "the legacy number now checks the veteran in")

            let deskAudit = try await client.execute(uri: "/staff/audit", method: .get, headers: [.cookie: "jy_staff=\(desk)"])
            #expect(deskAudit.status == .forbidden, "a desk account cannot read the audit log")
            let admin = try await logIn(client, name: "王芳", pin: "730512")
            let adminAudit = try await client.execute(uri: "/staff/audit", method: .get, headers: [.cookie: "jy_staff=\(admin)"])
            let text = String(buffer: adminAudit.body)
            #expect(
                adminAudit.status == .ok && text.contains("Edited a member") && text.contains("Registered a legacy card")
                    && text.contains("李强"))
            #expect(!text.contains("3701020042"), "the audit keeps only the end of a card number")
        }
    }

    @Test("the demo's staff account logs in; a child is handed over with the pickup slip scanned into the guardian-code field")
    func demoAccountAndPickup() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let child = h.demo.first { $0.0.group == .child }!
        let visit = try CheckInService(kiosk: h.kiosk).checkIn(code: child.1.code, venue: "kids", at: Fixtures.at("2026-11-28 09:00"))
        let code = try #require(visit.pickupCode)
        let app = liveApp(h)
        try await app.test(.live) { client in
            let session = try await logIn(client, name: DemoData.staffName, pin: DemoData.staffPIN)
            let floor = String(
                buffer: try await client.execute(uri: "/staff/floor", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            let csrf = try #require(csrfToken(in: floor))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            let without = try await client.execute(
                uri: "/staff/floor/checkin", method: .post, headers: headers,
                body: form(["csrf": csrf, "member": child.0.id.description, "venue": "kids"]))
            #expect(without.status == .conflict, "a child is not handed over without the guardian's code")
            let scanned = try await client.execute(
                uri: "/staff/floor/checkin", method: .post, headers: headers,
                body: form(["csrf": csrf, "member": child.0.id.description, "venue": "kids", "guardian_code": "JYK:" + code]))
            let text = String(buffer: scanned.body)
            #expect(scanned.status == .ok, "\(text[(text.range(of: "<main>")?.upperBound ?? text.startIndex)...].prefix(400))")
        }
        #expect(
            try h.kiosk.database.inside(venue: Fixtures.venue("kids"), at: Fixtures.at("2026-11-28 10:00"), policy: h.kiosk.config.policy)
                .isEmpty)
    }

    @Test(
        "no slip and no code: staff hand a child to a registered guardian after checking ID, with a reason, audited; never to anyone else"
    )
    func releaseWithoutCode() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try addStaff(h, "李强", .desk)
        let child = h.demo.first { $0.0.group == .child }!.0
        let card = try #require(try h.kiosk.database.cards(of: child.id).first { !$0.revoked })
        let guardian = try #require(child.guardians.first)
        let stranger = h.demo.first { $0.0.group == .resident && !child.guardians.contains($0.0.id) }!.0
        let visit = try CheckInService(kiosk: h.kiosk).checkIn(code: card.code, venue: "kids", at: Fixtures.at("2026-11-28 09:00"))
        #expect(visit.accepted && visit.pickupCode != nil)
        let app = liveApp(h)
        try await app.test(.live) { client in
            let session = try await logIn(client, name: "李强", pin: "204719")
            let floor = String(
                buffer: try await client.execute(uri: "/staff/floor", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            #expect(floor.contains("/staff/members/\(child.id)#release"), "the floor links a child inside to the release form")
            let page = String(
                buffer: try await client.execute(uri: "/staff/members/\(child.id)", method: .get, headers: [.cookie: "jy_staff=\(session)"])
                    .body)
            #expect(page.contains("action=\"/staff/members/\(child.id)/release\"") && page.contains("value=\"\(guardian)\""))
            #expect(!page.contains(visit.pickupCode!), "the code on record is never shown")
            let csrf = try #require(csrfToken(in: page))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            func release(_ adult: MemberID, _ reason: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/staff/members/\(child.id)/release", method: .post, headers: headers,
                    body: form(["csrf": csrf, "venue": "kids", "guardian": adult.description, "reason": reason]))
            }
            let toStranger = try await release(stranger.id, "says she is the aunt")
            #expect(toStranger.status == .badRequest && String(buffer: toStranger.body).contains("is not a registered guardian"))
            let noReason = try await release(guardian, "  ")
            #expect(noReason.status == .badRequest && String(buffer: noReason.body).contains("Say what happened"))
            #expect(
                try h.kiosk.database.inside(venue: Fixtures.venue("kids"), at: h.kiosk.clock(), policy: h.kiosk.config.policy).count == 1,
                "refused releases leave the child inside")
            let ok = try await release(guardian, "接送条丢失，已核对身份证 slip lost, ID card checked")
            #expect(ok.status == .ok && String(buffer: ok.body).contains("went home with guardian \(guardian)"))
        }
        #expect(try h.kiosk.database.inside(venue: Fixtures.venue("kids"), at: h.kiosk.clock(), policy: h.kiosk.config.policy).isEmpty)
        let last = try #require(try h.kiosk.database.lastEvent())
        #expect(last.direction == .out && last.via == .staff && last.member == child.id && last.outcome == .accepted)
        let audit = try h.kiosk.database.auditLog().filter { $0.action == "floor.release" }
        #expect(audit.count == 1 && audit[0].staff == "李强" && audit[0].detail.contains("to guardian \(guardian)"))
        #expect(audit[0].detail.contains("slip lost"))
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore
import JiayuanTestSupport
import Logging
import NIOCore
import Testing

@testable import JiayuanWeb

/// Hostile text in every place the console shows it: member names, a staff name, a slip's address, the
/// log-in name. Each page is rendered twice — with the hostile text and with a harmless twin of the same
/// shape (the dangerous characters swapped for letters) — and the two pages must have exactly the same
/// elements and attributes: nothing the templates did not write.
@Suite("Staff console: injections", .blocking)
struct ConsoleInjectionTests {
    /// The issue's attack: a quote followed by a combining mark (one Swift Character that is not `"`).
    static let combining = "\"\u{301} type=submit formaction=M000002/deactivate style=all:initial"
    static let hostileNames = [combining, "'\u{301}><img src=x onerror=alert(1)>", "</textarea><script>alert(1)</script>"]
    static let hostileStaff = "\"\u{301} onfocus=alert(1) autofocus x=\""
    static let hostileAddress = "\"\u{301}><b onclick=x>幸福里"

    /// The harmless twin: the same scalars, with the characters HTML cares about replaced by letters.
    static func twin(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { "\"'<>&".unicodeScalars.contains($0) ? "q" : $0 }))
    }

    struct Pages {
        var pages: [String: (HTTPResponse.Status, String)] = [:]
    }

    func render(hostile: Bool) async throws -> [String: (HTTPResponse.Status, String)] {
        let h = try ServerHarness()
        defer { h.remove() }
        let names = Self.hostileNames.map { hostile ? $0 : Self.twin($0) }
        let staffName = hostile ? Self.hostileStaff : Self.twin(Self.hostileStaff)
        var rng = SystemRandomNumberGenerator()
        _ = try h.kiosk.database.addStaff(
            name: staffName, role: .admin, pinHash: try PINHash.make("204719", rounds: 1000, using: &rng), by: nil, at: Date())
        let service = try CheckInService(kiosk: h.kiosk)
        var memberIDs: [MemberID] = []
        for name in names {
            let m = try h.kiosk.database.addMember(
                NewMember(name: name, group: .elder, born: 1950, phone: nil, flags: [], guardians: []), at: Date())
            memberIDs.append(m.id)
            let key = try h.kiosk.data.loadSigningKey()
            let card = try h.kiosk.database.issueCard(
                member: m.id, keyID: key.keyID, today: h.kiosk.today(), validityDays: 365, at: Date(), sign: key.sign)
            #expect(try service.checkIn(code: card.code, venue: "library").accepted)
        }
        let router = buildConsoleRouter(
            kiosk: h.kiosk, options: ConsoleOptions(host: "127.0.0.1", port: 0, assetsPath: ServeOptions.defaultAssetsPath()),
            reader: service.reader, desk: StaffDesk(service: service), logger: Logger(label: "test"))
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let ids = memberIDs
        final class Box: @unchecked Sendable { var pages: [String: (HTTPResponse.Status, String)] = [:] }
        let box = Box()
        try await app.test(.live) { client in
            var out: [String: (HTTPResponse.Status, String)] = [:]
            defer { box.pages = out }
            let loginPage = try await client.execute(uri: "/staff/login", method: .get)
            let loginToken = try #require(
                loginPage.headers[values: .setCookie].first { $0.hasPrefix("jy_login=") }.map { String($0.dropFirst(9).prefix(64)) })
            let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_login=\(loginToken)"]
            func encode(_ fields: [(String, String)]) -> ByteBuffer {
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                return ByteBuffer(
                    string: fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
            }
            let refused = try await client.execute(
                uri: "/staff/login", method: .post, headers: formHeaders,
                body: encode([("csrf", loginToken), ("name", staffName), ("pin", "000000")]))
            out["login refused"] = (refused.status, String(buffer: refused.body))
            let ok = try await client.execute(
                uri: "/staff/login", method: .post, headers: formHeaders,
                body: encode([("csrf", loginToken), ("name", staffName), ("pin", "204719")]))
            let session = try #require(
                ok.headers[values: .setCookie].first { $0.hasPrefix("jy_staff=") }.map { String($0.dropFirst(9).prefix(64)) })
            let cookie: HTTPFields = [.cookie: "jy_staff=\(session)"]
            func get(_ path: String) async throws -> (HTTPResponse.Status, String) {
                let r = try await client.execute(uri: path, method: .get, headers: cookie)
                return (r.status, String(buffer: r.body))
            }
            out["home"] = try await get("/staff")
            out["floor"] = try await get("/staff/floor")
            out["floor live"] = try await get("/staff/floor/live")
            out["search"] = try await get("/staff/members?q=" + names[0].addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            for (i, id) in ids.enumerated() { out["member \(i)"] = try await get("/staff/members/\(id)") }
            out["audit"] = try await get("/staff/audit")
            out["figures"] = try await get("/staff/figures")
            let csrf = try #require(
                out["home"]?.1.range(of: "name=\"csrf\" value=\"").map { String(out["home"]!.1[$0.upperBound...].prefix(64)) })
            let post: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            let register = try await client.execute(
                uri: "/staff/members/new", method: .post, headers: post,
                body: encode([("csrf", csrf), ("name", names[0]), ("group", "elder"), ("born", "19x8"), ("guardians", names[1])]))
            out["register refilled"] = (register.status, String(buffer: register.body))
            let address = hostile ? Self.hostileAddress : Self.twin(Self.hostileAddress)
            let slip = try await client.execute(
                uri: "/staff/slips", method: .post, headers: post,
                body: encode([
                    ("csrf", csrf), ("kind", "repair"), ("action", "preview"), ("member", ids[0].description), ("address", address),
                    ("problem", names[2]),
                ]))
            out["slip preview"] = (slip.status, String(buffer: slip.body))
            let floorBad = try await client.execute(
                uri: "/staff/floor/checkin", method: .post, headers: post,
                body: encode([("csrf", csrf), ("member", names[1]), ("venue", "gym")]))
            out["floor refilled"] = (floorBad.status, String(buffer: floorBad.body))
        }
        return box.pages
    }

    @Test("hostile names, addresses and log-in names add no element or attribute to any console page")
    func noInjectedMarkup() async throws {
        let hostile = try await render(hostile: true)
        let harmless = try await render(hostile: false)
        #expect(hostile.count == harmless.count && hostile.count >= 13)
        for (name, (status, html)) in hostile.sorted(by: { $0.key < $1.key }) {
            let (twinStatus, twinHTML) = try #require(harmless[name])
            #expect(status == twinStatus, "\(name): \(status) vs \(twinStatus)")
            let page = try await PageStructure.of(html)
            let twinPage = try await PageStructure.of(twinHTML)
            #expect(page.elements == twinPage.elements, "\(name): the hostile text changed the page's markup")
            #expect(
                !page.attributes.contains("formaction") && !page.attributes.contains("onerror") && !page.attributes.contains("onfocus"),
                "\(name)")
            #expect(!page.elements.contains { $0.first == "script" && $0.count == 1 }, "\(name): an inline script appeared")
        }
        // The hostile text is shown as text, intact.
        let member = try await PageStructure.of(try #require(hostile["member 0"]).1)
        #expect(member.text.contains(Self.combining))
        let audit = try await PageStructure.of(try #require(hostile["audit"]).1)
        #expect(audit.text.contains(Self.hostileStaff))
    }

    @Test("HTML.escape works on Unicode scalars: a quote followed by a combining mark is escaped")
    func escapeScalars() {
        #expect(HTML.escape("\"\u{301}") == "&quot;\u{301}")
        #expect(HTML.escape("a'\u{301}<\u{301}>&") == "a&#39;\u{301}&lt;\u{301}&gt;&amp;")
        #expect(HTML.escape("王秀英") == "王秀英")
    }

    @Test("every console template is loaded with the escaping content type in front")
    func templatesEscapeByDefault() throws {
        let views = ConsoleViews(directory: ServeOptions.defaultAssetsPath() + "/console/templates")
        struct Probe { let title = "\"\u{301}<x>"; let chrome: Chrome? = nil; let flash: Flash? = nil; let page = Empty() }
        let html = try views.render(Probe(), "message")
        #expect(html.contains("&quot;\u{301}&lt;x&gt;") && !html.contains("\"\u{301}<x>"))
    }

    @Test("CSV cells that a spreadsheet would run as formulas are neutralised")
    func csvFormulas() {
        #expect(ReportFormat.csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(
            ReportFormat.csvField("+1") == "'+1" && ReportFormat.csvField("-2") == "'-2" && ReportFormat.csvField("@SUM(A1)") == "'@SUM(A1)"
        )
        #expect(ReportFormat.csvField("\tx") == "'\tx" && ReportFormat.csvField("\rx") == "\"'\rx\"")
        #expect(ReportFormat.csvField("健身房") == "健身房" && ReportFormat.csvField("a,b") == "\"a,b\"")
    }
}

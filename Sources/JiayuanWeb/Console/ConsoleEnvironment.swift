import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore
import Logging
import NIOConcurrencyHelpers

/// What every console controller needs: the kiosk, staff sign-in, the desk's actions, the templates.
/// Each controller holds one and adds its own routes.
struct ConsoleEnvironment: Sendable {
    let kiosk: Kiosk
    let auth: StaffAuth
    let desk: StaffDesk
    /// Reads cards scanned into the console's boxes.
    let reader: ScanReader
    let views: ConsoleViews
    /// The server's log (never names or PINs).
    let logger: Logger
    /// Whether the console is served over HTTPS (cookies then carry `Secure`).
    let secure: Bool
    /// Sign-in attempts per address, counted before any PIN is hashed.
    let throttle: NIOLockedValueBox<SignInThrottle>

    /// The session cookie and the log-in form's double-submit cookie.
    static let sessionCookie = "jy_staff"
    static let loginCookie = "jy_login"

    /// A cookie for the console only: HttpOnly, SameSite=Strict, `Secure` over HTTPS.
    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/staff", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Runs blocking work (database, CUPS) on the console's own lane, never on the cooperative pool and
    /// never ahead of a check-in.
    func work<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await offload(on: Lane.staff, body)
    }

    /// A page: `template` rendered inside the layout with the navigation for `context`'s account.
    func page(
        _ template: String, title: String, context: ConsoleContext, status: HTTPResponse.Status = .ok, flash: Flash? = nil,
        headers extra: HTTPFields = [:], _ body: some Any
    ) throws -> Response {
        let chrome = context.staff.map { Chrome(staff: $0, csrf: context.csrf, current: template) }
        let html = try views.render(PageModel(title: title, chrome: chrome, flash: flash, page: body), template)
        var headers = ConsoleHeaders.html
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A redirect after a POST (or to the log-in page).
    func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        for c in cookies { response.setCookie(c) }
        return response
    }

    /// Local wall-clock time of `date` in the kiosk's zone (`14:05`).
    func clock(_ date: Date) -> String { clockTime(date, kiosk.config.timeZone) }

    /// Local date and time (`2026-11-29 14:05`).
    func localTime(_ date: Date) -> String { wallClock(date, kiosk.config.timeZone) }
}

/// One page as the templates see it.
struct PageModel<Body> {
    let title: String
    /// The navigation bar and scan box (nil on the log-in page).
    let chrome: Chrome?
    let flash: Flash?
    let page: Body
}

/// A one-line message at the top of a page.
struct Flash: Sendable {
    let text: String
    /// Errors are read out at once (`role="alert"`), other messages politely (`role="status"`).
    let error: Bool

    static func ok(_ text: String) -> Flash { Flash(text: text, error: false) }
    static func error(_ text: String) -> Flash { Flash(text: text, error: true) }
}

/// The persistent navigation, the scan box and the account.
struct Chrome {
    struct Item {
        let href: String
        let zh: String
        let en: String
        let key: String
        let current: Bool
    }
    let name: String
    let role: String
    let csrf: String
    let nav: [Item]

    init(staff: StaffAccount, csrf: String, current template: String) {
        name = staff.name
        role = staff.role == .admin ? "管理员 Admin" : "前台 Desk"
        self.csrf = csrf
        var items: [(String, String, String, String)] = [
            ("/staff", "首页", "Home", "home"), ("/staff/floor", "现场", "Floor", "floor"), ("/staff/members", "会员", "Members", "member"),
            ("/staff/members/new", "登记", "Register", "register"), ("/staff/slips", "单据", "Slips", "slips"),
            ("/staff/figures", "统计", "Figures", "figures"),
        ]
        if staff.role == .admin { items.append(("/staff/audit", "记录", "Audit", "audit")) }
        let area = Chrome.area(template)
        nav = items.map { Item(href: $0.0, zh: $0.1, en: $0.2, key: $0.3, current: $0.3 == area) }
    }

    /// Which navigation item a template belongs to.
    static func area(_ template: String) -> String {
        switch template {
        case "members", "member": "member"
        default: template
        }
    }
}

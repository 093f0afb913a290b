import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk

/// Log-in and log-out. A per-address throttle runs before any PIN is hashed; every refusal has the same
/// words and costs the same work whether the name exists or not; PINs are hashed on their own lane, so a
/// log-in storm never delays anyone's pages.
struct SignInController: Sendable {
    let env: ConsoleEnvironment

    func addRoutes(to staff: RouterGroup<ConsoleContext>) {
        staff.get("login", use: loginPage)
        staff.post("login", use: login)
    }

    func addSessionRoutes(to group: RouterGroup<ConsoleContext>) {
        group.post("logout", use: logout)
    }

    @Sendable func loginPage(_ request: Request, context: ConsoleContext) async throws -> Response {
        var rng = SystemRandomNumberGenerator()
        let token = StaffAuth.randomToken(using: &rng)
        var response = try env.page("login", title: "员工登录 Staff log-in", context: context, LoginPage(csrf: token, name: ""))
        response.setCookie(env.cookie(ConsoleEnvironment.loginCookie, token, maxAge: 1800))
        return response
    }

    @Sendable func login(_ request: Request, context: ConsoleContext) async throws -> Response {
        // The throttle first: a storm from one computer costs a dictionary look-up, not a PIN hash.
        let address = context.sourceAddress
        let now = env.kiosk.clock()
        if case .throttled(let seconds) = env.throttle.withLockedValue({ $0.admit(address, at: now) }) {
            throw ConsoleError.throttled(retryAfter: seconds)
        }
        let form = try await decodeForm(LoginForm.self, request, context)
        // The log-in form's own token: the cookie and the field must match (double submit).
        guard let expected = request.cookies[ConsoleEnvironment.loginCookie]?.value, expected.utf8.count == 64,
            StaffAuth.csrfMatches(form.csrf, expected)
        else { throw ConsoleError.formTokenMissing }
        let name = String(form.name.trimmed.prefix(64))
        let pin = String((form.pin ?? "").prefix(64))
        let auth = env.auth
        do {
            let session = try await offload(on: Lane.pin) { try auth.login(name: name, pin: pin, source: address) }
            return env.redirect(
                "/staff",
                cookies: [
                    env.cookie(ConsoleEnvironment.sessionCookie, session.token), env.cookie(ConsoleEnvironment.loginCookie, "", maxAge: 0),
                ])
        } catch let refused as StaffAuth.LoginRefused {
            if refused.lockedNow {
                env.logger.warning(
                    "staff sign-in locked for one computer after wrong PINs",
                    metadata: ["staff.source": "\(address)", "staff.locked_until": "\(refused.lockedUntil.map(ISOTime.format) ?? "-")"])
            }
            return try env.page(
                "login", title: "员工登录 Staff log-in", context: context, status: .unauthorized, flash: .error(refused.message),
                LoginPage(csrf: expected, name: name))
        }
    }

    @Sendable func logout(_ request: Request, context: ConsoleContext) async throws -> Response {
        let auth = env.auth
        if let token = context.sessionToken { try await env.work { try auth.logout(token: token) } }
        return env.redirect("/staff/login", cookies: [env.cookie(ConsoleEnvironment.sessionCookie, "", maxAge: 0)])
    }
}

/// The log-in form.
struct LoginPage {
    let csrf: String
    let name: String
}

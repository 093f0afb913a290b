import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import Logging

/// Turns every error a console route throws into a page in plain words: refusals with their status, a
/// form that cannot be read as 400, and anything unexpected as 500 (logged). The process never dies and
/// a stranger's garbage never becomes a 5xx.
struct ConsoleErrorMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let env: ConsoleEnvironment

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ConsoleError {
            return try refusal(error, context: context)
        } catch is DecodingError {
            return try refusal(.unreadableForm, context: context)
        } catch is URLEncodedFormError {
            return try refusal(.unreadableForm, context: context)
        } catch let error as HTTPResponseError {
            let status = error.status
            let text =
                switch status {
                case .notFound: "没有这个页面。There is no such page."
                case .contentTooLarge: "表单太大。The form is too large."
                case .methodNotAllowed: "不能这样打开这个页面。This page cannot be opened that way."
                default: "请求有误。The request could not be handled."
                }
            if status.code >= 500 { env.logger.error("console request failed", metadata: ["http.status": "\(status.code)"]) }
            return try env.page("message", title: "\(status.code)", context: context, status: status, flash: .error(text), Empty())
        } catch {
            env.logger.error("console request failed", metadata: ["error": "\(KioskError.describe(error))"])
            return try env.page(
                "message", title: "出错了 Something went wrong", context: context, status: .internalServerError,
                flash: .error("出错了，请重试；仍不行请联系管理员。Something went wrong: try again, or tell the administrator."), Empty())
        }
    }

    func refusal(_ error: ConsoleError, context: Context) throws -> Response {
        switch error {
        case .signInRequired:
            return env.redirect("/staff/login")
        case .formTokenMissing:
            return try env.page(
                "message", title: "请重试 Try again", context: context, status: .forbidden,
                flash: .error("表单已过期或不完整，请重新打开页面再提交。The form has expired or is incomplete: open the page again and resend it."), Empty())
        case .unreadableForm:
            return try env.page(
                "message", title: "表单有误 Unreadable form", context: context, status: .badRequest,
                flash: .error("表单无法读取，请重新打开页面填写。The form could not be read: open the page again and fill it in."), Empty())
        case .notFound:
            return try env.page(
                "message", title: "没有找到 Not found", context: context, status: .notFound, flash: .error("没有找到。Not found."), Empty())
        case .adminsOnly:
            return try env.page(
                "message", title: "仅限管理员 Admins only", context: context, status: .forbidden,
                flash: .error("这一页只有管理员可以看。This page is for admins."), Empty())
        case .throttled(let seconds):
            return try env.page(
                "login", title: "员工登录 Staff log-in", context: context, status: .tooManyRequests,
                flash: .error(
                    "这台电脑尝试登录次数太多，请 \(seconds) 秒后再试。Too many log-in attempts from this computer: try again in \(seconds) seconds."),
                headers: [.retryAfter: String(seconds)], LoginPage(csrf: "", name: ""))
        }
    }
}

/// Lets a request through only with a live staff session, and puts the account in the context; any other
/// request is sent to the log-in page. One middleware on the staff route group, not a check per handler.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let env: ConsoleEnvironment

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[ConsoleEnvironment.sessionCookie]?.value, token.utf8.count == 64 else {
            throw ConsoleError.signInRequired
        }
        let auth = env.auth
        guard let (staff, csrf) = try await env.work({ try auth.session(token: token) }) else { throw ConsoleError.signInRequired }
        var context = context
        context.staff = staff
        context.csrf = csrf
        context.sessionToken = token
        return try await next(request, context)
    }
}

/// Every POST behind the session carries the session's form token (`csrf`), compared in constant time
/// before the handler runs. The body is read once here and kept for the handler's own decoding.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        var request = request
        _ = try await request.collectBody(upTo: context.maxUploadSize)
        let token = try? await URLEncodedFormDecoder().decode(TokenField.self, from: request, context: context)
        guard StaffAuth.csrfMatches(token?.csrf, context.csrf), !context.csrf.isEmpty else { throw ConsoleError.formTokenMissing }
        return try await next(request, context)
    }

    struct TokenField: Decodable { let csrf: String? }
}

/// A template with nothing of its own to show.
struct Empty {}

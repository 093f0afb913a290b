import Foundation
import Hummingbird
import JiayuanKiosk

/// The audit log, for admins: every staff action in local time and words.
struct AuditController: Sendable {
    let env: ConsoleEnvironment

    func addRoutes(to group: RouterGroup<ConsoleContext>) {
        group.get("audit", use: audit)
    }

    @Sendable func audit(_ request: Request, context: ConsoleContext) async throws -> Response {
        guard try context.account.role == .admin else { throw ConsoleError.adminsOnly }
        let env = self.env
        let rows = try await env.work { try env.kiosk.database.auditLog(limit: 500).map { AuditRow($0, env: env) } }
        return try env.page("audit", title: "操作记录 Audit log", context: context, AuditPage(rows: rows, zone: env.kiosk.config.timeZoneName))
    }
}

/// The audit page.
struct AuditPage {
    let rows: [AuditRow]
    let zone: String
}

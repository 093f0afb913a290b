import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

extension FloorLive {
    /// One open drop-off on the floor page: who brought which children, when; one button checks them all out.
    struct Household {
        struct Child {
            let member: String
            let name: String
        }
        let id: Int64
        let venue: String
        let guardian: String
        let guardianName: String
        let since: String
        let children: [Child]
        let csrf: String

        /// The open drop-offs at every guardian-code venue, oldest first (children's full names: staff only).
        static func load(_ env: ConsoleEnvironment, csrf: String, at now: Date) throws -> [Household] {
            let kiosk = env.kiosk
            return try kiosk.database.openDropOffs(venues: kiosk.config.venues, at: now, policy: kiosk.config.policy).map { d in
                let children = try d.children.map { id in Child(member: id.description, name: try kiosk.database.member(id)?.name ?? "") }
                let guardian = try kiosk.database.member(d.guardian)
                return Household(
                    id: d.id, venue: d.venue, guardian: d.guardian.description, guardianName: guardian?.name ?? d.guardianName,
                    since: env.clock(d.at), children: children, csrf: csrf)
            }
        }
    }
}

/// `/staff/floor/household`.
struct HouseholdForm: Decodable, Sendable {
    var dropoff: String?
    var guardian_code: String?
}

extension FloorController {
    /// Checks a drop-off's children out on the guardian's behalf, with the guardian's code; audited.
    @Sendable func collectHousehold(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        let form = try await decodeForm(HouseholdForm.self, request, context)
        guard let id = Int64(form.dropoff.trimmed) else {
            return try await floorPage(context: context, status: .badRequest, flash: .error("没有接送编号。No drop-off number."))
        }
        let code = form.guardian_code.trimmed
        let env = self.env
        do {
            let household = try await env.work { try env.desk.collectHousehold(dropoff: id, guardianCode: code, staff: staff) }
            let out = household.moved
            guard !out.isEmpty else {
                let first = household.decisions.first?.message
                return try await floorPage(
                    context: context, status: .conflict,
                    flash: .error("接送码不对，没有孩子签出。Wrong code: no child checked out. \(first?.zh ?? "")"))
            }
            let ids = out.compactMap { $0.member?.id.description }.joined(separator: ", ")
            return try await floorPage(context: context, flash: .ok("已签出 \(out.count) 位孩子 \(out.count) checked out: \(ids)"))
        } catch {
            return try await floorPage(context: context, status: .badRequest, flash: .error(KioskError.describe(error)))
        }
    }
}

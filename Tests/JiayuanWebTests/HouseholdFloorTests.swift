import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Testing

@testable import JiayuanStore
@testable import JiayuanWeb

/// The staff floor page with household drop-offs (issue 16).
@Suite("Staff console: households on the floor", .blocking)
struct HouseholdFloorTests {
    @Test(
        "the floor groups the club's children by drop-off; staff check the household out with the guardian's code (staff events, audited)")
    func floorGroupsAndChecksOut() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let console = StaffRouteTests()
        try console.addStaff(h, "李强", .desk)
        var family: (guardian: Member, card: IssuedCard, children: [MemberID])?
        for (m, card) in h.demo where m.group != .child && m.active {
            let wards = h.demo.filter { $0.0.guardians.contains(m.id) && $0.0.active }.map(\.0.id)
            if wards.count >= 2 {
                family = (m, card, wards)
                break
            }
        }
        let (guardian, card, children) = try #require(family, "the demo has a guardian of two children")
        let service = try CheckInService(kiosk: h.kiosk)
        guard
            case .decided(let dropped)? = try service.household(
                code: card.code, venue: "kids", children: .all, at: Fixtures.at("2026-11-28 09:00"))
        else { throw KioskError("no drop-off") }
        let code = try #require(dropped.pickupCode)
        let dropoff = try #require(
            try h.kiosk.database.openDropOffs(venues: h.kiosk.config.venues, at: h.kiosk.clock(), policy: h.kiosk.config.policy).first)

        try await console.liveApp(h).test(.live) { client in
            let session = try await console.logIn(client, name: "李强", pin: "204719")
            let page = String(
                buffer: try await client.execute(uri: "/staff/floor", method: .get, headers: [.cookie: "jy_staff=\(session)"]).body)
            let block = try #require(page.range(of: "id=\"dropoff-\(dropoff.id)\""), "the drop-off is on the floor page")
            let group = String(page[block.lowerBound...].prefix(2000))
            #expect(group.contains(guardian.id.description) && children.allSatisfy { group.contains($0.description) })
            let csrf = try #require(console.csrfToken(in: page))
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "jy_staff=\(session)"]
            func post(_ fields: [String: String]) async throws -> TestResponse {
                try await client.execute(uri: "/staff/floor/household", method: .post, headers: headers, body: console.form(fields))
            }
            #expect(try await post(["dropoff": "\(dropoff.id)", "guardian_code": code]).status == .forbidden, "no CSRF token")
            let wrong = try await post(["csrf": csrf, "dropoff": "\(dropoff.id)", "guardian_code": "AAAAAA"])
            #expect(wrong.status == .conflict)
            #expect(
                try h.kiosk.database.openDropOffs(venues: h.kiosk.config.venues, at: h.kiosk.clock(), policy: h.kiosk.config.policy).count
                    == 1)
            let out = try await post(["csrf": csrf, "dropoff": "\(dropoff.id)", "guardian_code": "JYK:" + code])
            #expect(out.status == .ok, "\(String(buffer: out.body).prefix(300))")
            #expect(!String(buffer: out.body).contains("id=\"dropoff-\(dropoff.id)\""), "the drop-off is gone from the floor")
        }
        let vias = try await h.kiosk.database.writer.read {
            try String.fetchAll($0, sql: "SELECT via FROM event WHERE direction = 'out' AND outcome = 'accepted'")
        }
        #expect(vias == children.map { _ in "staff" })
        let audit = try h.kiosk.database.auditLog().filter { $0.action == "floor.household_checkout" }
        #expect(audit.count == 2, "the wrong code and the check-out, each audited")
        #expect(audit.allSatisfy { $0.member == guardian.id })
        let checkout = audit.first { $0.detail.hasPrefix("out ") }?.detail ?? ""
        #expect(checkout.contains("drop-off \(dropoff.id)") && children.allSatisfy { checkout.contains($0.description) }, "\(checkout)")
    }
}

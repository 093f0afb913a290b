import Foundation
import JiayuanDomain
import JiayuanStore

/// What front-desk staff do on a member's behalf, through the same check-in engine as the kiosk: recorded
/// as staff-assisted (`via: staff`) and audited with who did it.
public struct StaffDesk: Sendable {
    public let service: CheckInService

    /// A desk over a check-in service.
    public init(service: CheckInService) { self.service = service }

    var kiosk: Kiosk { service.kiosk }

    /// Checks a member in or out (the venue's toggle rule decides) with their current card; a child's
    /// check-out needs the guardian's code. Receipts follow the venue's settings (a day-care fee receipt
    /// on a day-care check-out).
    public func checkInOnBehalf(member id: MemberID, venue: String, guardianCode: String?, staff: StaffAccount) throws -> Decision {
        guard let card = try kiosk.database.cards(of: id).first(where: { !$0.revoked }) else {
            throw KioskError("\(id) has no valid card: issue one first (the desk checks members in with their current card)")
        }
        let decision = try service.checkIn(
            code: card.code, venue: venue, guardianCode: guardianCode?.isEmpty == true ? nil : guardianCode, via: .staff,
            receipts: CheckInService.Receipts(requested: true))
        let what = decision.accepted ? "\(decision.direction.rawValue) \(venue)" : "denied \(venue): \(decision.reason?.rawValue ?? "")"
        try kiosk.database.audit(staff: staff.id, action: "floor.\(decision.direction == .out ? "checkout" : "checkin")", member: id, detail: what, at: kiosk.clock())
        return decision
    }
}
